/**
 * The transfer that survives anything (S7): bytes go to a part file in the download cache whose companion JSON names
 * what it is (URL, signed size, signed SHA-512, the server's ETag). A dropped connection, a time-out, a 5xx or a
 * restart of the app leave the part file where it is; the next attempt asks for the rest with `Range: bytes=N-`
 * (guarded by If-Range, so a changed file on the server starts over instead of splicing two files). The signed size is
 * a hard limit: nothing beyond it is written, the connection is cut there. SHA-512 is computed on the fly (after
 * re-reading the existing part once when resuming in a new process) and compared before the file is handed on.
 */
import { createHash, Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CancellationToken, ProgressInfo } from 'builder-util-runtime';
import { LockstepError } from '../../common/errors';
import { FeedHttp, HttpStatusError } from './http';

export interface DownloadTarget {
  url: URL;
  /** From the signed manifest. */
  size: number;
  /** Base64 SHA-512 from the signed manifest. */
  sha512: string;
}

interface PartMeta {
  url: string;
  size: number;
  sha512: string;
  etag: string | null;
}

export interface ResumableOptions {
  onProgress?: (p: ProgressInfo) => void;
  cancellationToken?: CancellationToken;
}

const PROGRESS_EVERY_MS = 250;

export function partPaths(partialDir: string, sha512: string): { part: string; meta: string } {
  const id = Buffer.from(sha512, 'base64').subarray(0, 12).toString('hex');
  return { part: path.join(partialDir, `${id}.part`), meta: path.join(partialDir, `${id}.part.json`) };
}

