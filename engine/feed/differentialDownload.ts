/**
 * Differential download of a signed file (electron-builder block maps, signed in the manifest): fetch the new block
 * map and check its size and SHA-512 against the signed manifest BEFORE parsing it; take the base's block map (the
 * old version's signed one, else computed from the verified base bytes); copy the blocks the base has; fetch the
 * rest with single-range GETs (adjacent blocks merged, a few at a time); then check the assembled file's size and
 * SHA-512 against the signed manifest. Only a file that passed that check leaves this module. Any problem ends in
 * `{ used: false, reason }` (logged with the reason and a code) and the caller runs the full, resumable download.
 *
 * Lockstep assembles the ranges itself rather than driving electron-updater's DifferentialDownloader: that one
 * fetches the old block map unsigned from a URL it derives from the running app's version, takes its base from its
 * own cache layout, sends multi-range requests (multipart/byteranges) and reports no bytes-fetched figure — none of
 * which fits a signed, coded, measurable path. The block map format stays electron-builder's, so electron-updater can
 * still read what the feed publishes.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CancellationToken, ProgressInfo } from 'builder-util-runtime';
import { ErrorCode, LockstepError } from '../../contract/errors';
import { BlockMapError, MappedBlock, computeBlockMap, parseBlockMap } from '../../kernel/blockMap';
import { ManifestFile } from '../../kernel/catalogSchema';
import { O_NOFOLLOW, openRegularNoFollow } from '../../kernel/noFollowFile';
import { hashFd } from '../keptPackage';
import { DeltaPlan, FetchOp, planDelta } from './deltaPlan';
import type { FeedContext } from './download';
import { HttpStatusError } from './http';
import { cancelledError } from './pump';
import { partPaths } from './resumableDownload';

/** Why a differential download was not used; the full download follows. */
export type DeltaFallbackReason =
  | 'no-block-map' // the signed manifest entry names none
  | 'folder-feed' // the feed is a folder or share: nothing to save
  | 'no-base' // no verified package of an earlier version here
  | 'block-map-unavailable' // the new block map could not be fetched
  | 'block-map-mismatch' // its bytes are not the ones signed
  | 'block-map-invalid' // signed, but not a usable block map
  | 'no-gain' // almost every block would be fetched anyway
  | 'range-failed' // the server did not answer a range as asked
  | 'assembled-mismatch'; // the assembled file is not the signed one

export interface DeltaReport {
  used: boolean;
  reason: DeltaFallbackReason | null;
  /** The error code behind the reason, when it is a fault (tampering, a broken server) rather than a circumstance. */
  code: ErrorCode | null;
  baseVersion: string | null;
  /** Bytes of the file fetched from the feed (ranges only; the block maps are in blockMapBytes). */
  fetchedBytes: number;
  copiedBytes: number;
  blockMapBytes: number;
}

/** A verified earlier package, read through `fd`. */
export interface DeltaBase {
  version: string;
  size: number;
  sha512: string;
  blockMap?: ManifestFile['blockMap'];
  fd: number;
  close(): void;
}

export interface DeltaTarget {
  url: URL;
  file: Pick<ManifestFile, 'name' | 'size' | 'sha512' | 'blockMap'>;
}

export interface DeltaOptions {
  onProgress?: (p: ProgressInfo) => void;
  cancellationToken?: CancellationToken;
  /** Parallel range requests (default 4). */
  concurrency?: number;
  /** Fetching more than this share of the file is not worth the extra requests (default 0.9). */
  maxFetchShare?: number;
}

const PROGRESS_EVERY_MS = 250;
const CODES: Partial<Record<DeltaFallbackReason, ErrorCode>> = {
  'block-map-unavailable': 'E_CONNECT',
  'block-map-mismatch': 'E_SIGNATURE',
  'block-map-invalid': 'E_FEED_INVALID',
  'range-failed': 'E_CONNECT',
  'assembled-mismatch': 'E_CHECKSUM',
};

/** A LockstepError, so the HTTP retry loop treats it as final rather than transient. */
class Fallback extends LockstepError {
  constructor(
    readonly reason: DeltaFallbackReason,
    message: string,
  ) {
    super(CODES[reason] ?? 'E_INTERNAL', message);
  }
}

/**
 * Assembles `target` into `destination` from `base` plus fetched ranges. Never throws for a delta problem (the
 * report says why it was not used); throws only E_CANCELLED. `base` stays open (the caller closes it).
 */
