/**
 * File-system moves the install pipeline is built from. Renames are synchronous on purpose: each one is a single
 * atomic step on the main thread, so a crash (or a SIGKILL injected at the N-th rename by the crash test) leaves
 * the tree in a state the journal describes. Disk-full conditions become E_DISK_FULL wherever they surface.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError } from '../contract/errors';

const DISK_FULL = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

export function isDiskFull(err: unknown): boolean {
  return DISK_FULL.has((err as NodeJS.ErrnoException | null)?.code ?? '');
}

/** Maps a disk-full errno to E_DISK_FULL naming the folder; anything else is passed through unchanged. */
export function diskFullOr(err: unknown, where: string): unknown {
  if (!isDiskFull(err)) return err;
  return new LockstepError('E_DISK_FULL', `Not enough free disk space in ${where}: free some space and try again. Nothing was changed.`, { where });
}

/** Room kept free beyond an estimate: the journal, the log lines and the folders' own blocks. */
export const FREE_SPACE_MARGIN = 1 << 20;
/** Files kept creatable beyond an estimate: journal and log temp files, the staging folders. */
export const FREE_INODES_MARGIN = 32;

/**
 * Refuses to start writing `bytes` in `files` new files into `dir` when its file system has less free space (for this
 * user: root's reserve is not counted on) or fewer free inodes than that plus a margin; so a full disk ends before
 * anything is written. File systems that report no inode count (btrfs) are checked for bytes only.
 */
export function requireFreeSpace(dir: string, need: { bytes: number; files: number }, where: string): void {
  const st = fs.statfsSync(dir);
  const free = st.bavail * st.bsize;
  const bytes = need.bytes + FREE_SPACE_MARGIN;
  const files = need.files + FREE_INODES_MARGIN;
  if (free < bytes) {
    throw new LockstepError('E_DISK_FULL', `Not enough free disk space in ${where}: ${mib(bytes)} MiB are needed, ${mib(free)} MiB are free. Free some space and try again. Nothing was changed.`, { where, needed: bytes, free });
  }
  if (st.files > 0 && st.ffree < files) {
    throw new LockstepError('E_DISK_FULL', `Not enough free disk space in ${where}: ${files} more files are needed, the file system can hold only ${st.ffree} more. Free some space and try again. Nothing was changed.`, { where, neededFiles: files, freeFiles: st.ffree });
  }
}

function mib(bytes: number): string {
  return (bytes / (1 << 20)).toFixed(1);
}

export function exists(p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Writes a small file atomically and durably: temp file, fsync, rename, fsync of the folder. */
export function writeFileDurable(file: string, data: string, mode = 0o644): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w', mode);
  try {
    fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDir(path.dirname(file));
}

export function fsyncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some file systems refuse fsync on folders; the rename itself is still atomic.
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

/** Copies a tree preserving modes, symlinks, times and (as root) owners; reflinks where the file system offers them. */
export function copyTree(src: string, dst: string): void {
  const st = fs.lstatSync(src);
  if (st.isSymbolicLink()) {
    fs.symlinkSync(fs.readlinkSync(src), dst);
  } else if (st.isDirectory()) {
    fs.mkdirSync(dst, { mode: st.mode & 0o7777 });
    for (const name of fs.readdirSync(src)) copyTree(path.join(src, name), path.join(dst, name));
    fs.chmodSync(dst, st.mode & 0o7777);
  } else if (st.isFile()) {
    fs.copyFileSync(src, dst, fs.constants.COPYFILE_FICLONE | fs.constants.COPYFILE_EXCL);
    fs.chmodSync(dst, st.mode & 0o7777);
  } else {
    return; // sockets, fifos, devices do not belong in an install folder and are not backed up
  }
  if (process.getuid?.() === 0) fs.lchownSync(dst, st.uid, st.gid);
  if (!st.isSymbolicLink()) fs.utimesSync(dst, st.atime, st.mtime);
}

/** Moves a file or tree; across file systems it copies and then removes the source. */
export function moveEntry(src: string, dst: string): void {
  try {
    fs.renameSync(src, dst);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    copyTree(src, dst);
    fs.rmSync(src, { recursive: true, force: true });
  }
}

export function removeTree(p: string): void {
  fs.rmSync(p, { recursive: true, force: true, maxRetries: 3 });
}

/** Lists a folder, empty when it does not exist. */
export function listDir(dir: string): string[] {
  try {
    return fs.readdirSync(dir).sort();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
