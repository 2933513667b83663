/**
 * Assembles a block-stored package (blockStore.ts) into a part file from two sources: the blocks of the package this
 * workstation already has (the kept package of its installed version, cut with the same chunker and indexed by hash)
 * and the blocks it lacks, streamed from the shared database several per query. A patch release thus reads about
 * what changed from the database.
 *
 * Every block is checked before it is written: a reused block is read from the base again and re-hashed (the base
 * may change under us — then that block comes from the database instead); a fetched block must have the listed size
 * and hash. The block list itself is unsigned, so the caller still checks the whole file against the vendor-signed
 * SHA-512 before anything is installed. Memory stays at about (prefetch + 1) query batches. A dropped connection
 * costs the batch in flight; a part file left by an earlier process resumes at its last whole block.
 *
 * The base's blocks come from the block list kept beside it when there is one (keptPackage.ts), so a patch neither
 * cuts nor hashes the whole base; only the blocks it reuses are read and hashed. Given a transfer slot, a patch
 * reads its missing blocks first (into a spool file beside the part) and gives the slot back before that local work.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { LockstepError, toLockstepError } from '../../contract/errors';
import { BlockStore, ListedBlock } from '../../db/blockStore';
import { isTransientDbError } from '../../db/errors';
import { PackageInfo } from '../../db/packageStore';
import { ChunkSizes, fdChunks as cutFd } from '../../kernel/contentChunks';
import { Logger } from '../../kernel/log';
import { O_NOFOLLOW } from '../../kernel/noFollowFile';
import { blockSizesFor } from './blockPublish';
import { ChunkProgress, TransferResult, dropPart } from './dbTransfer';
import { TransferSlot } from './transferSlots';

/** A package to reuse blocks from, open for positional reads (the kept package, keptPackage.ts). */
export interface BasePackage {
  fd: number;
  size: number;
  /**
   * Its blocks as cut with the publisher's sizes, when known without reading it (the list kept beside it). Only
   * steers where to look: every block reused is hashed when read, a list that lies costs database reads.
   */
  blocks?: ReadonlyArray<{ offset: number; size: number; sha256: string }>;
}

export interface BlockTransferOptions {
  retries: number;
  log: Logger;
  base: BasePackage | null;
  onChunk?: (p: ChunkProgress) => Promise<void> | void;
  sleep?: (ms: number) => Promise<void>;
  /** Queries requested ahead while one batch is hashed and written. */
  prefetch?: number;
  /** Bytes of blocks fetched per query at most (a batch holds at least one block). */
  batchBytes?: number;
  /**
   * One of the K transfer slots, taken here only for reading blocks from the database (absent: the caller holds what
   * it needs). A patch reads its few missing blocks first and gives the slot back before the local assembly.
   */
  slot?: TransferSlot;
}

export interface BlockTransferResult extends TransferResult {
  /** Block bytes read from the shared database (what a patch should keep small). */
  fromDatabase: number;
  /** Bytes reused from the base package. */
  fromBase: number;
  blocksFromDatabase: number;
  blocksFromBase: number;
  /** Queries that fetched block bytes. */
  queries: number;
  /** The package's blocks in order: true for the assembled bytes once they match the signed SHA-512. */
  list: readonly ListedBlock[];
  /** The chunker's sizes the publisher cut the package with (null: not sizes Lockstep writes). */
  sizes: ChunkSizes | null;
}

/** No block the chunker cuts is larger (its maximum is 256 KiB); a longer listed block is not believed. */
const MAX_BLOCK = 1024 * 1024;
const BATCH_BLOCKS = 256;
const HEX64 = /^[0-9a-f]{64}$/;
/** Bytes read from the base at once: neighbouring reused blocks usually lie side by side there as well. */
const BASE_READ = 256 * 1024;

interface PartMeta {
  releaseId: number;
  sha512: string;
  layout: 'blocks';
}

function damaged(info: PackageInfo, why: string, details: Record<string, unknown> = {}): LockstepError {
  return new LockstepError('E_SIGNATURE', `Version package ${info.fileName} in the shared database ${why}; nothing was installed.`, { releaseId: info.releaseId, ...details });
}

