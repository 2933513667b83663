/**
 * Where an archive entry may be written. Entries are confined to the destination: no absolute paths, no "..", and
 * never through a symbolic link the archive itself created (the classic "link to /etc, then write link/passwd").
 */
import * as path from 'node:path';
import { LockstepError } from '../../electron/common/errors';

export class EntryGuard {
  private readonly links = new Set<string>();

  constructor(private readonly root: string) {}

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

  /** Symbolic links must stay inside the package too (relative, resolving below the root). */
  checkLink(rel: string, linkTarget: string): void {
    const resolved = path.posix.normalize(path.posix.join(path.posix.dirname(rel), linkTarget));
    if (path.posix.isAbsolute(linkTarget) || resolved === '..' || resolved.startsWith('../')) throw unsafe(rel, `its link target ${linkTarget} leaves the install folder`);
    this.links.add(rel);
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
