/**
 * A feed in a folder or on a file share (S21): `feed.url` is a `file:` URL or a plain path (a mounted share, a UNC
 * path on Windows). The folder holds exactly what a web server would serve — the signed catalog and the installers —
 * and goes through the same checks: the catalog's signature, freshness and plain names; every file copied into the
 * part file with SHA-512 on the way and a hard stop at the signed size; resume after an interruption (the part file
 * is continued when the source file is unchanged, judged by size + mtime like an HTTP ETag); bounded retries; and
 * E_CONNECT naming the folder that must be reachable.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LockstepError, isLockstepError } from '../../contract/errors';
import { etagOf } from './etag';
import type { Response } from './http';
import type { PumpSource } from './pump';

/** The feed folder a file URL lives in, as a person would type it (C:\feed, \\server\share\feed, /mnt/feed). */
export function folderOf(url: URL): string {
  return path.dirname(fileURLToPath(url));
}

/** The catalog from a folder, with the 304 of a conditional request when it is unchanged (ETag from size + mtime). */
export async function getFolderFile(url: URL, conditional: Record<string, unknown>, maxBytes: number): Promise<Response> {
  const handle = await fs.promises.open(fileURLToPath(url), 'r');
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) throw Object.assign(new Error(`${fileURLToPath(url)} is not a file`), { code: 'EISDIR' });
    const headers = { etag: etagOf(stat), 'last-modified': stat.mtime.toUTCString() };
    const ifNoneMatch = Object.entries(conditional).find(([k]) => k.toLowerCase() === 'if-none-match')?.[1];
    if (ifNoneMatch === headers.etag) return { status: 304, headers, body: Buffer.alloc(0) };
    if (stat.size > maxBytes) throw new LockstepError('E_FEED_INVALID', `${fileURLToPath(url)} is larger than ${maxBytes} bytes.`, { url: url.href });
    return { status: 200, headers, body: await handle.readFile() };
  } finally {
    await handle.close();
  }
}

export interface OpenedFolderFile {
  /** Where the read starts: `offset` when the part file can be continued, 0 when the source changed. */
  from: number;
  etag: string;
  source: PumpSource;
}

/** Opens a feed file for copying from `offset` — only if it is still the file the part came from (`etag`). */
export async function openFolderFile(url: URL, offset: number, etag: string | null, signedSize: number): Promise<OpenedFolderFile> {
  const file = fileURLToPath(url);
  const handle = await fs.promises.open(file, 'r');
  let stat: fs.Stats;
  try {
    stat = await handle.stat();
  } catch (err) {
    await handle.close();
    throw err;
  }
  if (stat.size < signedSize) {
    await handle.close();
    throw new LockstepError('E_CHECKSUM', `${path.basename(file)} in ${path.dirname(file)} has ${stat.size} bytes; its signed size is ${signedSize}.`, { file: path.basename(file), folder: path.dirname(file) });
  }
  const id = etagOf(stat);
  const from = offset > 0 && etag === id ? offset : 0;
  // The stream owns the handle from here and closes it when it ends or is destroyed.
  const stream = fs.createReadStream('', { fd: handle, start: from, highWaterMark: 1024 * 1024 });
  return { from, etag: id, source: { stream, stop: () => stream.destroy() } };
}

/** E_CONNECT for a folder feed: names the folder that must be reachable (a share not mounted, no access, gone). */
export function folderError(err: unknown, url: URL, what: string): LockstepError {
  if (isLockstepError(err)) return err;
  const folder = folderOf(url);
  const e = err as NodeJS.ErrnoException;
  const name = path.basename(fileURLToPath(url));
  const folderThere = e.code === 'ENOENT' && fs.existsSync(folder);
  const message = folderThere
    ? `The update folder ${folder} has no file ${name} (while ${what}); the feed in that folder is incomplete or being replaced.`
    : `The update folder ${folder} is not reachable while ${what} (${e.code ?? 'error'}: ${e.message}); ${folder} must be reachable from this workstation (share connected, read access).`;
  return new LockstepError('E_CONNECT', message, {
    host: folder,
    folder,
    url: url.href,
    ...(e.code ? { errno: e.code } : {}),
  });
}
