/**
 * macOS elevation: the system authorization prompt, through `osascript … with administrator privileges`. It runs the
 * privileged helper, which copies the new .app into /Applications (Squirrel.Mac cannot update an app the user cannot
 * write). macOS shows its own dialog; Lockstep never sees the password.
 *
 * Proven here only as argument building and decision logic with injected spawning: the prompt needs macOS.
 */
import { LockstepError } from '../../contract/errors';
import { Spawner, SpawnResult } from '../spawn';
import { Elevator, PrivilegedCommand, shQuote } from './types';

/** AppleScript string literal: backslashes and double quotes escaped. */
export function appleScriptString(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The shell line (env prefix for ELECTRON_RUN_AS_NODE, every argument single-quoted) inside `do shell script`. */
export function shellLine(cmd: PrivilegedCommand): string {
  const env = Object.entries(cmd.env ?? {}).map(([k, v]) => `${k}=${shQuote(v)}`);
  return [...env, shQuote(cmd.command), ...cmd.args.map(shQuote)].join(' ');
}

export function osascriptInvocation(cmd: PrivilegedCommand, prompt: string): { command: string; args: string[] } {
  const script = `do shell script ${appleScriptString(shellLine(cmd))} with prompt ${appleScriptString(prompt)} with administrator privileges`;
  return { command: '/usr/bin/osascript', args: ['-e', script] };
}

/** osascript exits 1 with "User canceled. (-128)" when the dialog is dismissed. */
export function authorizationDenied(r: SpawnResult): boolean {
  return r.code !== 0 && /\(-128\)|User canceled|\(-60005\)|\(-60007\)/.test(r.stderr);
}

export class DarwinElevator implements Elevator {
  readonly method = 'macos-authorization';

  constructor(
    private readonly spawner: Spawner,
    private readonly prompt = 'Lockstep needs your permission to install the update.',
  ) {}

  async run(cmd: PrivilegedCommand): Promise<SpawnResult> {
    const r = await this.spawner(osascriptInvocation(cmd, this.prompt));
    if (authorizationDenied(r)) throw new LockstepError('E_ELEVATION_DENIED', 'The macOS authorization prompt was cancelled: the update was not installed.', { method: 'macos-authorization' });
    return r;
  }
}
