/**
 * Package stores for large sites (S17): instead of the shared database, a web server (HTTP/HTTPS) or a file-share
 * folder holds the package files under their plain (signed) names — for example a mirror of the vendor feed folder.
 * The release row still says which version; what is fetched is verified exactly like a package from the database.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError, isLockstepError } from '../../common/errors';
import { ManifestFile, isPlainName } from '../feed/catalogSchema';
import { FeedHttp } from '../feed/http';
import { ResumableDownloader } from '../feed/resumableDownload';
import { Logger } from '../log';
import { TransferResult } from './dbTransfer';

function plain(file: ManifestFile): string {
  if (!isPlainName(file.name)) throw new LockstepError('E_SIGNATURE', `The package name "${file.name}" is not a plain file name.`, { name: file.name });
  return file.name;
}

/** HTTP(S): the resumable transfer of the feed download (Range + If-Range, hard stop at the signed size, SHA-512). */
export async function downloadFromHttp(baseUrl: string, file: ManifestFile, destination: string, log: Logger, http?: FeedHttp): Promise<TransferResult> {
  const base = baseUrl.endsWith('/') ? baseUrl : `${baseUrl}/`;
  const client = http ?? new FeedHttp({ licenseNumber: null, proxy: null, timeoutMs: 30_000, retries: 4, retryDelayMs: 1_000, log });
  const downloader = new ResumableDownloader(client, path.join(path.dirname(destination), 'partial'));
  try {
    await downloader.download({ url: new URL(plain(file), base), size: file.size, sha512: file.sha512 }, destination);
  } catch (err) {
    // Not the signed bytes: the same verdict as a changed chunk in the database.
    if (isLockstepError(err, 'E_CHECKSUM')) throw new LockstepError('E_SIGNATURE', `${file.name} on the package server ${base} is not what the vendor signed; nothing was installed.`, { url: base, file: file.name });
    throw err;
  }
  return { sha512: file.sha512, bytes: file.size, resumedAt: 0, reconnects: 0 };
}

/**
 * File share: copied into the part file with the hash computed on the way; a part file from an interrupted copy is
 * continued (its bytes re-hashed), never trusted.
 */
export async function copyFromShare(folder: string, file: ManifestFile, destination: string): Promise<TransferResult> {
  const source = path.join(folder, plain(file));
  if (!fs.existsSync(source)) throw new LockstepError('E_UPGRADE_UNAVAILABLE', `The package store ${folder} has no ${file.name}.`, { folder, file: file.name });
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
  } finally {
    fs.closeSync(out);
  }
  return { sha512: hash.digest('base64'), bytes: offset, resumedAt, reconnects: 0 };
}

/** The releasing workstation puts the package into the share (temp name + rename, so readers never see half a file). */
export async function publishToShare(folder: string, localFile: string, file: ManifestFile): Promise<boolean> {
  const target = path.join(folder, plain(file));
  if (fs.existsSync(target) && fs.statSync(target).size === file.size && (await sha512Of(target)) === file.sha512) return false;
  fs.mkdirSync(folder, { recursive: true });
  const tmp = `${target}.uploading-${process.pid}`;
  fs.copyFileSync(localFile, tmp);
  if ((await sha512Of(tmp)) !== file.sha512) {
    fs.rmSync(tmp, { force: true });
    throw new LockstepError('E_SIGNATURE', `The local package ${localFile} is not what the vendor signed; nothing was published.`, { file: localFile });
  }
  fs.renameSync(tmp, target);
  return true;
}

export async function sha512Of(file: string): Promise<string> {
  const hash = createHash('sha512');
  for await (const c of fs.createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(c as Buffer);
  return hash.digest('base64');
}