/** The list must tile the signed size exactly, with plausible blocks; anything else is a changed database. */
function checkList(info: PackageInfo, list: readonly ListedBlock[]): void {
  let offset = 0;
  for (const [i, b] of list.entries()) {
    if (b.seq !== i || b.offset !== offset || !(b.size >= 1 && b.size <= MAX_BLOCK) || !HEX64.test(b.sha256)) throw damaged(info, `has a changed block list (entry ${i})`, { seq: i });
    offset += b.size;
  }
  if (list.length === 0 || list.length !== info.chunkCount || offset !== info.size) throw damaged(info, `has a block list of ${offset} bytes in ${list.length} blocks where ${info.size} bytes in ${info.chunkCount} were recorded`);
}

/**
 * Where each wanted block starts in the base (first occurrence): from its kept block list when it has one, else by
 * cutting the base with the publisher's chunker.
 */
async function indexBase(base: BasePackage, sizes: ChunkSizes, wanted: ReadonlySet<string>): Promise<Map<string, number>> {
  const at = new Map<string, number>();
  if (base.blocks) {
    for (const b of base.blocks) if (wanted.has(b.sha256) && !at.has(b.sha256) && b.offset + b.size <= base.size) at.set(b.sha256, b.offset);
    return at;
  }
  for await (const c of cutFd(base.fd, sizes)) {
    const hex = c.sha256.toString('hex');
    if (wanted.has(hex) && !at.has(hex)) at.set(hex, c.offset);
  }
  return at;
}

