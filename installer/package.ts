/**
 * Staging a package: the bytes are hashed while they are copied into the state folder ("sealed", unreachable for the
 * user), and only that copy, once its hash and size match the signed ones, is used afterwards — unpacked (portable
 * .tar.gz / .zip) or run (deb, AppImage, NSIS .exe). Nothing of an unverified file is ever unpacked by root.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError } from '../contract/errors';
import { extractTar, unpackedSizeOfTar } from './archive/tar';
import { extractZip, unpackedSizeOfZip } from './archive/zip';
import { requireFreeSpace } from './fsOps';
import { PackageKind } from './journal';
import { O_NOFOLLOW, O_NONBLOCK } from '../kernel/noFollowFile';

export function sha512Matches(actual: Buffer, expected: string): boolean {
  return expected.length === 128 ? actual.toString('hex') === expected.toLowerCase() : actual.toString('base64') === expected;
}

function checksumError(file: string): LockstepError {
  return new LockstepError('E_CHECKSUM', `The package ${path.basename(file)} does not match its checksum: it is damaged or was changed. Download it again. Nothing was installed.`, { file });
}

/** The bytes read must be exactly the signed ones: the SHA-512, and the size when the request carries it. */
function checkRead(file: string, read: { sha512: Buffer; bytes: number }, sha512: string, size: number | undefined): void {
  if (!sha512Matches(read.sha512, sha512) || (size !== undefined && read.bytes !== size)) throw checksumError(file);
}


/**
 * Copies `src` to `dst` (new file, owner-only, never an existing name) hashing and counting the bytes copied. The
 * source is opened once without following a link, must be a regular file by fstat of that same descriptor, and is
 * read only up to `limit` bytes — the signed size + 1 is enough to tell "too long" — so a user's endless or growing
 * file cannot keep root busy or fill the disk.
 */
export async function sealCopy(src: string, dst: string, limit = Number.MAX_SAFE_INTEGER): Promise<{ sha512: Buffer; bytes: number }> {
  const hash = createHash('sha512');
  let bytes = 0;
  const input = await fs.promises.open(src, fs.constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ELOOP') throw new LockstepError('E_USAGE', `The package ${path.basename(src)} is a symbolic link: name the file itself.`, { file: src });
    throw err;
  });
  try {
    if (!(await input.stat()).isFile()) throw new LockstepError('E_USAGE', `The package ${path.basename(src)} is not a regular file.`, { file: src });
    const out = fs.openSync(dst, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | O_NOFOLLOW, 0o600);
    try {
      const buf = Buffer.allocUnsafe(1 << 20);
      while (bytes < limit) {
        const { bytesRead } = await input.read(buf, 0, Math.min(buf.length, limit - bytes), null);
        if (bytesRead === 0) break;
        const chunk = buf.subarray(0, bytesRead);
        hash.update(chunk);
        fs.writeSync(out, chunk);
        bytes += bytesRead;
      }
      fs.fsyncSync(out);
    } finally {
      fs.closeSync(out);
    }
  } finally {
    await input.close();
  }
  return { sha512: hash.digest(), bytes };
}

export function portableFormat(file: string): 'tar' | 'zip' {
  if (/\.zip$/i.test(file)) return 'zip';
  if (/\.(tar\.gz|tgz|tar)$/i.test(file)) return 'tar';
  throw new LockstepError('E_USAGE', `A portable package must be a .tar.gz, .tgz, .tar or .zip file: ${path.basename(file)}.`, { file });
}

export interface StagedPackage {
  /** portable: the folder holding the extracted tree; other kinds: the sealed installer file. */
  path: string;
}

/**
 * Puts the package into `stagingDir` (created here). The bytes are first copied into a sealed file in the staging
 * folder (root's, unreachable for the user) while hashed, and compared with the signed SHA-512 and size; only that
 * verified copy is ever unpacked. Free space is checked before the copy (its signed size) and before unpacking (the
 * tree's size from the archive's own headers). Throws E_CHECKSUM when the bytes differ, E_DISK_FULL when the room is
 * missing, E_INSTALL_FAILED for a bad archive; the caller maps other disk-full errors and removes the staging folder
 * on any failure.
 */
export async function stagePackage(kind: PackageKind, packagePath: string, expected: { sha512: string; size?: number | undefined }, stagingDir: string): Promise<StagedPackage> {
  fs.mkdirSync(stagingDir, { recursive: true, mode: 0o700 });
  const where = path.dirname(stagingDir);
  requireFreeSpace(stagingDir, { bytes: expected.size ?? 0, files: 1 }, where);
  const format = kind === 'portable' ? portableFormat(packagePath) : null;
  const sealed = path.join(stagingDir, `package${format === 'tar' ? tarSuffix(packagePath) : path.extname(packagePath).toLowerCase()}`);
  const limit = expected.size !== undefined ? expected.size + 1 : undefined;
  checkRead(packagePath, await sealCopy(packagePath, sealed, limit), expected.sha512, expected.size);
  if (format === null) return { path: sealed };
  requireFreeSpace(stagingDir, format === 'tar' ? await unpackedSizeOfTar(sealed) : unpackedSizeOfZip(sealed), where);
  const tree = path.join(stagingDir, 'tree');
  fs.mkdirSync(tree, { mode: 0o755 });
  if (format === 'tar') await extractTar(sealed, tree);
  else await extractZip(sealed, tree);
  fs.rmSync(sealed);
  return { path: tree };
}

/** The sealed copy keeps the suffix the tar reader decides gzip by. */
function tarSuffix(file: string): string {
  return /\.t?gz$/i.test(file) ? '.tar.gz' : '.tar';
}
