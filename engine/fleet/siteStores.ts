/**
 * Package stores for large sites (S17): instead of the shared database, a web server (HTTP/HTTPS) or a file-share
 * folder holds the package files under their plain (signed) names — for example a mirror of the vendor feed folder.
 * The release row still says which version; what is fetched is verified exactly like a package from the database.
 *
 * Releasing into a store never points the release at a missing or wrong file: the share gets the verified file
 * copied in (temp name + rename); a web server is filled by IT, so the releasing workstation reads it back and checks
 * size and SHA-512 against the signed manifest before the release flips.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError, isLockstepError, toLockstepError } from '../../contract/errors';
import { ManifestFile, isPlainName } from '../../kernel/catalogSchema';
import { FeedHttp, HttpStatusError } from '../feed/http';
import { ResumableDownloader } from '../feed/resumableDownload';
import { TransferResult } from './dbTransfer';

function plain(file: ManifestFile): string {
  if (!isPlainName(file.name)) throw new LockstepError('E_SIGNATURE', `The package name "${file.name}" is not a plain file name.`, { name: file.name });
  return file.name;
}

function baseOf(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/** A failure to reach the store, said in terms of the store (the feed's wording names "the update server"). */
function storeError(err: unknown, base: string, file: ManifestFile): LockstepError {
  const e = toLockstepError(err);
  if (e.code !== 'E_CONNECT') return e;
  if (e.details['status'] === 404) {
    return new LockstepError('E_UPGRADE_UNAVAILABLE', `The package store ${base} has no ${file.name}; IT must copy the vendor's file there.`, { url: base, file: file.name, status: 404 });
  }
  return new LockstepError('E_CONNECT', `The package store ${base} could not be reached (${e.message}); it must be reachable from this workstation.`, { ...e.details, url: base, file: file.name });
}

/** HTTP(S): the resumable transfer of the feed download (Range + If-Range, hard stop at the signed size, SHA-512). */
export async function downloadFromHttp(http: FeedHttp, baseUrl: string, file: ManifestFile, destination: string): Promise<TransferResult> {
  const base = baseOf(baseUrl);
  const downloader = new ResumableDownloader(http, path.join(path.dirname(destination), 'partial'));
  const target = { url: new URL(plain(file), base), size: file.size, sha512: file.sha512 };
  const resumedAt = downloader.existingBytes(target);
  try {
    await downloader.download(target, destination);
  } catch (err) {
    // Not the signed bytes: the same verdict as a changed chunk in the database.
    if (isLockstepError(err, 'E_CHECKSUM')) throw new LockstepError('E_SIGNATURE', `${file.name} on the package server ${base} is not what the vendor signed; nothing was installed.`, { url: base, file: file.name });
    throw storeError(err, base, file);
  }
  return { sha512: file.sha512, bytes: file.size, resumedAt, reconnects: 0 };
}

/**
 * Before a release points at a web-server store: GET the file once and check it is exactly the signed one (size
 * counted with a hard stop, SHA-512 on the way, nothing written to disk).
 */
export async function verifyHttpStore(http: FeedHttp, baseUrl: string, file: ManifestFile): Promise<Record<string, unknown>> {
  const base = baseOf(baseUrl);
  const url = new URL(plain(file), base);
  let verdict: { bytes: number; sha512: string };
  try {
    verdict = await http.withRetries(url, `checking ${file.name} in the package store`, async () => {
      const { res } = await http.open(url);
      if ((res.statusCode ?? 0) >= 400) {
        res.resume();
        throw new HttpStatusError(res.statusCode ?? 0, url.href);
      }
      const hash = createHash('sha512');
      let bytes = 0;
      for await (const c of res) {
        bytes += (c as Buffer).length;
        if (bytes > file.size) {
          res.destroy();
          break;
        }
        hash.update(c as Buffer);
      }
      if (bytes <= file.size && !res.complete) throw new Error('the connection closed before the whole file arrived');
      return { bytes, sha512: hash.digest('base64') };
    });
  } catch (err) {
    throw storeError(err, base, file);
  }
  if (verdict.bytes !== file.size || verdict.sha512 !== file.sha512) {
    throw new LockstepError('E_SIGNATURE', `${file.name} in the package store ${base} is not the file the vendor signed (${verdict.bytes > file.size ? 'larger' : `${verdict.bytes} of ${file.size} bytes`}${verdict.bytes === file.size ? ', another SHA-512' : ''}); the release was not made.`, { url: base, file: file.name, bytes: verdict.bytes });
  }
  return { url: base, verified: true };
}