export async function downloadDifferential(ctx: FeedContext, target: DeltaTarget, base: DeltaBase | null, destination: string, options: DeltaOptions = {}): Promise<DeltaReport> {
  const report: DeltaReport = { used: false, reason: null, code: null, baseVersion: base?.version ?? null, fetchedBytes: 0, copiedBytes: 0, blockMapBytes: 0 };
  const signedMap = target.file.blockMap;
  const skip = (reason: DeltaFallbackReason): DeltaReport => {
    ctx.log.info('feed.delta-skipped', { file: target.file.name, reason });
    return { ...report, reason };
  };
  if (!signedMap) return skip('no-block-map');
  if (ctx.source.kind !== 'http') return skip('folder-feed');
  if (!base) return skip('no-base');

  const work = partPaths(path.join(ctx.cacheDir, 'partial'), target.file.sha512).part.replace(/\.part$/, '.delta');
  try {
    const nextMap = await fetchSignedBlockMap(ctx, signedMap, report);
    const next = parseOr(nextMap, target.file.size, 'the new block map');
    const old = await baseBlocks(ctx, base, report);
    const plan = planDelta(old, next);
    if (plan.fetchBytes > (options.maxFetchShare ?? 0.9) * target.file.size) throw new Fallback('no-gain', `${plan.fetchBytes} of ${target.file.size} bytes would be fetched`);
    ctx.log.info('feed.delta-plan', { file: target.file.name, baseVersion: base.version, copyBytes: plan.copyBytes, fetchBytes: plan.fetchBytes, ranges: plan.fetches.length });
    await assemble(ctx, target, base, plan, work, report, options);
    fs.mkdirSync(path.dirname(destination), { recursive: true });
    fs.renameSync(work, destination);
    ctx.log.info('feed.delta-downloaded', { file: target.file.name, baseVersion: base.version, fetchedBytes: report.fetchedBytes, copiedBytes: report.copiedBytes, blockMapBytes: report.blockMapBytes, size: target.file.size });
    return { ...report, used: true };
  } catch (err) {
    fs.rmSync(work, { force: true });
    if (err instanceof LockstepError && err.code === 'E_CANCELLED') throw err;
    if (!(err instanceof Fallback)) {
      // Anything unforeseen is still no reason to fail the update: the full download decides.
      return fallBack(ctx, target, report, 'range-failed', (err as Error).message);
    }
    return fallBack(ctx, target, report, err.reason, err.message);
  }
}

function fallBack(ctx: FeedContext, target: DeltaTarget, report: DeltaReport, reason: DeltaFallbackReason, message: string): DeltaReport {
  const code = CODES[reason] ?? null;
  ctx.log.warn('feed.delta-fallback', { file: target.file.name, reason, code, message, fetchedBytes: report.fetchedBytes, then: 'full download' });
  return { ...report, used: false, reason, code };
}

/** The block map's bytes, only if they are exactly the signed ones (size first: nothing beyond it is read). */
async function fetchSignedBlockMap(ctx: FeedContext, signed: NonNullable<ManifestFile['blockMap']>, report: DeltaReport): Promise<Buffer> {
  let body: Buffer;
  try {
    body = (await ctx.source.get(new URL(signed.name, ctx.feedUrl), {}, signed.size)).body;
  } catch (err) {
    if (err instanceof LockstepError && err.code === 'E_FEED_INVALID') throw new Fallback('block-map-mismatch', `${signed.name} is larger than its signed ${signed.size} bytes`);
    throw new Fallback('block-map-unavailable', `${signed.name} could not be fetched (${(err as Error).message})`);
  }
  report.blockMapBytes += body.length;
  const actual = createHash('sha512').update(body).digest('base64');
  if (body.length !== signed.size || actual !== signed.sha512) throw new Fallback('block-map-mismatch', `${signed.name} does not match its signed size and SHA-512`);
  return body;
}

function parseOr(gzipped: Buffer, size: number, what: string): MappedBlock[] {
  try {
    return parseBlockMap(gzipped, size);
  } catch (err) {
    if (err instanceof BlockMapError) throw new Fallback('block-map-invalid', `${what} cannot be used: ${err.message}`);
    throw err;
  }
}

/** The base's blocks: its own signed block map when the feed still has it, else computed from its verified bytes. */
async function baseBlocks(ctx: FeedContext, base: DeltaBase, report: DeltaReport): Promise<MappedBlock[]> {
  if (base.blockMap) {
    try {
      return parseOr(await fetchSignedBlockMap(ctx, base.blockMap, report), base.size, 'the base block map');
    } catch (err) {
      if (!(err instanceof Fallback)) throw err;
      ctx.log.info('feed.delta-base-map-computed', { baseVersion: base.version, because: err.message });
    }
  }
  const computed = await computeBlockMap(base.fd);
  const file = computed.files[0]!;
  let offset = 0;
  return file.sizes.map((size, i) => {
    const block = { offset, size, checksum: file.checksums[i]! };
    offset += size;
    return block;
  });
}