async function hashExisting(file: string, bytes: number): Promise<Hash> {
  const hash = createHash('sha512');
  if (bytes === 0) return hash;
  for await (const chunk of fs.createReadStream(file, { start: 0, end: bytes - 1, highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash;
}

function diskError(err: NodeJS.ErrnoException, dir: string): LockstepError {
  if (err.code === 'ENOSPC') return new LockstepError('E_DISK_FULL', `The disk holding ${dir} is full.`, { path: dir });
  return new LockstepError('E_INTERNAL', `Writing to ${dir} failed: ${err.message}`, { path: dir });
}

export class ResumableDownloader {
  constructor(
    private readonly http: FeedHttp,
    private readonly partialDir: string,
  ) {}

  /** How many bytes of this target are already on disk (0 when none or when they belong to something else). */
  existingBytes(target: DownloadTarget): number {
    const { part, meta } = partPaths(this.partialDir, target.sha512);
    try {
      const m = JSON.parse(fs.readFileSync(meta, 'utf8')) as PartMeta;
      if (m.sha512 !== target.sha512 || m.size !== target.size) return 0;
      return Math.min(fs.statSync(part).size, target.size);
    } catch {
      return 0;
    }
  }

  /** Downloads (or finishes) the target into `destination`. The part file is removed only once the bytes verified. */
  async download(target: DownloadTarget, destination: string, options: ResumableOptions = {}): Promise<void> {
    fs.mkdirSync(this.partialDir, { recursive: true });
    const { part, meta } = partPaths(this.partialDir, target.sha512);
    let etag: string | null = null;
    let offset = this.existingBytes(target);
    if (offset === 0) {
      fs.writeFileSync(part, '');
    } else {
      etag = (JSON.parse(fs.readFileSync(meta, 'utf8')) as PartMeta).etag;
      if (fs.statSync(part).size > offset) fs.truncateSync(part, offset);
    }
    const writeMeta = () => fs.writeFileSync(meta, JSON.stringify({ url: target.url.href, size: target.size, sha512: target.sha512, etag } satisfies PartMeta));
    writeMeta();
    let hash = await hashExisting(part, offset);
    const started = Date.now();
    const startOffset = offset;
    let lastProgress = 0;
    let progressAtFailure = offset;
    const progress = (delta: number, force = false) => {
      const now = Date.now();
      if (!options.onProgress || (!force && now - lastProgress < PROGRESS_EVERY_MS)) return;
      lastProgress = now;
      const seconds = Math.max((now - started) / 1000, 0.001);
      options.onProgress({ total: target.size, delta, transferred: offset, percent: target.size ? (offset / target.size) * 100 : 100, bytesPerSecond: Math.round((offset - startOffset) / seconds) });
    };

    await this.http.withRetries(
      target.url,
      `downloading ${path.basename(target.url.pathname)}`,
      async () => {
        if (options.cancellationToken?.cancelled) throw new LockstepError('E_CANCELLED', 'The download was cancelled; it resumes where it stopped.');
        if (offset >= target.size) return;
        const headers: Record<string, string> = offset > 0 ? { Range: `bytes=${offset}-`, ...(etag ? { 'If-Range': etag } : {}) } : {};
        const { req, res } = await this.http.open(target.url, headers);
        const status = res.statusCode ?? 0;
        if (status === 416 && offset > 0) {
          res.resume();
          offset = 0; // the server has fewer bytes than we do: start over
          fs.truncateSync(part, 0);
          hash = createHash('sha512');
          throw new HttpStatusError(503, target.url.href);
        }
        if (status >= 400) {
          res.resume();
          throw new HttpStatusError(status, target.url.href);
        }
        const contentRange = /^bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''));
        if (status === 206 && contentRange && Number(contentRange[1]) === offset) {
          // continuing exactly where the part file ends
        } else if (status === 200) {
          if (offset > 0) {
            offset = 0; // the server ignored the range or the file changed (If-Range): start over
            fs.truncateSync(part, 0);
            hash = createHash('sha512');
          }
        } else {
          res.destroy();
          throw new HttpStatusError(502, target.url.href);
        }
        etag = typeof res.headers.etag === 'string' ? res.headers.etag : null;
        writeMeta();
        await this.pump(res, req, part, target, (chunk) => {
          hash.update(chunk);
          offset += chunk.length;
          progress(chunk.length);
        }, options.cancellationToken);
        if (offset < target.size) throw new Error(`the connection ended after ${offset} of ${target.size} bytes`);
      },
      () => {
        const moved = offset > progressAtFailure;
        progressAtFailure = offset;
        return moved;
      },
    );
    progress(0, true);
    const actual = hash.digest('base64');
    if (actual !== target.sha512) {
      fs.rmSync(part, { force: true });
      fs.rmSync(meta, { force: true });
      throw new LockstepError('E_CHECKSUM', `${path.basename(target.url.pathname)} does not match its signed SHA-512 (expected ${target.sha512.slice(0, 16)}…, got ${actual.slice(0, 16)}…).`, {
        file: path.basename(target.url.pathname),
        expected: target.sha512,
        actual,
      });
    }
    fs.renameSync(part, destination);
    fs.rmSync(meta, { force: true });
  }

  /**
   * Appends the body to the part file, never past the signed size; cuts the connection when the limit is reached.
   * Chunks are gathered into 4 MiB buffers that are written by the thread pool while the main thread goes on reading
   * and hashing the next one (two buffers: double buffering). With both in flight the socket is paused, so memory
   * stays bounded at a few slabs whatever the server's pace. Measured in bench/download.
   */
  private pump(res: NodeJSReadable, req: { destroy(): void }, part: string, target: DownloadTarget, onChunk: (b: Buffer) => void, token?: CancellationToken): Promise<void> {
    const SLAB = 4 * 1024 * 1024;
    return new Promise((resolve, reject) => {
      const fd = fs.openSync(part, 'a');
      let written = fs.fstatSync(fd).size;
      const free: Buffer[] = [Buffer.allocUnsafe(SLAB), Buffer.allocUnsafe(SLAB)];
      let current = free.pop()!;
      let filled = 0;
      let inFlight = 0;
      let writeError: Error | null = null;
      let ended: Error | null | undefined; // undefined: still receiving
      let settled = false;
      const queue: Array<{ buf: Buffer; len: number }> = [];

      const settle = () => {
        if (settled || ended === undefined || inFlight > 0 || queue.length > 0) return;
        settled = true;
        fs.closeSync(fd);
        const failure = writeError ?? ended;
        if (failure) reject(failure);
        else resolve();
      };
      const pumpQueue = () => {
        if (inFlight > 0 || queue.length === 0) return;
        const { buf, len } = queue.shift()!;
        inFlight++;
        const writeAll = (off: number) => {
          fs.write(fd, buf, off, len - off, null, (err, n) => {
            if (err) {
              writeError ??= diskError(err as NodeJS.ErrnoException, path.dirname(part));
              queue.length = 0;
              res.destroy();
            } else if (off + n < len) {
              return writeAll(off + n);
            }
            inFlight--;
            free.push(buf);
            if (res.isPaused() && ended === undefined && !writeError) res.resume();
            pumpQueue();
            settle();
          });
        };
        writeAll(0);
      };
      // A slow or stalled transfer still reaches the disk within a quarter second, so a crash or a kill loses little.
      let flushTimer: NodeJS.Timeout | null = null;
      const submit = () => {
        if (flushTimer) clearTimeout(flushTimer);
        flushTimer = null;
        if (filled === 0) return;
        queue.push({ buf: current, len: filled });
        filled = 0;
        current = free.pop() ?? Buffer.allocUnsafe(0);
        pumpQueue();
      };
      const finish = (err: Error | null) => {
        if (ended !== undefined) return;
        ended = err;
        token?.removeListener('cancel', onCancel);
        res.removeAllListeners('data');
        if (!writeError) submit(); // whatever arrived is kept: the next attempt continues after it
        settle();
      };
      const onCancel = () => {
        res.destroy();
        finish(new LockstepError('E_CANCELLED', 'The download was cancelled; it resumes where it stopped.'));
      };
      token?.once('cancel', onCancel);
      res.on('data', (chunk: Buffer) => {
        if (writeError) return;
        const room = target.size - written;
        let take = chunk.length > room ? chunk.subarray(0, room) : chunk;
        written += take.length;
        if (take.length > 0) onChunk(take);
        while (take.length > 0) {
          if (current.length === 0) {
            // Both slabs are with the disk and a chunk was already read: one more slab joins the pool.
            current = Buffer.allocUnsafe(SLAB);
          }
          const n = Math.min(take.length, current.length - filled);
          take.copy(current, filled, 0, n);
          if (filled === 0 && !flushTimer) flushTimer = setTimeout(submit, 250);
          filled += n;
          take = take.subarray(n);
          if (filled === current.length) submit();
        }
        if (queue.length > 0) res.pause(); // one slab writing, one waiting: enough in memory
        if (written >= target.size) {
          // Hard stop at the signed size: whatever else the server sends is never read.
          req.destroy();
          res.destroy();
          finish(null);
        }
      });
      res.on('end', () => finish(null));
      res.on('aborted', () => finish(new Error('the server closed the connection mid-transfer')));
      res.on('error', (err) => finish(err));
      res.on('close', () => finish(res.complete ? null : new Error('the connection closed mid-transfer')));
    });
  }
}

type NodeJSReadable = import('node:http').IncomingMessage;
