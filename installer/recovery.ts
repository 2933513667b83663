/**
 * What the next start does with the journal: finish an interrupted revert, revert an install that was cut off halfway,
 * drop a staging that never touched the install folder, or revert a version that never confirmed a healthy start.
 * The decision is a pure function, so both sides (the app and the privileged helper) reach the same answer.
 */
import * as fs from 'node:fs';
import { LockstepError } from '../contract/errors';
import { revert, ApplyContext } from './apply';
import { removeTree } from './fsOps';
import { Journal, StateDir, TERMINAL, advance, withError } from './journal';

export type RecoveryAction =
  | { type: 'none'; reason: 'no-journal' | 'finished' | 'healthy' | 'awaiting-health' }
  | { type: 'discard' } // nothing in the install folder was touched: drop staging / a partial copy backup
  | { type: 'revert'; reason: 'interrupted' | 'unhealthy' };

export function decideRecovery(j: Journal | null, now: Date, healthConfirmed: boolean): RecoveryAction {
  if (!j) return { type: 'none', reason: 'no-journal' };
  if (TERMINAL.has(j.phase)) return { type: 'none', reason: 'finished' };
  switch (j.phase) {
    case 'prepared':
    case 'staging':
      return { type: 'discard' };
    case 'backing-up':
      return j.backupStrategy === 'copy' ? { type: 'discard' } : { type: 'revert', reason: 'interrupted' };
    case 'awaiting-health':
      if (healthConfirmed) return { type: 'none', reason: 'healthy' };
      return now.getTime() >= Date.parse(j.healthDeadline ?? '') ? { type: 'revert', reason: 'unhealthy' } : { type: 'none', reason: 'awaiting-health' };
    default:
      return { type: 'revert', reason: 'interrupted' };
  }
}

/**
 * Only a regular file confirms health. The folder is world-writable, so a directory, link or anything else a user
 * put under the marker's name is ignored (never followed, never counted).
 */
function isMarkerFile(marker: string): boolean {
  try {
    return fs.lstatSync(marker).isFile();
  } catch {
    return false;
  }
}

export function healthConfirmed(state: StateDir, j: Journal | null): boolean {
  return j !== null && isMarkerFile(state.healthMarker(j.request.id));
}

/** Called by the new version once it started healthily; any user may, the marker folder is sticky and world-writable. */
export function confirmHealthy(state: StateDir, j: Journal | null): boolean {
  if (!j || j.phase !== 'awaiting-health') return false;
  const marker = state.healthMarker(j.request.id);
  try {
    fs.writeFileSync(marker, new Date().toISOString() + '\n', { flag: 'wx', mode: 0o644 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return isMarkerFile(marker);
}

/**
 * Removes a settled install's marker. unlink never follows a link; whatever else a user left under the name (a
 * directory) stays where it is: it confirms nothing and must not stop the next install.
 */
export function removeHealthMarker(state: StateDir, id: string): void {
  try {
    fs.unlinkSync(state.healthMarker(id));
  } catch (err) {
    if (!['ENOENT', 'EISDIR', 'EPERM', 'EACCES'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  }
}

/** Carries out the decided action (the caller holds the rights). Returns the journal afterwards. */
export async function recover(j: Journal, action: RecoveryAction, ctx: ApplyContext): Promise<Journal> {
  const id = j.request.id;
  if (action.type === 'none') return j;
  if (action.type === 'discard') {
    removeTree(ctx.state.staging(id));
    if (j.backupStrategy === 'copy') removeTree(ctx.state.backup(id));
    ctx.log.warn('recover.discarded', { id, phase: j.phase });
    const e = new LockstepError('E_INSTALL_FAILED', `The install of version ${j.request.toVersion} was interrupted before it changed anything; start it again.`);
    return advance(ctx.state, j, 'failed', withError(j, e.toInfo()));
  }
  const e =
    action.reason === 'unhealthy'
      ? new LockstepError('E_INSTALL_FAILED', `Version ${j.request.toVersion} did not confirm a healthy start in time; version ${j.fromVersion ?? '(previous)'} was restored.`, { version: j.request.toVersion })
      : new LockstepError('E_INSTALL_FAILED', `The install of version ${j.request.toVersion} was interrupted in phase ${j.phase}; version ${j.fromVersion ?? '(previous)'} was restored.`, { phase: j.phase });
  ctx.log.warn('recover.reverting', { id, phase: j.phase, reason: action.reason });
  return revert(j, ctx, e);
}
