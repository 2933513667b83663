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
import { ContentChunker } from '../../kernel/contentChunks';
import { ManifestFile } from '../../kernel/catalogSchema';
import { Logger } from '../../kernel/log';

const READ_BYTES = 1024 * 1024;
const LIST_ATTEMPTS = 4;

export interface BlockUploadOptions {
  log: Logger;
  /** Renews the upload claim; called about every `renewEveryMs`. */
  renew: () => Promise<void>;
  renewEveryMs: number;
  /** Awaited after the missing blocks are stored and before the list is written (the tests' race injection). */
  beforeList?: (attempt: number) => Promise<void> | void;
}

/** The blocks of a file in order, and the file's SHA-512 from the same single read. */
export async function cutFile(file: string): Promise<{ blocks: ListedBlock[]; sha512: string; size: number }> {
  const chunker = new ContentChunker();
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
  const cut = await cutFile(localFile);
  // Nothing is stored from a file that is not what the vendor signed.
  if (cut.size !== file.size || cut.sha512 !== file.sha512) {
    throw new LockstepError('E_SIGNATURE', `The local package ${localFile} is not what the vendor signed; the release was not made.`, { file: localFile });
  }
  const fd = fs.openSync(localFile, 'r');
  let written = 0;
  let bytesWritten = 0;
  let renewedAt = Date.now();
  try {
    for (let attempt = 1; ; attempt++) {
      const missing = await store.missing(cut.blocks.map((b) => b.sha256));
      for (const b of cut.blocks) {
        if (!missing.has(b.sha256)) continue;
        missing.delete(b.sha256); // a block that occurs twice in the file is stored once
        const bytes = Buffer.allocUnsafe(b.size);
        fs.readSync(fd, bytes, 0, b.size, b.offset);
        // The file could change under us: store a block only under the hash of the bytes actually stored.
        if (createHash('sha256').update(bytes).digest('hex') !== b.sha256) {
          throw new LockstepError('E_CHECKSUM', `The local package ${localFile} changed while it was being stored; the release was not made.`, { file: localFile });
        }
        if (await store.putIfAbsent(b.sha256, bytes)) {
          written++;
          bytesWritten += b.size;
        }
        if (Date.now() - renewedAt > o.renewEveryMs) {
          renewedAt = Date.now();
          await o.renew();
        }
      }
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
  return { layout: 'blocks', blocks: cut.blocks.length, blocksWritten: written, blocksAlreadyStored: distinct - written, bytesWritten };
}
