/**
 * The apply pipeline, run by whoever holds the rights (the privileged helper, or the app itself when it may write the
 * install folder): stage (verify + extract) → back up → install → verify the installed version → await a healthy
 * start; on any failure the backup is restored. Every phase is recorded in the journal before its work starts.
 */
import * as fs from 'node:fs';
import { LockstepError, toLockstepError } from '../contract/errors';
import { Logger } from '../kernel/log';
import { versionsEqual } from '../kernel/version';
import { Exclusions, clearInto, copyOut, moveBack, moveIn, moveOut, parkData, relativeInside, unparkData } from './backup';
import { diskFullOr, removeTree } from './fsOps';
import { InstallRequest, Journal, StateDir, advance, readJournal, withError } from './journal';
import { stagedRootFor, versionFileIn } from './layout';
import { ModuleWork, StagedModules, placeModules, stageModules } from './modulePlacement';
import { stagePackage } from './package';
import { runInPlaceInstaller } from './runners';
import { Spawner } from './spawn';

export interface InstallSettings {
  installDir: string;
  stateDir: string;
  dataFolders: readonly string[];
  keepBackups: number;
  healthTimeoutMs: number;
  /** The installed modules' list file (machine configuration: feed.modulesFile); absent: in the install folder. */
  modulesFile?: string;
}

export interface ApplyContext {
  state: StateDir;
  log: Logger;
  spawner: Spawner;
  now?: () => Date;
}