function shareUnreachable(folder: string, err: unknown): LockstepError {
  return new LockstepError('E_CONNECT', `The package store folder ${folder} cannot be reached (${(err as Error).message}); it must be reachable from this workstation.`, { folder, reason: (err as NodeJS.ErrnoException).code ?? null });
}

/** Where the file lies in the share; a folder that is not there (share offline, no access) is E_CONNECT, a missing file is not. */
function shareSource(folder: string, file: ManifestFile): string {
  try {
    if (!fs.statSync(folder).isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
  } catch (err) {
    throw shareUnreachable(folder, err);
  }
  const source = path.join(folder, plain(file));
  if (!fs.existsSync(source)) throw new LockstepError('E_UPGRADE_UNAVAILABLE', `The package store ${folder} has no ${file.name}.`, { folder, file: file.name });
  return source;
}

/**
 * File share: copied into the part file with the hash computed on the way; a part file from an interrupted copy is
 * continued (its bytes re-hashed), never trusted — a part that is not a prefix of the signed file fails the final check.
 */
export async function copyFromShare(folder: string, file: ManifestFile, destination: string): Promise<TransferResult> {
  const source = shareSource(folder, file);
  const part = `${destination}.part`;
  const hash = createHash('sha512');
  let offset = fs.existsSync(part) ? Math.min(fs.statSync(part).size, file.size) : 0;
  if (offset > 0) {
    fs.truncateSync(part, offset);
    for await (const c of fs.createReadStream(part, { highWaterMark: 1 << 20 })) hash.update(c as Buffer);
  } else {
    fs.writeFileSync(part, '');
  }
  const resumedAt = offset;
  const out = fs.openSync(part, 'a');
  try {
    if (offset < file.size) {
      for await (const c of fs.createReadStream(source, { start: offset, end: file.size - 1, highWaterMark: 1 << 20 })) {
        hash.update(c as Buffer);
        fs.writeSync(out, c as Buffer);
        offset += (c as Buffer).length;
      }
    }
  } catch (err) {
    throw shareUnreachable(folder, err); // the part file keeps what arrived; the next attempt continues there
  } finally {
    fs.closeSync(out);
  }
  return { sha512: hash.digest('base64'), bytes: offset, resumedAt, reconnects: 0 };
}

/** The releasing workstation puts the package into the share (temp name + rename, so readers never see half a file). */
export async function publishToShare(folder: string, localFile: string, file: ManifestFile): Promise<boolean> {
  const target = path.join(folder, plain(file));
  if (await shareHolds(folder, file)) return false;
  try {
    fs.mkdirSync(folder, { recursive: true });
  } catch (err) {
    throw shareUnreachable(folder, err);
  }
  const tmp = `${target}.uploading-${process.pid}`;
  fs.copyFileSync(localFile, tmp);
  if ((await sha512Of(tmp)) !== file.sha512) {
    fs.rmSync(tmp, { force: true });
    throw new LockstepError('E_SIGNATURE', `The local package ${localFile} is not what the vendor signed; nothing was published.`, { file: localFile });
  }
  fs.renameSync(tmp, target);
  return true;
}

/** Whether the share already holds exactly the signed file. */
export async function shareHolds(folder: string, file: ManifestFile): Promise<boolean> {
  const target = path.join(folder, plain(file));
  return fs.existsSync(target) && fs.statSync(target).size === file.size && (await sha512Of(target)) === file.sha512;
}

export async function sha512Of(file: string): Promise<string> {
  const hash = createHash('sha512');
  for await (const c of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(c as Buffer);
  return hash.digest('base64');
}
