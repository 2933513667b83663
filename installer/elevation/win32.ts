/**
 * Windows elevation through UAC with electron-updater's own launcher: `elevate.exe` from the app's resources (the
 * file NsisUpdater starts for per-machine installs). UAC shows the system prompt; a standard user types the
 * credentials of an account with rights there — Lockstep never sees them. The elevated process is the app itself
 * with `--lockstep-privileged-apply` (an elevated process gets a fresh environment, so ELECTRON_RUN_AS_NODE would be
 * lost): main.ts hands that argument to runPrivilegedMain before anything else starts.
 *
 * Proven here only as argument building and decision logic with injected spawning: UAC cannot run on Linux.
 */
import * as path from 'node:path';
import { LockstepError } from '../../contract/errors';
import { Spawner, SpawnResult } from '../spawn';
import { Elevator, PrivilegedCommand } from './types';

/** ShellExecuteEx reports a dismissed UAC prompt as ERROR_CANCELLED. */
export const ERROR_CANCELLED = 1223;

export const PRIVILEGED_FLAG = '--lockstep-privileged-apply';

export interface WindowsApp {
  /** process.resourcesPath of the packaged app (where electron-builder puts elevate.exe). */
  resourcesPath: string;
  /** process.execPath: the app's .exe. */
  execPath: string;
}

/** The elevated command: elevate.exe -wait <app.exe> --lockstep-privileged-apply <helper args>. */
export function uacInvocation(app: WindowsApp, helperArgs: readonly string[]): { command: string; args: string[] } {
  const args = helperArgs[0] === PRIVILEGED_FLAG ? helperArgs.slice(1) : helperArgs;
  return { command: path.win32.join(app.resourcesPath, 'elevate.exe'), args: ['-wait', app.execPath, PRIVILEGED_FLAG, ...args] };
}

export function uacDenied(r: SpawnResult): boolean {
  return r.code === ERROR_CANCELLED || /cancel+ed by the user|ERROR_CANCELLED|abgebrochen/i.test(r.stderr);
}

export class WindowsElevator implements Elevator {
  readonly method = 'uac';

  constructor(
    private readonly spawner: Spawner,
    private readonly app: WindowsApp,
  ) {}

  /** `cmd.args` are the helper's arguments; the command itself is the app (see the header). */
  async run(cmd: PrivilegedCommand): Promise<SpawnResult> {
    const r = await this.spawner(uacInvocation(this.app, cmd.args));
    if (uacDenied(r)) throw new LockstepError('E_ELEVATION_DENIED', 'The Windows administrator prompt (UAC) was cancelled or refused: the update was not installed.', { method: 'uac' });
    return r;
  }
}