/** The version an install folder (or a staged tree) names; macOS bundles keep it in Contents/Resources (layout.ts). */
export function readInstalledVersion(installDir: string): string | null {
  try {
    const v = (JSON.parse(fs.readFileSync(versionFileIn(installDir), 'utf8')) as { version?: unknown }).version;
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}

export function exclusionsFor(j: Pick<Journal, 'installDir' | 'stateDir' | 'dataFolders'>): Exclusions {
  const stateInside = relativeInside(j.installDir, j.stateDir);
  return new Exclusions([...j.dataFolders, ...(stateInside ? [stateInside] : [])]);
}

export function newJournal(request: InstallRequest, s: InstallSettings, startedBy: string, now = new Date()): Journal {
  return {
    format: 1,
    request,
    installDir: s.installDir,
    stateDir: s.stateDir,
    dataFolders: [...s.dataFolders],
    keepBackups: s.keepBackups,
    healthTimeoutMs: s.healthTimeoutMs,
    fromVersion: readInstalledVersion(s.installDir),
    backupStrategy: request.kind === 'portable' ? 'move' : 'copy',
    phase: 'prepared',
    startedBy,
    history: [{ phase: 'prepared', at: now.toISOString() }],
  };
}

function installFailed(err: unknown, restored: boolean): LockstepError {
  const e = toLockstepError(err);
  if (e.code !== 'E_INTERNAL') return e;
  const tail = restored ? ' The previous version was restored.' : ' Nothing was changed.';
  return new LockstepError('E_INSTALL_FAILED', `The installer failed: ${e.message}.${tail}`, { cause: e.message });
}

/**
 * Runs the pipeline from `prepared`. Resolves with the journal in awaiting-health, failed or reverted. A full disk
 * anywhere (a journal write included) ends in E_DISK_FULL, and the staging copy is removed at once so the space
 * comes back before the journal's last step is written.
 */
export async function runApply(start: Journal, ctx: ApplyContext, modules: ModuleWork | null = null): Promise<Journal> {
  try {
    return await applyPhases(start, ctx, modules);
  } catch (err) {
    removeTree(ctx.state.staging(start.request.id));
    const e = diskFullOr(err, start.installDir);
    const j = journalOrNull(ctx.state);
    if (j && j.request.id === start.request.id && UNTOUCHED.has(j.phase)) closeUntouched(ctx.state, j, e);
    throw e;
  }
}

function journalOrNull(state: StateDir): Journal | null {
  try {
    return readJournal(state);
  } catch {
    return null; // unreadable: left as it is for the next start's recovery to judge
  }
}

/** Phases in which the install folder has not been touched: a journal stuck there describes nothing to undo. */
const UNTOUCHED = new Set(['prepared', 'staging']);

/**
 * The journal could not even be moved past an untouched phase (out of space or inodes): record the failure, and if
 * that write fails too, remove the journal, so the caller reports this error and not "ended in phase prepared".
 */
function closeUntouched(state: StateDir, j: Journal, err: unknown): void {
  try {
    advance(state, j, 'failed', withError(j, toLockstepError(err).toInfo()));
  } catch {
    fs.rmSync(state.journalFile, { force: true });
  }
}

/** Staging failed, or the journal step after it could not be written: nothing of the install folder was touched. */
function stagingFailed(j: Journal, ctx: ApplyContext, err: unknown): Journal {
  removeTree(ctx.state.staging(j.request.id));
  const e = installFailed(diskFullOr(err, j.installDir), false);
  ctx.log.error('apply.stage-failed', { id: j.request.id, code: e.code, message: e.message });
  return advance(ctx.state, j, 'failed', withError(j, e.toInfo()));
}

async function applyPhases(start: Journal, ctx: ApplyContext, moduleWork: ModuleWork | null): Promise<Journal> {
  const { state, log } = ctx;
  const id = start.request.id;
  const ex = exclusionsFor(start);
  let j = start;
  const where = start.installDir;

  j = advance(state, j, 'staging');
  let staged: string;
  let modules: StagedModules | null = null;
  try {
    staged = (await stagePackage(j.request.kind, j.request.packagePath, { sha512: j.request.sha512, size: j.request.size }, state.staging(id))).path;
    if (j.request.kind === 'portable') {
      staged = stagedRootFor(staged, j.installDir); // a mac zip: the one <Product>.app inside replaces the bundle
      const stagedVersion = readInstalledVersion(staged);
      if (!stagedVersion || !versionsEqual(stagedVersion, j.request.toVersion)) {
        throw new LockstepError('E_INSTALL_FAILED', `The package holds version ${stagedVersion ?? '(none)'}, not ${j.request.toVersion}. Nothing was installed.`, { found: stagedVersion });
      }
    }
    if (moduleWork) modules = await stageModules(j, moduleWork, state.staging(id), ex);
  } catch (err) {
    return stagingFailed(j, ctx, err);
  }

  try {
    j = advance(state, j, 'backing-up');
  } catch (err) {
    return stagingFailed(j, ctx, err); // the journal still says staging: nothing was moved
  }
  try {
    if (j.backupStrategy === 'move') moveOut(j.installDir, state.backup(id), ex);
    else copyOut(j.installDir, state.backup(id), ex);
  } catch (err) {
    const e = installFailed(diskFullOr(err, where), j.backupStrategy === 'move');
    log.error('apply.backup-failed', { id, code: e.code, message: e.message });
    if (j.backupStrategy === 'move') return revert(j, ctx, e);
    removeTree(state.backup(id));
    removeTree(state.staging(id));
    return advance(state, j, 'failed', withError(j, e.toInfo()));
  }

  try {
    j = advance(state, j, 'installing'); // when this write fails the journal says backing-up, and revert() knows what that means
    if (j.request.kind === 'portable') moveIn(staged, j.installDir, ex);
    else {
      parkData(j.installDir, state.parkedData(id), j.dataFolders);
      await runInPlaceInstaller(j.request.kind, staged, j.installDir, j.request.toVersion, ctx.spawner);
      unparkData(j.installDir, state.parkedData(id), state.trash(id), j.dataFolders);
      removeTree(state.trash(id));
    }
    j = advance(state, j, 'verifying');
    const installed = readInstalledVersion(j.installDir);
    if (!installed || !versionsEqual(installed, j.request.toVersion)) {
      throw new LockstepError('E_INSTALL_FAILED', `After installing, the install folder reports version ${installed ?? '(none)'} instead of ${j.request.toVersion}. The previous version was restored.`, { found: installed });
    }
    // Still inside the install: a module that cannot be placed reverts the app too (the backup holds the old modules).
    if (modules) placeModules(modules, log);
  } catch (err) {
    const e = installFailed(diskFullOr(err, where), true);
    log.error('apply.install-failed', { id, code: e.code, message: e.message });
    return revert(j, ctx, e);
  }

  removeTree(state.staging(id));
  const now = (ctx.now ?? (() => new Date()))();
  j = advance(state, j, 'awaiting-health', { installedAt: now.toISOString(), healthDeadline: new Date(now.getTime() + j.healthTimeoutMs).toISOString() });
  log.info('apply.installed', { id, from: j.fromVersion, to: j.request.toVersion, kind: j.request.kind });
  return j;
}

/**
 * Restores the backup byte for byte. Repeatable from any revert phase: a crash halfway is finished by running it again.
 * From `backing-up` with a move backup, the install folder still holds only old entries, so nothing is cleared.
 */
export async function revert(start: Journal, ctx: ApplyContext, error: LockstepError): Promise<Journal> {
  const { state, log } = ctx;
  const id = start.request.id;
  const ex = exclusionsFor(start);
  let j = start;
  const onlyOldInside = j.phase === 'backing-up' && j.backupStrategy === 'move';
  removeTree(state.staging(id)); // first: on a full disk its space is what lets the revert's journal steps be written
  if (!onlyOldInside && j.phase !== 'revert-return') {
    j = advance(state, j, 'revert-clear', withError(j, error.toInfo()));
    clearInto(j.installDir, state.trash(id), ex);
  }
  j = advance(state, j, 'revert-return', withError(j, error.toInfo()));
  moveBack(state.backup(id), j.installDir, state.trash(id), ex);
  unparkData(j.installDir, state.parkedData(id), state.trash(id), j.dataFolders);
  removeTree(state.trash(id));
  removeTree(state.staging(id));
  removeTree(state.backup(id)); // now only the empty folders that held data folders
  j = advance(state, j, 'reverted', withError(j, error.toInfo()));
  log.warn('apply.reverted', { id, code: error.code, restored: j.fromVersion });
  return j;
}
