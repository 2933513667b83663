/**
 * Writes a release's package into the shared database as content-defined blocks (S17): the package is cut with the
 * same chunker the feed's block maps use, checked against the signed SHA-512 before anything is stored, and only the
 * blocks the database does not hold yet are written — a patch release stores what changed. An interrupted upload
 * resumes for free: blocks stored before are simply not missing any more.
 *
 * The block list is written last, against a foreign key on the blocks: if a prune freed a block after this publisher
 * saw it stored, the list write fails and the publisher stores the block again (bounded attempts).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { LockstepError } from '../../contract/errors';
import { BlockStore, ListedBlock } from '../../db/blockStore';
import { PackageInfo } from '../../db/packageStore';
import { ChunkSizes, ContentChunker } from '../../kernel/contentChunks';
import { ManifestFile } from '../../kernel/catalogSchema';
import { Logger } from '../../kernel/log';

const READ_BYTES = 1024 * 1024;
const LIST_ATTEMPTS = 4;
/** Blocks per insert statement: one round trip for up to 2 MiB (at most 3 × 64 parameters for SQLite and T-SQL). */
const PUT_BYTES = 2 * 1024 * 1024;
const PUT_BLOCKS = 64;

export interface BlockUploadOptions {
  log: Logger;
  /** Renews the upload claim; called about every `renewEveryMs`. */
  renew: () => Promise<void>;
  renewEveryMs: number;
  /** Awaited after the missing blocks are stored and before the list is written (the tests' race injection). */
  beforeList?: (attempt: number) => Promise<void> | void;
}

/**
 * The chunker's sizes for blocks of `avg` bytes on average, as the package row records them (chunk_size): the
 * workstation cuts its base with exactly these, or no block would match. Null when `avg` is not a size Lockstep writes.
 */
export function blockSizesFor(avg: number): ChunkSizes | null {
  if (!Number.isInteger(avg) || avg < 4096 || avg > 256 * 1024 || (avg & (avg - 1)) !== 0) return null;
  return { min: avg / 4, avg, max: avg * 4 };
}

/** The blocks of a file in order, and the file's SHA-512 from the same single read. */
export async function cutFile(file: string, sizes: ChunkSizes): Promise<{ blocks: ListedBlock[]; sha512: string; size: number }> {
  const chunker = new ContentChunker(sizes);
  const whole = createHash('sha512');
  const blocks: ListedBlock[] = [];
  const add = (cs: ReturnType<ContentChunker['push']>) => {
    for (const c of cs) blocks.push({ seq: blocks.length, sha256: c.sha256.toString('hex'), offset: c.offset, size: c.size });
  };
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.allocUnsafe(READ_BYTES);
  let size = 0;
  try {
    for (;;) {
      const n = fs.readSync(fd, buf, 0, READ_BYTES, size);
      if (n <= 0) break;
      size += n;
      const data = buf.subarray(0, n);
      whole.update(data);
      add(chunker.push(data));
    }
  } finally {
    fs.closeSync(fd);
  }
  add(chunker.end());
  return { blocks, sha512: whole.digest('base64'), size };
}

export async function uploadBlocks(store: BlockStore, info: PackageInfo, localFile: string, file: ManifestFile, o: BlockUploadOptions): Promise<Record<string, unknown>> {
  const sizes = blockSizesFor(info.chunkSize);
  if (!sizes) throw new LockstepError('E_CONFIG_INVALID', `fleet.blockBytes ${info.chunkSize} is not a power of two between 4096 and 262144.`, { blockBytes: info.chunkSize });
  const cut = await cutFile(localFile, sizes);
  // Nothing is stored from a file that is not what the vendor signed.
  if (cut.size !== file.size || cut.sha512 !== file.sha512) {
    throw new LockstepError('E_SIGNATURE', `The local package ${localFile} is not what the vendor signed; the release was not made.`, { file: localFile });
  }
  const fd = fs.openSync(localFile, 'r');
  let written = 0;
  let bytesSent = 0;
  let renewedAt = Date.now();
  try {
    for (let attempt = 1; ; attempt++) {
      const missing = await store.missing(cut.blocks.map((b) => b.sha256));
      let batch: Array<{ sha256: string; bytes: Buffer }> = [];
      let batchBytes = 0;
      const flush = async () => {
        if (batch.length === 0) return;
        written += await store.putManyIfAbsent(batch);
        batch = [];
        batchBytes = 0;
        if (Date.now() - renewedAt > o.renewEveryMs) {
          renewedAt = Date.now();
          await o.renew();
        }
      };
      for (const b of cut.blocks) {
        if (!missing.has(b.sha256)) continue;
        missing.delete(b.sha256); // a block that occurs twice in the file is stored once
        const bytes = Buffer.allocUnsafe(b.size);
        fs.readSync(fd, bytes, 0, b.size, b.offset);
        // The file could change under us: store a block only under the hash of the bytes actually stored.
        if (createHash('sha256').update(bytes).digest('hex') !== b.sha256) {
          throw new LockstepError('E_CHECKSUM', `The local package ${localFile} changed while it was being stored; the release was not made.`, { file: localFile });
        }
        batch.push({ sha256: b.sha256, bytes });
        batchBytes += b.size;
        bytesSent += b.size;
        if (batchBytes >= PUT_BYTES || batch.length >= PUT_BLOCKS) await flush();
      }
      await flush();
      await o.beforeList?.(attempt);
      if (await store.writeList(info.releaseId, cut.blocks)) break;
      if (attempt >= LIST_ATTEMPTS) {
        throw new LockstepError('E_RELEASE_CONFLICT', `Blocks of version package ${file.name} kept vanishing from the shared database while it was stored (a prune running at the same time?); release it again.`, { file: file.name });
      }
      o.log.warn('fleet.blocks-vanished', { releaseId: info.releaseId, attempt });
    }
  } finally {
    fs.closeSync(fd);
  }
  const distinct = new Set(cut.blocks.map((b) => b.sha256)).size;
  return { layout: 'blocks', blocks: cut.blocks.length, blocksWritten: written, blocksAlreadyStored: distinct - written, bytesSent };
}
