/**
 * Reading a file as the privileged helper without being steered: the name is opened once, without following a link
 * at its end and without blocking on a FIFO or device, and everything after that — type, owner, mode, the bytes —
 * comes from that one descriptor, so swapping the name between a check and a read changes nothing. Reads stop one
 * byte past the bound. Errors name the file and what was wrong with it, never its content.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError } from '../contract/errors';
import { OpenedRegularFile, openRegularNoFollow, readUpTo } from '../kernel/noFollowFile';

export type OpenedFile = OpenedRegularFile;

/** Opens `file` read-only, refusing a link at its end, anything but a regular file, and blocking opens. */
export function openRegularFile(file: string, what: string): OpenedFile {
  try {
    return openRegularNoFollow(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    // ELOOP: the last component is a symbolic link (O_NOFOLLOW).
    const why = code === 'ELOOP' ? 'is a symbolic link' : code === 'ENOENT' ? 'does not exist' : code === 'ENOTREG' ? 'is not a regular file' : `cannot be opened (${code})`;
    throw new LockstepError('E_NOT_PERMITTED', `The ${what} ${file} ${why}; the privileged installer does not use it.`, { file });
  }
}

/** Reads at most `maxBytes` from the descriptor (and closes it); one byte more is refused as too large. */
export function readBounded(opened: OpenedFile, maxBytes: number, file: string, what: string): string {
  let bytes: Buffer | null;
  try {
    bytes = readUpTo(opened.fd, maxBytes);
  } finally {
    fs.closeSync(opened.fd);
  }
  if (!bytes) throw new LockstepError('E_USAGE', `The ${what} ${file} is larger than ${maxBytes} bytes; the privileged installer does not read it.`, { file });
  return bytes.toString('utf8');
}

/** Who may change a file or folder the helper trusts: root, or the account the helper itself runs as. */
function trustedOwner(uid: number): boolean {
  return uid === 0 || uid === (process.geteuid?.() ?? 0);
}

function assertOnlyOwnerWrites(st: fs.Stats, p: string, file: string, what: string): void {
  if (!trustedOwner(st.uid) || (st.mode & 0o022) !== 0) {
    throw new LockstepError('E_NOT_PERMITTED', `${p} can be changed by users other than root, so the privileged installer does not trust the ${what} ${file}.`, { file: p });
  }
}

/** The real path of what the descriptor names (Linux: as the kernel resolved it; elsewhere: the resolved name). */
function realPathOf(fd: number, file: string): string {
  if (process.platform === 'linux') {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      // no /proc: fall back to resolving the name
    }
  }
  return path.join(fs.realpathSync(path.dirname(path.resolve(file))), path.basename(file));
}

export interface RootOnlyOptions {
  /**
   * Accept a root-owned sticky folder (such as /tmp) above the file. Only for the test build's location override,
   * whose checkout may lie in /tmp: the real path comes from the kernel through the open descriptor, and in a sticky
   * folder nobody but root can rename or remove root's entries, so everything below it is still checked as root's.
   * The machine configuration itself never gets this.
   */
  acceptStickyRootFolders?: boolean;
}

function isStickyRootFolder(st: fs.Stats): boolean {
  return st.isDirectory() && st.uid === 0 && (st.mode & 0o1000) !== 0;
}

/**
 * Reads a file only root can change: the file itself (from its descriptor) and every folder of its real path must be
 * owned by root and writable by nobody else — no exception for sticky folders such as /tmp, where another user may
 * create and swap names. Windows keeps ownership in ACLs: there the location itself (under %ProgramData%) is the
 * guarantee and only the type and size are checked.
 */
export function readRootOnlyFile(file: string, maxBytes: number, what: string, options: RootOnlyOptions = {}): string {
  const opened = openRegularFile(file, what);
  try {
    if (process.platform !== 'win32') {
      assertOnlyOwnerWrites(opened.stat, file, file, what);
      let dir = path.dirname(realPathOf(opened.fd, file));
      for (;;) {
        const st = fs.statSync(dir);
        if (!(options.acceptStickyRootFolders && isStickyRootFolder(st))) assertOnlyOwnerWrites(st, dir, file, what);
        const parent = path.dirname(dir);
        if (parent === dir) break;
        dir = parent;
      }
    }
  } catch (err) {
    fs.closeSync(opened.fd);
    throw err;
  }
  return readBounded(opened, maxBytes, file, what);
}
