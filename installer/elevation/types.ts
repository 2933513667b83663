/**
 * Elevation, one module per OS (win32.ts | darwin.ts | linux.ts), each with process spawning injected. An elevator
 * runs exactly one command — the privileged helper with a request file — with rights, and says whether a failure
 * was a refused elevation. Credentials, where Lockstep asks for them itself (Linux without polkit), are Buffers that
 * are zeroed after use and only ever written to the child's standard input or pseudo-terminal.
 */
import { SpawnResult } from '../spawn';

export interface Credentials {
  /** The account with rights (user name). */
  account: string;
  password: Buffer;
}

/** The credentials dialog (Electron window) or standard input (CLI). null: the user cancelled. */
export type CredentialsPrompt = (request: { account: string; reason: string }) => Promise<Credentials | null>;

export interface PrivilegedCommand {
  command: string;
  args: string[];
  /** Variables the command needs (macOS: ELECTRON_RUN_AS_NODE); never secrets. */
  env?: Record<string, string>;
}

export interface Elevator {
  /** How it elevates, for logs and the UI (e.g. "sudo", "pkexec", "uac", "macos-authorization"). */
  readonly method: string;
  /** Runs the command with rights. Throws E_ELEVATION_DENIED when the user cancels or the rights are refused. */
  run(command: PrivilegedCommand): Promise<SpawnResult>;
  /**
   * Runs the command with rights only when that needs nobody to answer a prompt (IT allowed exactly this command
   * without a password); null when it would have to ask, so the caller decides whether asking is worth it. Absent
   * where every elevation asks (UAC, the macOS authorization prompt).
   */
  runWithoutPrompt?(command: PrivilegedCommand): Promise<SpawnResult | null>;
}

/** Zeroes a secret buffer (and any copies made for writing it). */
export function wipe(...buffers: Array<Buffer | null | undefined>): void {
  for (const b of buffers) b?.fill(0);
}

/** POSIX shell quoting: one argument, single-quoted. */
export function shQuote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}
