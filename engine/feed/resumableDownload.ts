/**
 * The transfer that survives anything (S7): bytes go to a part file in the download cache whose companion JSON names
 * what it is (URL, signed size, signed SHA-512, the source's ETag). A dropped connection, a time-out, a 5xx or a
 * restart of the app leave the part file where it is; the next attempt asks for the rest with `Range: bytes=N-`
 * (guarded by If-Range, so a changed file on the server starts over instead of splicing two files). The signed size is
 * a hard limit: nothing beyond it is written, the connection is cut there. SHA-512 is computed on the way by a worker
 * thread (hashingWriter.ts; after re-reading the existing part once when resuming in a new process) and compared
 * before the file is handed on. A feed folder (S21, folderSource.ts) goes through the same part file, hash and limit.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CancellationToken, ProgressInfo } from 'builder-util-runtime';
import { LockstepError, isLockstepError } from '../../contract/errors';
import { FeedSource, httpFeedSource } from './feedSource';
import { HashingWriter } from './hashingWriter';
import { FeedHttp } from './http';
import { cancelledError, pumpInto } from './pump';
import { DEFAULT_PACE } from '../../kernel/feedConfig';
import { TransferPace } from './transferPace';

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

export class ResumableDownloader {
  constructor(
    private readonly http: FeedHttp,
    private readonly partialDir: string,
    /** Where the bytes come from, chosen once with the feed (feedSource.ts); a package store is always HTTP. */
    private readonly source: FeedSource = httpFeedSource(http),
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
    const keep = this.existingBytes(target);
    let etag: string | null = keep > 0 ? (JSON.parse(fs.readFileSync(meta, 'utf8')) as PartMeta).etag : null;
    const writeMeta = () => fs.writeFileSync(meta, JSON.stringify({ url: target.url.href, size: target.size, sha512: target.sha512, etag } satisfies PartMeta));
    writeMeta();
    const writer = await HashingWriter.open(part, keep);
    try {
      const started = Date.now();
      let lastProgress = 0;
      let progressAtFailure = keep;
      const progress = (delta: number, force = false) => {
        const now = Date.now();
        if (!options.onProgress || (!force && now - lastProgress < PROGRESS_EVERY_MS)) return;
        lastProgress = now;
        const seconds = Math.max((now - started) / 1000, 0.001);
        const done = writer.bytes;
        options.onProgress({ total: target.size, delta, transferred: done, percent: target.size ? (done / target.size) * 100 : 100, bytesPerSecond: Math.round((done - keep) / seconds) });
      };

      const name = path.basename(target.url.pathname);
      const pace = new TransferPace(this.http.options.pace ?? DEFAULT_PACE, { source: this.source.describe(target.url), url: target.url.href, file: name, size: target.size });
      const discard = async () => {
        await writer.close();
        fs.rmSync(part, { force: true });
        fs.rmSync(meta, { force: true });
      };
      await this.http.withRetries(
        target.url,
        `downloading ${path.basename(target.url.pathname)}`,
        async () => {
          if (options.cancellationToken?.cancelled) throw cancelledError();
          if (writer.bytes >= target.size) return;
          const overdue = pace.overdue(writer.bytes);
          if (overdue) throw overdue;
          const opened = await this.source.open(target.url, writer.bytes, etag, target.size, () => writer.restart());
          // The source starts at 0 (no range support, or the file changed since the part was written): start over.
          if (opened.from === 0 && writer.bytes > 0) await writer.restart();
          this.http.options.log?.info('feed.transfer', { url: target.url.href, from: opened.from, size: target.size });
          etag = opened.etag;
          writeMeta();
          await pumpInto(opened.source, writer, target.size, progress, options.cancellationToken, (fail) => pace.watch(() => writer.bytes, fail));
          if (writer.bytes < target.size) throw new Error(`the transfer ended after ${writer.bytes} of ${target.size} bytes`);
        },
        () => {
          const moved = writer.bytes > progressAtFailure;
          progressAtFailure = writer.bytes;
          return moved;
        },
        (err, url, what) => this.source.translate(err, url, what),
      ).catch(async (err: unknown) => {
        if (isLockstepError(err, 'E_CHECKSUM')) await discard(); // the source itself is not the signed file
        throw err;
      });
      progress(0, true);
      const actual = await writer.digest();
      await writer.close();
      if (actual !== target.sha512) {
        await discard();
        throw new LockstepError('E_CHECKSUM', `${path.basename(target.url.pathname)} does not match its signed SHA-512 (expected ${target.sha512.slice(0, 16)}…, got ${actual.slice(0, 16)}…).`, {
          file: path.basename(target.url.pathname),
          expected: target.sha512,
          actual,
        });
      }
      fs.renameSync(part, destination);
      fs.rmSync(meta, { force: true });
    } finally {
      await writer.close();
    }
  }
}
