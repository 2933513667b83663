/**
 * Streams a package out of the shared database into a part file (S17): a few consecutive chunks per query (one round
 * trip each), `prefetch` such queries in flight while the previous batch is hashed and written, so memory stays at
 * (prefetch + 1) batches whatever the package size; SHA-512 over the whole file computed on the way; each chunk's
 * size and SHA-256 checked as it arrives. A dropped connection costs only the chunk in flight: the transfer resumes at
 * that chunk on a fresh connection, and a part file left by an earlier process resumes at its last whole chunk.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { LockstepError, toLockstepError } from '../../contract/errors';
import { isTransientDbError } from '../../db/errors';
import { PackageInfo, PackageStore } from '../../db/packageStore';
import { Logger } from '../../kernel/log';

export interface ChunkProgress {
  seq: number;
  chunkCount: number;
  bytes: number;
  total: number;
}

export interface DbTransferOptions {
  retries: number;
  log: Logger;
  /** Awaited after each chunk is on disk: progress, lease renewal, and the tests' fault injection. */
  onChunk?: (p: ChunkProgress) => Promise<void> | void;
  sleep?: (ms: number) => Promise<void>;
  /** Queries requested ahead (memory: about this many batches more). */
  prefetch?: number;
  /** Chunks fetched per query; default as many as fit in 8 MiB, at most 8 (fewer, larger reads measured faster). */
  chunksPerQuery?: number;
}

export interface TransferResult {
  sha512: string;
  bytes: number;
  /** Chunk the transfer started at (non-zero: continued a part file). */
  resumedAt: number;
  /** Chunks fetched again after a dropped connection. */
  reconnects: number;
}

interface PartMeta {
  releaseId: number;
  sha512: string;
  chunkSize: number;
}

function expectedSize(info: PackageInfo, seq: number): number {
  return seq === info.chunkCount - 1 ? info.size - seq * info.chunkSize : info.chunkSize;
}

/** Whole chunks of a part file from an earlier attempt of the same package, re-hashed into `hash`. */
function continuePart(part: string, metaFile: string, info: PackageInfo, hash: ReturnType<typeof createHash>): number {
  let meta: PartMeta;
  try {
    meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as PartMeta;
  } catch {
    return 0;
  }
  if (meta.releaseId !== info.releaseId || meta.sha512 !== info.sha512 || meta.chunkSize !== info.chunkSize || !fs.existsSync(part)) return 0;
  const whole = Math.min(Math.floor(fs.statSync(part).size / info.chunkSize), info.chunkCount - 1);
  fs.truncateSync(part, whole * info.chunkSize);
  const fd = fs.openSync(part, 'r');
  try {
    const buf = Buffer.allocUnsafe(Math.min(info.chunkSize, 1 << 20));
    let left = whole * info.chunkSize;
    while (left > 0) {
      const n = fs.readSync(fd, buf, 0, Math.min(buf.length, left), null);
      if (n <= 0) break;
      hash.update(buf.subarray(0, n));
      left -= n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return whole;
}

export async function downloadFromDatabase(store: PackageStore, info: PackageInfo, destination: string, o: DbTransferOptions): Promise<TransferResult> {
  const part = `${destination}.part`;
  const metaFile = `${destination}.part.json`;
  const hash = createHash('sha512');
  const resumedAt = continuePart(part, metaFile, info, hash);
  if (resumedAt === 0) fs.writeFileSync(part, '');
  fs.writeFileSync(metaFile, JSON.stringify({ releaseId: info.releaseId, sha512: info.sha512, chunkSize: info.chunkSize } satisfies PartMeta));
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let reconnects = 0;

  const perQuery = Math.max(1, o.chunksPerQuery ?? Math.min(8, Math.floor((8 << 20) / info.chunkSize)));
  const checked = (seq: number, c: { seq: number; bytes: Buffer; sha256: string } | undefined): Buffer => {
    if (!c || c.seq !== seq) throw new LockstepError('E_SIGNATURE', `Chunk ${seq} of version package ${info.fileName} is missing from the shared database; nothing was installed.`, { releaseId: info.releaseId, seq });
    if (c.bytes.length !== expectedSize(info, seq) || createHash('sha256').update(c.bytes).digest('hex') !== c.sha256) {
      throw new LockstepError('E_SIGNATURE', `Chunk ${seq} of version package ${info.fileName} in the shared database was changed or damaged; nothing was installed.`, { releaseId: info.releaseId, seq });
    }
    return c.bytes;
  };
  /** Chunks [from, from + count) in one query; a dropped connection fetches the batch again on a fresh one. */
  const fetchBatch = async (from: number, count: number): Promise<Buffer[]> => {
    for (let failures = 0; ; failures++) {
      try {
        const rows = await store.readChunks(info.releaseId, from, count);
        return Array.from({ length: count }, (_, i) => checked(from + i, rows[i]));
      } catch (err) {
        const e = toLockstepError(err);
        if (!isTransientDbError(e) || failures >= o.retries) throw e;
        reconnects += count;
        o.log.warn('fleet.chunk-retry', { releaseId: info.releaseId, seq: from, chunks: count, attempt: failures + 1, code: e.code });
        await sleep(Math.min(100 * 2 ** failures, 5_000));
      }
    }
  };
  // The next batches are requested while the current one is hashed and written; a failure is held until awaited.
  const prefetch = (from: number) => {
    const p = fetchBatch(from, Math.min(perQuery, info.chunkCount - from));
    p.catch(() => undefined);
    return p;
  };

  const fd = fs.openSync(part, 'a');
  let bytes = resumedAt * info.chunkSize;
  const depth = Math.max(1, o.prefetch ?? 2);
  try {
    // Up to `depth` queries in flight (each on its own pooled connection): the database's per-query latency and
    // per-connection send rate, not the hashing, limit a single stream on PostgreSQL.
    const inFlight: Array<{ from: number; batch: Promise<Buffer[]> }> = [];
    let requested = resumedAt;
    const fill = () => {
      while (requested < info.chunkCount && inFlight.length < depth) {
        inFlight.push({ from: requested, batch: prefetch(requested) });
        requested += Math.min(perQuery, info.chunkCount - requested);
      }
    };
    fill();
    while (inFlight.length > 0) {
      const next = inFlight.shift()!;
      const chunks = await next.batch;
      fill();
      for (const [i, chunk] of chunks.entries()) {
        hash.update(chunk);
        fs.writeSync(fd, chunk);
        bytes += chunk.length;
        await o.onChunk?.({ seq: next.from + i, chunkCount: info.chunkCount, bytes, total: info.size });
      }
    }
  } catch (err) {
    fs.closeSync(fd);
    if (toLockstepError(err).code === 'E_SIGNATURE') dropPart(part, metaFile);
    throw err;
  }
  fs.closeSync(fd);
  return { sha512: hash.digest('base64'), bytes, resumedAt, reconnects };
}

export function dropPart(part: string, metaFile: string): void {
  fs.rmSync(part, { force: true });
  fs.rmSync(metaFile, { force: true });
}
