/**
 * Staging a package: the bytes are hashed while they are read, and only those bytes are used afterwards — a portable
 * .tar.gz is extracted from the same stream it is hashed from; everything else (zip, deb, AppImage, NSIS .exe) is
 * first copied into the state folder ("sealed", unreachable for the user) and hashed on the way.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError } from '../electron/common/errors';
import { extractTar } from './archive/tar';
import { extractZip } from './archive/zip';
import { PackageKind } from './journal';

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

/** Copies `src` to `dst` (new file, owner-only) hashing and counting the bytes copied. */
export async function sealCopy(src: string, dst: string): Promise<{ sha512: Buffer; bytes: number }> {
  const hash = createHash('sha512');
  let bytes = 0;
  const out = fs.openSync(dst, 'wx', 0o600);
  try {
    for await (const chunk of fs.createReadStream(src, { highWaterMark: 1 << 20 })) {
      hash.update(chunk as Buffer);
      bytes += (chunk as Buffer).length;
      fs.writeSync(out, chunk as Buffer);
    }
    fs.fsyncSync(out);
  } finally {
    fs.closeSync(out);
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
 * Puts the package into `stagingDir` (created here). Throws E_CHECKSUM when the bytes read differ from the expected
 * SHA-512 (or size), E_INSTALL_FAILED for a bad archive; the caller maps disk-full errors and removes the staging
 * folder on any failure.
 */
export async function stagePackage(kind: PackageKind, packagePath: string, expected: { sha512: string; size?: number | undefined }, stagingDir: string): Promise<StagedPackage> {
  fs.mkdirSync(stagingDir, { recursive: true, mode: 0o700 });
  if (kind === 'portable' && portableFormat(packagePath) === 'tar') {
    const tree = path.join(stagingDir, 'tree');
    fs.mkdirSync(tree, { mode: 0o755 });
    const result = await extractTar(packagePath, tree);
    checkRead(packagePath, { sha512: result.sha512, bytes: result.rawBytes }, expected.sha512, expected.size);
    return { path: tree };
  }
  const sealed = path.join(stagingDir, `package${path.extname(packagePath).toLowerCase()}`);
  checkRead(packagePath, await sealCopy(packagePath, sealed), expected.sha512, expected.size);
  if (kind !== 'portable') return { path: sealed };
  const tree = path.join(stagingDir, 'tree');
  fs.mkdirSync(tree, { mode: 0o755 });
  await extractZip(sealed, tree);
  fs.rmSync(sealed);
  return { path: tree };
}
