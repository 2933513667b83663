/** The shape of one CLI command: its own file under cli/commands, registered in cli/commands/index.ts. */
import type { ParseArgsConfig } from 'node:util';
import type { Workstation } from '../engine/workstation';
import type { Host } from '../engine/compose/host';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;

export interface CommandContext {
  positionals: string[];
  values: Record<string, string | boolean | string[] | boolean[] | undefined>;
  json: boolean;
  /** The machine configuration file (--config, LOCKSTEP_CONFIG, or ./lockstep.machine.json). */
  configPath: string;
  /** The platform, log folder and keychain, chosen once by the CLI's entry (runCli). */
  host: Host;
  /** Opens the workstation described by the configuration (database, stores, gate); closed by the runner. */
  workstation(options?: { migrate?: boolean }): Promise<Workstation>;
  /** Reads all of standard input (secrets are passed this way, never as arguments). */
  readStdin(): Promise<string>;
  /** Progress lines for long work: to stderr, so --json stdout stays one document. */
  progress(line: string): void;
}

export interface CommandOutput {
  /** The one JSON document printed with --json. */
  json: unknown;
  /** What a person reads without --json. */
  text: string;
  /** Non-zero exit without an error (e.g. the gate blocks). */
  exitCode?: number;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  options?: OptionSpec;
  /** How many positional arguments, at least and at most. */
  positionals?: [number, number];
  run(ctx: CommandContext): Promise<CommandOutput>;
}
