/**
 * The installed modules carried across an install that runs with rights (the privileged helper), so that a user who
 * cannot write the modules folder gets them updated in the same elevated session as the app, not refused.
 *
 *   stage — before the install folder is touched: every updated module's bytes are sealed into the staging folder
 *           while hashed and compared with the signed SHA-512 and size (a file swapped after the unprivileged side
 *           checked it is E_CHECKSUM); every other installed module's folder is copied there as it is. Which modules
 *           are installed comes from the root-owned module list, never from the request.
 *   place — once the install folder reports the new version, still before the install is reported done: each module
 *           folder is rebuilt from its staged copy and the list is written last. A module the app package itself
 *           brought (its list names a version the folder did not have before) is the vendor's choice and wins.
 *
 * Only a module location inside the install folder (the default) is handled: the app's backup then holds the modules
 * too, so a module that cannot be placed reverts the whole install and the old app comes back with exactly its old
 * modules, and a crash in between is reverted by the journal's recovery like any interrupted install.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError } from '../contract/errors';
import { Logger } from '../kernel/log';
import { isPlainName } from '../kernel/plainName';
import { isVersion } from '../kernel/version';
import { Exclusions, relativeInside } from './backup';
import { copyTree, exists, moveEntry, removeTree, requireFreeSpace, writeFileDurable } from './fsOps';
import { Journal } from './journal';
import { MODULES_DIR, MODULE_ID, VerifiedModule } from './moduleHandover';
import { sealCopy, sha512Matches } from './package';
import { openRegularFile, readBounded } from './trustedFile';

const MAX_LIST_BYTES = 256 * 1024;

/**
 * The module part of a verified request: the updates, and the module list the machine configuration names. Kept out
 * of the journal, whose shape an older Lockstep must still read: a crash reverts the install, and with it the modules.
 */
export interface ModuleWork {
  update: readonly VerifiedModule[];
  listFile: string;
}

export interface StagedModules {
  listFile: string;
  dir: string;
  /** The module list before the install (root's file). */
  before: Record<string, string>;
  /** Each installed module and the staged folder that becomes modules/<id>/ (null: it had no folder). */
  entries: Array<{ id: string; version: string; source: string | null }>;
}

/** The module list and folder the machine configuration names; refused unless the app's backup covers them. */
function locationOf(j: Journal, work: ModuleWork, ex: Exclusions): { listFile: string; dir: string } {
  const listFile = path.resolve(work.listFile);
  const dir = path.join(path.dirname(listFile), MODULES_DIR);
  const covered = [listFile, dir].every((p) => {
    const rel = relativeInside(j.installDir, p);
    return rel !== null && ex.classify(rel) === 'normal';
  });
  if (!covered) {
    throw new LockstepError('E_NOT_PERMITTED', `The modules listed in ${listFile} lie outside the install folder ${j.installDir} (or in one of its data folders), where the privileged installer cannot back them up with the app. Nothing was installed. Keep the module list in the install folder, or let the users write the modules folder.`, { folder: path.dirname(listFile) });
  }
  return { listFile, dir };
}

/** The module list as root reads it: never through a link, bounded, every id and version checked. */
export function readModuleList(listFile: string): Record<string, string> {
  if (!exists(listFile)) return {};
  let data: unknown;
  try {
    data = JSON.parse(readBounded(openRegularFile(listFile, 'module list'), MAX_LIST_BYTES, listFile, 'module list'));
  } catch (err) {
    if (err instanceof LockstepError) throw err;
    throw new LockstepError('E_CONFIG_INVALID', `The module list ${listFile} is not valid JSON.`, { file: listFile });
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new LockstepError('E_CONFIG_INVALID', `The module list ${listFile} must map module ids to versions.`, { file: listFile });
  const out: Record<string, string> = {};
  for (const [id, v] of Object.entries(data)) {
    if (!MODULE_ID.test(id) || typeof v !== 'string' || !isVersion(v)) throw new LockstepError('E_CONFIG_INVALID', `The module list ${listFile} holds an invalid entry.`, { file: listFile });
    out[id] = v;
  }
  return out;
}

/** Before the install folder is touched: seals the updates (hash-checked) and copies the other modules aside. */
export async function stageModules(j: Journal, work: ModuleWork, stagingDir: string, ex: Exclusions): Promise<StagedModules> {
  const { listFile, dir } = locationOf(j, work, ex);
  const before = readModuleList(listFile);
  const update = work.update;
  const root = path.join(stagingDir, 'modules');
  fs.mkdirSync(root, { recursive: true, mode: 0o700 });
  requireFreeSpace(root, { bytes: update.reduce((n, m) => n + m.size, 0), files: update.length }, path.dirname(stagingDir));
  const entries: StagedModules['entries'] = [];
  for (const [id, version] of Object.entries(before)) {
    const u = update.find((m) => m.id === id);
    const source = path.join(root, id);
    if (u) {
      if (!isPlainName(u.fileName)) throw new LockstepError('E_SIGNATURE', `Module ${id} is signed with the file name "${u.fileName}", which is not a plain file name. Nothing was installed.`, { module: id });
      fs.mkdirSync(source, { mode: 0o755 });
      const sealed = path.join(source, u.fileName);
      const read = await sealCopy(u.packagePath, sealed, u.size + 1);
      if (!sha512Matches(read.sha512, u.sha512) || read.bytes !== u.size) {
        throw new LockstepError('E_CHECKSUM', `The package of module ${id} ${u.version} does not match the size and SHA-512 its vendor signed: it is damaged or was changed. Download it again. Nothing was installed.`, { module: id, file: u.packagePath });
      }
      fs.chmodSync(sealed, 0o644);
      entries.push({ id, version: u.version, source });
    } else if (exists(path.join(dir, id))) {
      copyTree(path.join(dir, id), source);
      entries.push({ id, version, source });
    } else {
      entries.push({ id, version, source: null });
    }
  }
  const notInstalled = update.filter((m) => !(m.id in before)).map((m) => m.id);
  if (notInstalled.length) throw new LockstepError('E_USAGE', `Module ${notInstalled.join(', ')} is not installed here; only installed modules are updated. Nothing was installed.`, { modules: notInstalled });
  return { listFile, dir, before, entries };
}

/** After the new version is in place: rebuilds each module folder from its staged copy, then writes the list. */
export function placeModules(staged: StagedModules, log: Logger): Record<string, string> {
  const after = readModuleList(staged.listFile);
  const brought = new Set(Object.keys(after).filter((id) => after[id] !== staged.before[id]));
  const list: Record<string, string> = { ...after };
  fs.mkdirSync(staged.dir, { recursive: true, mode: 0o755 });
  for (const e of staged.entries) {
    if (brought.has(e.id)) continue; // the app package brought its own version of this module
    if (e.source) {
      const target = path.join(staged.dir, e.id);
      const fresh = `${target}.new-${process.pid}`;
      removeTree(fresh);
      moveEntry(e.source, fresh);
      removeTree(target); // the old folder is in the app's backup
      fs.renameSync(fresh, target);
    }
    list[e.id] = e.version;
  }
  writeFileDurable(staged.listFile, JSON.stringify(list, null, 2) + '\n', 0o644);
  log.info('apply.modules-placed', { modules: list, packageBrought: [...brought] });
  return list;
}
