/**
 * Where an archive entry may be written, and the writing itself. Entries are confined to the destination: no absolute
 * paths, no "..", and never through a symbolic link — the extraction never follows a link at all: every folder of an
 * entry's parent chain is checked with lstat and must be one this extraction created, folders are made one level at a
 * time, files are opened with O_EXCL | O_NOFOLLOW, and the final chmod of folders goes through a descriptor opened
 * without following links. Symbolic links the archive holds are resolved against the archive's own links (a chain like
 * `d -> .` then `esc -> d/d/../../x` normalises inside but resolves outside) and must stay inside the destination.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError } from '../../contract/errors';
import { O_NOFOLLOW } from '../../kernel/noFollowFile';

/** O_NOFOLLOW / O_DIRECTORY where the OS has them (not on Windows, where the lstat checks still apply). */
const DIRECTORY = fs.constants.O_DIRECTORY ?? 0;
/** POSIX's limit on links followed while resolving one path. */
const MAX_LINK_HOPS = 40;

export class EntryGuard {
  private readonly links = new Map<string, string>();
  /** Folders this extraction made (relative, '/'-separated); the destination itself is ''. */
  private readonly createdDirs = new Set<string>(['']);

  constructor(private readonly root: string) {
    const st = fs.lstatSync(root);
    if (!st.isDirectory()) throw unsafe(root, 'the destination is not a folder');
  }

  /** True for the archive's own root ("./"), which maps to the destination itself. */
  isRoot(name: string): boolean {
    return /^(\.\/?)*$/.test(name.replace(/\\/g, '/'));
  }

  /** Returns the absolute target for an entry name, or throws E_INSTALL_FAILED for an unsafe one. */
  target(name: string): { abs: string; rel: string } {
    const clean = name.replace(/\\/g, '/').replace(/^(\.\/)+/, '').replace(/\/+$/, '');
    const rel = path.posix.normalize(clean);
    if (!clean || rel === '.' || rel === '..' || rel.startsWith('../') || path.posix.isAbsolute(clean) || /^[A-Za-z]:/.test(clean) || clean.split('/').includes('..')) {
      throw unsafe(name, 'it leaves the install folder');
    }
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      if (this.links.has(parts.slice(0, i).join('/'))) throw unsafe(name, 'it would be written through a symbolic link');
    }
    return { abs: path.join(this.root, ...parts), rel };
  }

  /** Makes the folder `rel` and every missing parent, one level at a time; refuses anything but our own folders. */
  mkdirs(rel: string, entry: string): void {
    const parts = rel ? rel.split('/') : [];
    for (let i = 1; i <= parts.length; i++) {
      const sub = parts.slice(0, i).join('/');
      const abs = path.join(this.root, ...parts.slice(0, i));
      const st = lstatOrNull(abs);
      if (!st) {
        fs.mkdirSync(abs, { mode: 0o755 }); // not recursive: mkdir never follows a link in its last component
        const made = fs.lstatSync(abs);
        if (!made.isDirectory()) throw unsafe(entry, 'a folder of its path was replaced while it was made');
        this.createdDirs.add(sub);
      } else if (st.isSymbolicLink() || this.links.has(sub)) {
        throw unsafe(entry, 'it would be written through a symbolic link');
      } else if (!st.isDirectory() || !this.createdDirs.has(sub)) {
        throw unsafe(entry, `${sub} is not a folder of this package`);
      }
    }
  }

  /** Opens a new file for writing: the parent chain checked, never an existing name, never through a link. */
  openFile(rel: string, mode: number, entry: string): number {
    this.mkdirs(path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel), entry);
    const abs = path.join(this.root, ...rel.split('/'));
    try {
      return fs.openSync(abs, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | O_NOFOLLOW, mode);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' || (err as NodeJS.ErrnoException).code === 'ELOOP') throw unsafe(entry, 'the package holds this name twice');
      throw err;
    }
  }

  /** Creates a symbolic link (its target is checked against the final link table by finish()). */
  symlink(rel: string, linkTarget: string, entry: string): void {
    this.checkLink(rel, linkTarget);
    this.mkdirs(path.posix.dirname(rel) === '.' ? '' : path.posix.dirname(rel), entry);
    try {
      fs.symlinkSync(linkTarget, path.join(this.root, ...rel.split('/')));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw unsafe(entry, 'the package holds this name twice');
      throw err;
    }
  }

  /** Symbolic links must stay inside the package too (relative, resolving below the root). */
  checkLink(rel: string, linkTarget: string): void {
    if (!linkTarget || linkTarget.includes('\0') || path.posix.isAbsolute(linkTarget) || /^[A-Za-z]:|^\\/.test(linkTarget)) throw unsafe(rel, `its link target ${linkTarget} leaves the install folder`);
    this.links.set(rel, linkTarget.replace(/\\/g, '/'));
    this.resolve(rel);
  }

  /**
   * Resolves the link `rel` the way the OS would, but against the archive's own links only: every component that is
   * one of them is replaced by its target. Throws when the walk leaves the destination or loops.
   */
  private resolve(rel: string): void {
    const stack = path.posix.dirname(rel) === '.' ? [] : path.posix.dirname(rel).split('/');
    const queue = this.links.get(rel)!.split('/');
    let hops = 0;
    while (queue.length) {
      const part = queue.shift()!;
      if (part === '' || part === '.') continue;
      if (part === '..') {
        if (!stack.length) throw unsafe(rel, `its link target ${this.links.get(rel)} leaves the install folder`);
        stack.pop();
        continue;
      }
      stack.push(part);
      const through = this.links.get(stack.join('/'));
      if (through === undefined) continue;
      if (++hops > MAX_LINK_HOPS) throw unsafe(rel, `its link target ${this.links.get(rel)} loops`);
      stack.pop();
      queue.unshift(...through.split('/'));
    }
  }

  /**
   * After the last entry: every link is resolved again against the complete link table (a later link can change where
   * an earlier one points), then folders get their final mode — through a descriptor opened without following links,
   * and only for folders this extraction made.
   */
  finish(): void {
    for (const rel of this.links.keys()) this.resolve(rel);
    for (const rel of this.createdDirs) {
      if (!rel) continue;
      const abs = path.join(this.root, ...rel.split('/'));
      const st = fs.lstatSync(abs);
      if (!st.isDirectory()) throw unsafe(rel, 'a folder of the package was replaced by something else');
      if (process.platform === 'win32') continue; // no Unix modes to set; the lstat above still refuses a link
      const fd = fs.openSync(abs, fs.constants.O_RDONLY | DIRECTORY | O_NOFOLLOW);
      try {
        const held = fs.fstatSync(fd);
        if (!held.isDirectory() || held.ino !== st.ino || held.dev !== st.dev) throw unsafe(rel, 'a folder of the package was replaced by something else');
        fs.fchmodSync(fd, 0o755);
      } finally {
        fs.closeSync(fd);
      }
    }
  }
}

function lstatOrNull(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function unsafe(name: string, why: string): LockstepError {
  return new LockstepError('E_INSTALL_FAILED', `The package contains an unsafe entry "${name}": ${why}. Nothing was installed.`, { entry: name });
}

/** Files get rwx for the owner and r-x for others at most: no setuid, no group/world write from a package. */
export function safeMode(mode: number, isDir: boolean): number {
  if (isDir) return 0o755;
  return mode & 0o111 ? 0o755 : 0o644;
}