async function assemble(ctx: FeedContext, target: DeltaTarget, base: DeltaBase, plan: DeltaPlan, work: string, report: DeltaReport, options: DeltaOptions): Promise<void> {
  fs.mkdirSync(path.dirname(work), { recursive: true });
  fs.rmSync(work, { force: true });
  const fd = fs.openSync(work, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL | O_NOFOLLOW, 0o600);
  try {
    fs.ftruncateSync(fd, target.file.size);
    const buf = Buffer.allocUnsafe(1024 * 1024);
    for (const op of plan.copies) {
      for (let done = 0; done < op.size; ) {
        const n = fs.readSync(base.fd, buf, 0, Math.min(buf.length, op.size - done), op.from + done);
        if (n === 0) throw new Fallback('assembled-mismatch', 'the base ended early');
        fs.writeSync(fd, buf, 0, n, op.to + done);
        done += n;
      }
      report.copiedBytes += op.size;
    }
    await fetchRanges(ctx, target, plan, fd, report, options);
    // The one check that matters: the assembled bytes are the signed file, whatever the maps and the server said.
    const size = fs.fstatSync(fd).size;
    const actual = await hashFd(fd);
    if (size !== target.file.size || actual !== target.file.sha512) throw new Fallback('assembled-mismatch', `the assembled ${target.file.name} does not match its signed SHA-512`);
  } finally {
    fs.closeSync(fd);
  }
}

async function fetchRanges(ctx: FeedContext, target: DeltaTarget, plan: DeltaPlan, fd: number, report: DeltaReport, options: DeltaOptions): Promise<void> {
  const queue = [...plan.fetches];
  const started = Date.now();
  let lastProgress = 0;
  const progress = (delta: number, force = false) => {
    const now = Date.now();
    if (!options.onProgress || (!force && now - lastProgress < PROGRESS_EVERY_MS)) return;
    lastProgress = now;
    const done = report.fetchedBytes;
    options.onProgress({ total: plan.fetchBytes, delta, transferred: done, percent: plan.fetchBytes ? (done / plan.fetchBytes) * 100 : 100, bytesPerSecond: Math.round(done / Math.max((now - started) / 1000, 0.001)) });
  };
  const worker = async () => {
    for (let op = queue.shift(); op; op = queue.shift()) {
      if (options.cancellationToken?.cancelled) throw cancelledError();
      await fetchRange(ctx, target, op, fd, (n) => {
        report.fetchedBytes += n;
        progress(n);
      }, options.cancellationToken);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, queue.length)) }, worker));
  progress(0, true);
}

/** One range, retried on transient failures; 206 with exactly the asked range, never a byte more than asked. */
async function fetchRange(ctx: FeedContext, target: DeltaTarget, op: FetchOp, fd: number, onBytes: (n: number) => void, token?: CancellationToken): Promise<void> {
  let written = 0;
  try {
    await ctx.http.withRetries(target.url, `fetching bytes ${op.to}-${op.to + op.size - 1} of ${target.file.name}`, async () => {
      const from = op.to + written;
      const last = op.to + op.size - 1;
      const { req, res } = await ctx.http.open(target.url, { Range: `bytes=${from}-${last}` });
      const status = res.statusCode ?? 0;
      const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(String(res.headers['content-range'] ?? ''));
      if (status !== 206 || !range || Number(range[1]) !== from || Number(range[2]) !== last || Number(range[3]) !== target.file.size) {
        res.destroy();
        req.destroy();
        if (status >= 500) throw new HttpStatusError(status, target.url.href);
        throw new Fallback('range-failed', `the server answered ${status} ${String(res.headers['content-range'] ?? '')} to a request for bytes ${from}-${last}`);
      }
      for await (const chunk of res) {
        if (token?.cancelled) {
          res.destroy();
          throw cancelledError();
        }
        const data = chunk as Buffer;
        if (written + data.length > op.size) {
          res.destroy();
          throw new Fallback('range-failed', `the server sent more than the ${op.size} bytes asked for`);
        }
        fs.writeSync(fd, data, 0, data.length, op.to + written);
        written += data.length;
        onBytes(data.length);
      }
      if (written < op.size) throw new Error(`the range ended after ${written} of ${op.size} bytes`);
    }, () => written > 0);
  } catch (err) {
    if (err instanceof Fallback || (err instanceof LockstepError && err.code === 'E_CANCELLED')) throw err;
    throw new Fallback('range-failed', (err as Error).message);
  }
}

/** A finished earlier download as a base: opened without following a link, used only if it still matches `info`. */
export async function openVerifiedBase(file: string, info: Omit<DeltaBase, 'fd' | 'close'>): Promise<DeltaBase | null> {
  let opened: ReturnType<typeof openRegularNoFollow>;
  try {
    opened = openRegularNoFollow(file);
  } catch {
    return null;
  }
  const close = () => fs.closeSync(opened.fd);
  if (opened.stat.size !== info.size || (await hashFd(opened.fd)) !== info.sha512) {
    close();
    return null;
  }
  return { ...info, fd: opened.fd, close };
}
