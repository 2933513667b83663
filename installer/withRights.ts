/**
 * The work that needs write rights, in one place: used in-process when the user may write the install folder, and
 * by the privileged helper otherwise. One install at a time (a lock file naming its process); before a new install,
 * the previous journal is settled: an interrupted one is recovered, a healthy one archived and old backups pruned.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError, toLockstepError } from '../contract/errors';
import { Logger } from '../kernel/log';
import { ApplyContext, InstallSettings, newJournal, runApply } from './apply';
import { pruneBackups } from './backup';
import { diskFullOr } from './fsOps';
import { guardRecordedFloor } from './floorGuard';
import { Journal, StateDir, advance, archiveJournal, readJournal, writeJournal, TERMINAL } from './journal';
import { decideRecovery, healthConfirmed, recover, removeHealthMarker } from './recovery';
import { MODULES_FILE } from './moduleHandover';
import { SignedInstallRequest, VerifiedRequest, verifySignedRequest } from './signedRequest';
import { Spawner } from './spawn';

export interface RightsContext {
  settings: InstallSettings;
  log: Logger;
  spawner: Spawner;
  /** The OS user on whose behalf this runs (recorded in the journal). */
  startedBy: string;
  now?: () => Date;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the install lock; a lock left by a dead process (a crash) is taken over. */
export function withLock<T>(state: StateDir, work: () => Promise<T>): Promise<T> {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(state.lockFile, String(process.pid), { flag: 'wx', mode: 0o644 });
      return work().finally(() => fs.rmSync(state.lockFile, { force: true }));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const pid = Number(fs.readFileSync(state.lockFile, 'utf8'));
      if (pid > 0 && processAlive(pid)) {
        throw new LockstepError('E_INSTALL_IN_PROGRESS', `Another install is running (process ${pid}). Wait for it to finish.`, { pid });
      }
      fs.rmSync(state.lockFile, { force: true });
    }
  }
  throw new LockstepError('E_INSTALL_IN_PROGRESS', 'The install lock could not be taken.');
}

function applyContext(state: StateDir, rc: RightsContext): ApplyContext {
  return { state, log: rc.log, spawner: rc.spawner, ...(rc.now ? { now: rc.now } : {}) };
}

/** Recovers per the journal (see recovery.ts). Returns the journal afterwards, null when there is none. */
export async function recoverWithRights(rc: RightsContext): Promise<Journal | null> {
  const state = new StateDir(rc.settings.stateDir);
  if (!fs.existsSync(state.journalFile)) return null;
  return withLock(state, async () => recoverUnlocked(state, rc));
}

async function recoverUnlocked(state: StateDir, rc: RightsContext): Promise<Journal | null> {
  const j = readJournal(state);
  const now = (rc.now ?? (() => new Date()))();
  const action = decideRecovery(j, now, healthConfirmed(state, j));
  return j ? recover(j, action, applyContext(state, rc)) : null;
}

/** Settles the previous journal so a new install may start; refuses while a new version still awaits confirmation. */
function settlePrevious(state: StateDir, previous: Journal | null): void {
  if (!previous) return;
  let j = previous;
  if (j.phase === 'awaiting-health') {
    if (!healthConfirmed(state, j)) {
      throw new LockstepError('E_INSTALL_IN_PROGRESS', `Version ${j.request.toVersion} has not yet confirmed a healthy start; start the app once before installing again.`, { version: j.request.toVersion });
    }
    j = advance(state, j, 'confirmed');
  }
  if (!TERMINAL.has(j.phase)) throw new LockstepError('E_INSTALL_IN_PROGRESS', `The install ${j.request.id} is unfinished (${j.phase}).`);
  archiveJournal(state, j);
  removeHealthMarker(state, j.request.id);
}

/**
 * Applies a signed request: the vendor signature is verified first (signedRequest.ts) against `trustedKeys` — which
 * the caller takes from the app and the trusted machine configuration only — so a refused request touches nothing,
 * not even the journal; the package bytes are then checked against the signed SHA-512 and size while staging reads them.
 */
export async function applyWithRights(signedRequest: SignedInstallRequest, rc: RightsContext, trustedKeys: readonly string[]): Promise<Journal> {
  let request: VerifiedRequest;
  try {
    request = verifySignedRequest(signedRequest, trustedKeys);
    guardRecordedFloor(rc.settings.stateDir, request.toVersion, signedRequest.manifest.text, rc.log);
  } catch (err) {
    const e = toLockstepError(err);
    rc.log.warn('apply.refused', { id: signedRequest.id, to: signedRequest.toVersion, file: signedRequest.packagePath, by: rc.startedBy, code: e.code, message: e.message });
    throw e;
  }
  const state = new StateDir(rc.settings.stateDir);
  // a full disk (space or inodes) while the state folder and journal are set up is E_DISK_FULL too, not E_INTERNAL
  return applyLocked(request, state, rc).catch((err: unknown) => {
    throw diskFullOr(err, rc.settings.installDir);
  });
}

async function applyLocked({ modules, ...request }: VerifiedRequest, state: StateDir, rc: RightsContext): Promise<Journal> {
  state.ensure();
  return withLock(state, async () => {
    settlePrevious(state, await recoverUnlocked(state, rc));
    // keep N - 1 earlier backups: with the one this install makes, N remain
    const removed = pruneBackups(path.join(state.root, 'backups'), rc.settings.keepBackups - 1);
    if (removed.length) rc.log.info('apply.pruned-backups', { removed });
    const journal = newJournal(request, rc.settings, rc.startedBy, (rc.now ?? (() => new Date()))());
    writeJournal(state, journal);
    rc.log.info('apply.start', { id: request.id, kind: request.kind, to: request.toVersion, from: journal.fromVersion, by: rc.startedBy, signedBy: request.signedBy, size: request.size, ...(modules ? { modules: modules.update.map((m) => `${m.id}@${m.version}`) } : {}) });
    const work = modules ? { update: modules.update, listFile: rc.settings.modulesFile ?? path.join(rc.settings.installDir, MODULES_FILE) } : null;
    return runApply(journal, applyContext(state, rc), work);
  });
}
