/**
 * The `lockstep` CLI (S23): for IT admins and vendors, and the headless way to run everything. Every command takes
 * --json and then prints exactly one JSON document on stdout; failures exit non-zero with {"error":{code,message}}.
 */
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { LockstepError, toLockstepError } from '../contract/errors';
import { Host } from '../engine/compose/host';
import { KeytarSecretStore, SecretStore } from '../engine/secrets';
import { Workstation, openWorkstation } from '../engine/workstation';
import { Command, CommandContext, CommandOutput } from './command';
import { COMMANDS } from './commands';
import { ConfigSource, cliLocale, explainMissingConfig, humanErrorText } from './errorText';
import { DEFAULT_CONFIG_FILE, defaultLogDir } from './paths';

export interface CliIo {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  secrets?: SecretStore;
}

const GLOBAL_OPTIONS = {
  json: { type: 'boolean' },
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function findCommand(argv: string[]): { command: Command; rest: string[] } | null {
  const words = argv.filter((a) => !a.startsWith('-'));
  for (const c of COMMANDS) {
    const parts = c.name.split(' ');
    if (parts.every((p, i) => words[i] === p)) {
      const rest = [...argv];
      for (const p of parts) rest.splice(rest.indexOf(p), 1);
      return { command: c, rest };
    }
  }
  return null;
}

function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'lockstep — updater for workstations that share one SQL database',
    '',
    'Usage: lockstep <command> [options] [--config FILE] [--json]',
    '',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    `--config defaults to $LOCKSTEP_CONFIG, then ./${DEFAULT_CONFIG_FILE}. --json prints one JSON document.`,
  ].join('\n');
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString('utf8');
}

export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const json = argv.includes('--json');
  const found = findCommand(argv);
  if (!found) {
    if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
      io.stdout(helpText() + '\n');
      return argv.length === 0 ? 2 : 0;
    }
    return fail(io, json, new LockstepError('E_USAGE', `Unknown command: ${argv.filter((a) => !a.startsWith('-')).join(' ') || '(none)'}. See lockstep --help.`));
  }
  const { command, rest } = found;
  let opened: Workstation | null = null;
  let config: { path: string; source: ConfigSource } | null = null;
  try {
    const { values, positionals } = parseArgsOrUsage(command, rest);
    if (values['help']) {
      io.stdout(`${command.usage}\n  ${command.summary}\n`);
      return 0;
    }
    const [min, max] = command.positionals ?? [0, 0];
    if (positionals.length < min || positionals.length > max) throw new LockstepError('E_USAGE', `Usage: ${command.usage}`);
    const configPath = path.resolve(String(values['config'] ?? io.env['LOCKSTEP_CONFIG'] ?? DEFAULT_CONFIG_FILE));
    config = { path: configPath, source: values['config'] !== undefined ? '--config' : io.env['LOCKSTEP_CONFIG'] !== undefined ? 'LOCKSTEP_CONFIG' : 'default' };
    // The CLI's entry chooses the platform, the log folder and the keychain once, for every command.
    const host: Host = { platform: process.platform, defaultLogDir: defaultLogDir(process.platform, io.env), secrets: io.secrets ?? new KeytarSecretStore() };
    const ctx: CommandContext = {
      positionals,
      values,
      json,
      configPath,
      host,
      async workstation(options = {}) {
        if (!opened) opened = await openWorkstation(configPath, { host, migrate: options.migrate });
        return opened;
      },
      readStdin: () => readAll(io.stdin),
      progress: (line) => {
        if (!json) io.stderr(line + '\n');
      },
    };
    const out: CommandOutput = await command.run(ctx);
    io.stdout((json ? JSON.stringify(out.json) : out.text) + '\n');
    return out.exitCode ?? 0;
  } catch (err) {
    const e = config ? explainMissingConfig(toLockstepError(err), config.path, config.source) : toLockstepError(err);
    (opened as Workstation | null)?.log.error('cli.failed', { command: command.name, code: e.code, message: e.message });
    return fail(io, json, e);
  } finally {
    await (opened as Workstation | null)?.close().catch(() => undefined);
  }
}

function parseArgsOrUsage(command: Command, rest: string[]) {
  try {
    return parseArgs({ args: rest, options: { ...GLOBAL_OPTIONS, ...(command.options ?? {}) }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new LockstepError('E_USAGE', `${(err as Error).message}\nUsage: ${command.usage}`);
  }
}

function fail(io: CliIo, json: boolean, e: LockstepError): number {
  if (json) io.stdout(JSON.stringify({ error: e.toInfo() }) + '\n');
  else io.stderr(humanErrorText(e, cliLocale(io.env)));
  return e.code === 'E_USAGE' ? 2 : 1;
}
