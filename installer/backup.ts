/**
 * Backup and restore of the install folder (S8). Data folders (and the state folder when it lives inside the install
 * folder) are excluded: never backed up, never cleared, never replaced. Every step is a sequence of renames that can
 * be repeated after a crash: a rerun moves whatever is still left, so restoring is idempotent.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError } from '../contract/errors';
import { copyTree, exists, listDir, moveEntry, removeTree } from './fsOps';

/** Relative paths inside the install folder that the installer must leave alone. */
export class Exclusions {
  private readonly paths: string[];

  constructor(relativePaths: readonly string[]) {
    this.paths = relativePaths.map((p) => normalizeRelative(p));
  }

  /** excluded: leave alone; ancestor: a folder that holds an excluded path (walk into it); normal: belongs to the app. */
  classify(rel: string): 'excluded' | 'ancestor' | 'normal' {
    for (const p of this.paths) {
      if (rel === p || rel.startsWith(p + '/')) return 'excluded';
    }
    return this.paths.some((p) => p.startsWith(rel + '/')) ? 'ancestor' : 'normal';
  }
}

export function normalizeRelative(p: string): string {
  const norm = path.posix.normalize(p.replace(/\\/g, '/')).replace(/\/+$/, '');
  if (norm === '' || norm === '.' || norm.startsWith('../') || norm === '..' || path.posix.isAbsolute(norm)) {
    throw new LockstepError('E_CONFIG_INVALID', `The data folder "${p}" must be a relative path inside the install folder.`, { path: p });
  }
  return norm;
}

/** The relative path of `inner` inside `outer`, or null when it is not inside. */
export function relativeInside(outer: string, inner: string): string | null {
  const rel = path.relative(outer, inner);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel.split(path.sep).join('/') : null;
}

type Visit = (from: string, to: string, rel: string) => void;

/** Walks the app's entries of `fromRoot` (skipping excluded ones, descending into their ancestors). */
function walkApp(fromRoot: string, toRoot: string, ex: Exclusions, visit: Visit, rel = ''): void {
  for (const name of listDir(path.join(fromRoot, rel))) {
    const r = rel ? `${rel}/${name}` : name;
    const kind = ex.classify(r);
    if (kind === 'excluded') continue;
    const from = path.join(fromRoot, r);
    if (kind === 'ancestor' && fs.lstatSync(from).isDirectory()) {
      const to = path.join(toRoot, r);
      if (!exists(to)) mirrorDir(from, to);
      walkApp(fromRoot, toRoot, ex, visit, r);
      continue;
    }
    visit(from, path.join(toRoot, r), r);
  }
}

/** Creates `to` as a folder with the mode and owner of `from` (the folders that hold data folders). */
function mirrorDir(from: string, to: string): void {
  const st = fs.statSync(from);
  fs.mkdirSync(to, { mode: st.mode & 0o7777 });
  fs.chmodSync(to, st.mode & 0o7777);
  if (process.getuid?.() === 0) fs.chownSync(to, st.uid, st.gid);
}

/** Moves the app's entries out of the install folder into the backup (portable installs: O(entries), no copying). */
export function moveOut(installDir: string, backupDir: string, ex: Exclusions): void {
  fs.mkdirSync(backupDir, { recursive: true });
  walkApp(installDir, backupDir, ex, (from, to) => moveEntry(from, to));
}

/** Copies the app's entries into the backup (installers that write in place: NSIS, deb, AppImage). */
export function copyOut(installDir: string, backupDir: string, ex: Exclusions): void {
  removeTree(backupDir); // a copy interrupted by a crash is started again from scratch
  fs.mkdirSync(backupDir, { recursive: true });
  walkApp(installDir, backupDir, ex, (from, to) => copyTree(from, to));
}

/** Moves the staged new version into the install folder; staged entries under data folders are dropped (data wins). */
export function moveIn(stagingDir: string, installDir: string, ex: Exclusions): void {
  walkApp(stagingDir, installDir, ex, (from, to) => {
    if (exists(to)) removeTree(to);
    moveEntry(from, to);
  });
}

/** First half of a revert: everything of the app now in the install folder goes to the trash (repeatable). */
export function clearInto(installDir: string, trashDir: string, ex: Exclusions): void {
  fs.mkdirSync(trashDir, { recursive: true });
  walkApp(installDir, trashDir, ex, (from, to) => {
    if (exists(to)) removeTree(to);
    moveEntry(from, to);
  });
}

/** Second half: the backup's entries move back; whatever stands in their place goes to the trash first. */
export function moveBack(backupDir: string, installDir: string, trashDir: string, ex: Exclusions): void {
  walkApp(backupDir, installDir, ex, (from, to, rel) => {
    if (exists(to)) {
      const aside = path.join(trashDir, 'displaced', rel);
      fs.mkdirSync(path.dirname(aside), { recursive: true });
      removeTree(aside);
      moveEntry(to, aside);
    }
    moveEntry(from, to);
  });
}

/** Keeps the newest `keep` backups (ids sort by time) plus any named in `protect`. Returns the removed ids. */
export function pruneBackups(backupsRoot: string, keep: number, protect: readonly string[] = []): string[] {
  const ids = listDir(backupsRoot).sort();
  const removable = ids.slice(0, Math.max(0, ids.length - keep)).filter((id) => !protect.includes(id));
  for (const id of removable) removeTree(path.join(backupsRoot, id));
  return removable;
}

/**
 * Moves the data folders out of the way of an in-place installer (which could overwrite them, and they are not in
 * the backup). Repeatable: what was parked already is skipped.
 */
export function parkData(installDir: string, parkDir: string, dataFolders: readonly string[]): void {
  for (const rel of dataFolders.map(normalizeRelative)) {
    const from = path.join(installDir, rel);
    const to = path.join(parkDir, rel);
    if (!exists(from) || exists(to)) continue;
    fs.mkdirSync(path.dirname(to), { recursive: true });
    moveEntry(from, to);
  }
}

/** Puts parked data folders back; whatever an installer created in their place goes to the trash. Repeatable. */
export function unparkData(installDir: string, parkDir: string, trashDir: string, dataFolders: readonly string[]): void {
  for (const rel of dataFolders.map(normalizeRelative)) {
    const from = path.join(parkDir, rel);
    if (!exists(from)) continue;
    const to = path.join(installDir, rel);
    if (exists(to)) {
      const aside = path.join(trashDir, 'installer-data', rel);
      fs.mkdirSync(path.dirname(aside), { recursive: true });
      removeTree(aside);
      moveEntry(to, aside);
    }
    fs.mkdirSync(path.dirname(to), { recursive: true });
    moveEntry(from, to);
  }
  removeTree(parkDir);
}