/** Whole blocks of a part file from an earlier attempt of the same package, re-hashed into `hash`: the next seq. */
function continuePart(part: string, metaFile: string, info: PackageInfo, list: readonly ListedBlock[], hash: ReturnType<typeof createHash>): number {
  let meta: PartMeta;
  try {
    meta = JSON.parse(fs.readFileSync(metaFile, 'utf8')) as PartMeta;
  } catch {
    return 0;
  }
  if (meta.releaseId !== info.releaseId || meta.sha512 !== info.sha512 || meta.layout !== 'blocks' || !fs.existsSync(part)) return 0;
  const have = fs.statSync(part).size;
  let seq = 0;
  while (seq < list.length && list[seq]!.offset + list[seq]!.size <= have) seq++;
  // The last block is written by the transfer itself, so a part never counts as finished here.
  seq = Math.min(seq, list.length - 1);
  const keep = list[seq]!.offset;
  fs.truncateSync(part, keep);
  const fd = fs.openSync(part, 'r');
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (let position = 0; position < keep; ) {
      const n = fs.readSync(fd, buf, 0, Math.min(buf.length, keep - position), position);
      if (n <= 0) break;
      hash.update(buf.subarray(0, n));
      position += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return seq;
}

/** Consecutive runs of the blocks to fetch, each at most `batchBytes` (and BATCH_BLOCKS) long. */
function planBatches(fetch: readonly ListedBlock[], batchBytes: number): ListedBlock[][] {
  const out: ListedBlock[][] = [];
  let batch: ListedBlock[] = [];
  let bytes = 0;
  for (const b of fetch) {
    if (batch.length > 0 && (bytes + b.size > batchBytes || batch.length >= BATCH_BLOCKS)) {
      out.push(batch);
      batch = [];
      bytes = 0;
    }
    batch.push(b);
    bytes += b.size;
  }
  if (batch.length) out.push(batch);
  return out;
}

/** The planned batches, fetched `depth` queries ahead once started, handed out block by block in plan order. */
function inOrder(batches: readonly ListedBlock[][], fetch: (blocks: readonly ListedBlock[]) => Promise<Map<string, Buffer>>, depth: number): { start(): void; take(b: ListedBlock): Promise<Buffer> } {
  const inFlight: Array<Promise<Map<string, Buffer>>> = [];
  let requested = 0;
  const fill = () => {
    while (requested < batches.length && inFlight.length < depth) {
      const p = fetch(batches[requested++]!);
      p.catch(() => undefined); // held until awaited
      inFlight.push(p);
    }
  };
  // The batch in hand and how many of its blocks are still to be handed out.
  let current = new Map<string, Buffer>();
  let left = 0;
  let consumed = 0;
  return {
    start: fill,
    async take(b) {
      if (left === 0) {
        current = await inFlight.shift()!;
        left = batches[consumed++]!.length;
        fill();
      }
      left--;
      return current.get(b.sha256)!;
    },
  };
}

interface Spool {
  read(b: ListedBlock): Buffer;
  close(): void;
}

/** Every block of `fetchList` from the database into `file` (created new), each stored once; read back by hash. */
async function spoolBlocks(file: string, fetchList: readonly ListedBlock[], fetched: ReturnType<typeof inOrder>, slot: TransferSlot): Promise<Spool> {
  fs.rmSync(file, { force: true });
  const fd = fs.openSync(file, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL | O_NOFOLLOW, 0o600);
  const at = new Map<string, number>();
  try {
    fetched.start();
    let end = 0;
    for (const b of fetchList) {
      const bytes = await fetched.take(b);
      if (!at.has(b.sha256)) {
        fs.writeSync(fd, bytes, 0, bytes.length, end);
        at.set(b.sha256, end);
        end += bytes.length;
      }
      await slot.keepAlive();
    }
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  return {
    read(b) {
      const buf = Buffer.allocUnsafe(b.size);
      const n = fs.readSync(fd, buf, 0, b.size, at.get(b.sha256)!);
      return buf.subarray(0, n);
    },
    close: () => fs.closeSync(fd),
  };
}

export async function downloadBlocks(store: BlockStore, info: PackageInfo, destination: string, o: BlockTransferOptions): Promise<BlockTransferResult> {
  const part = `${destination}.part`;
  const metaFile = `${destination}.part.json`;
  const sleep = o.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let reconnects = 0;
  let queries = 0;

  const withRetry = async <T>(what: Record<string, unknown>, count: number, work: () => Promise<T>): Promise<T> => {
    for (let failures = 0; ; failures++) {
      try {
        return await work();
      } catch (err) {
        const e = toLockstepError(err);
        if (!isTransientDbError(e) || failures >= o.retries) throw e;
        reconnects += count;
        o.log.warn('fleet.block-retry', { releaseId: info.releaseId, ...what, attempt: failures + 1, code: e.code });
        await sleep(Math.min(100 * 2 ** failures, 5_000));
      }
    }
  };

  const list = await withRetry({ list: true }, 0, () => store.list(info.releaseId));
  checkList(info, list);
  const hash = createHash('sha512');
  const resumedAt = continuePart(part, metaFile, info, list, hash);
  if (resumedAt === 0) fs.writeFileSync(part, '');
  fs.writeFileSync(metaFile, JSON.stringify({ releaseId: info.releaseId, sha512: info.sha512, layout: 'blocks' } satisfies PartMeta));

  const todo = list.slice(resumedAt);
  // The publisher's block sizes, from the package row: a changed value only costs the reuse, never correctness.
  const sizes = blockSizesFor(info.chunkSize);
  if (o.base && !sizes) o.log.warn('fleet.base-unusable', { releaseId: info.releaseId, blockBytes: info.chunkSize });
  const inBase = o.base && sizes ? await indexBase(o.base, sizes, new Set(todo.map((b) => b.sha256))) : new Map<string, number>();
  const fetchList = todo.filter((b) => !inBase.has(b.sha256));
  const fetchBytes = fetchList.reduce((n, b) => n + b.size, 0);
  const batches = planBatches(fetchList, Math.max(1, o.batchBytes ?? 4 << 20));

  /** The bytes of `blocks` from the database, each checked against its listed size and hash. */
  const fetchChecked = (blocks: readonly ListedBlock[]): Promise<Map<string, Buffer>> =>
    withRetry({ seq: blocks[0]!.seq, blocks: blocks.length }, blocks.length, async () => {
      queries++;
      const rows = await store.read(blocks.map((b) => b.sha256));
      for (const b of blocks) {
        const bytes = rows.get(b.sha256);
        if (!bytes) throw damaged(info, `lacks block ${b.seq} (${b.sha256.slice(0, 16)}…)`, { seq: b.seq, reason: 'missing' });
        if (bytes.length !== b.size || createHash('sha256').update(bytes).digest('hex') !== b.sha256) {
          throw damaged(info, `holds block ${b.seq} changed or damaged (its bytes do not match its hash)`, { seq: b.seq, reason: 'hash' });
        }
      }
      return rows;
    });

  const fetched = inOrder(batches, fetchChecked, Math.max(1, o.prefetch ?? 1));
  // A base that has most blocks: the missing ones are read first, into a spool file, and the transfer slot is given
  // back before the local work (reading, hashing and writing the reused blocks) starts. Otherwise blocks are read
  // while the file is assembled, under the slot throughout.
  const spoolFile = `${destination}.blocks`;
  const spoolFirst = !!o.slot && !!o.base && fetchList.length > 0 && fetchBytes * 2 <= info.size;
  let spool: Spool | null = null;

  /** The base's bytes around the last block read from it: [windowAt, windowAt + windowLength). */
  const window = o.base ? Buffer.allocUnsafe(todo.reduce((n, b) => Math.max(n, b.size), BASE_READ)) : Buffer.alloc(0);
  let windowAt = 0;
  let windowLength = 0;
  const readBase = (base: BasePackage, at: number, size: number): Buffer => {
    if (at < windowAt || at + size > windowAt + windowLength) {
      windowAt = at;
      windowLength = fs.readSync(base.fd, window, 0, Math.min(window.length, Math.max(size, base.size - at)), at);
    }
    return window.subarray(at - windowAt, Math.min(at - windowAt + size, windowLength));
  };

  const fd = fs.openSync(part, 'a');
  let bytes = list[resumedAt]!.offset;
  let fromDatabase = 0;
  let fromBase = 0;
  let blocksFromDatabase = 0;
  let blocksFromBase = 0;
  try {
    if (spoolFirst) {
      await o.slot!.acquire();
      spool = await spoolBlocks(spoolFile, fetchList, fetched, o.slot!);
      await o.slot!.release();
    } else if (fetchList.length > 0) {
      await o.slot?.acquire();
      fetched.start();
    }
    for (const b of todo) {
      let block: Buffer | null = null;
      const baseAt = inBase.get(b.sha256);
      if (baseAt !== undefined && o.base) {
        const buf = readBase(o.base, baseAt, b.size);
        if (buf.length === b.size && createHash('sha256').update(buf).digest('hex') === b.sha256) {
          block = buf;
          fromBase += b.size;
          blocksFromBase++;
        } else {
          // The base changed since it was indexed (or its kept list was wrong): this block comes from the database.
          windowLength = 0;
          o.log.warn('fleet.base-block-changed', { releaseId: info.releaseId, seq: b.seq });
          await o.slot?.acquire();
          block = (await fetchChecked([b])).get(b.sha256)!;
          fromDatabase += b.size;
          blocksFromDatabase++;
        }
      } else {
        // Spooled bytes were checked on arrival; what is read back goes into the SHA-512 the caller checks.
        block = spool ? spool.read(b) : await fetched.take(b);
        fromDatabase += b.size;
        blocksFromDatabase++;
      }
      hash.update(block);
      fs.writeSync(fd, block);
      bytes += block.length;
      await o.onChunk?.({ seq: b.seq, chunkCount: list.length, bytes, total: info.size });
    }
  } catch (err) {
    fs.closeSync(fd);
    if (toLockstepError(err).code === 'E_SIGNATURE') dropPart(part, metaFile);
    throw err;
  } finally {
    spool?.close();
    if (spoolFirst) fs.rmSync(spoolFile, { force: true });
  }
  fs.closeSync(fd);
  return { sha512: hash.digest('base64'), bytes, resumedAt, reconnects, fromDatabase, fromBase, blocksFromDatabase, blocksFromBase, queries, list, sizes };
}
