/**
 * Release packages in the shared database (S17, S19): chunks written while the release is not yet released, each with
 * its own SHA-256; one upload claim per package (with expiry) so two administrators answering "yes" at once upload it
 * once; reads one chunk at a time so memory stays constant whatever the package size.
 *
 * Nothing here decides whether bytes are trustworthy: the engine checks every package against the vendor-signed
 * manifest. The per-chunk hashes only let a transfer notice a damaged chunk early and resume at the right place.
 */
import type { Knex } from 'knex';
import { LockstepError } from '../contract/errors';
import { BlockStore } from './blockStore';
import { isUniqueViolation } from './errors';
import { copyOutBinary } from './pgCopyOut';
import { VersionRef, findRow, insertRelease } from './releaseStore';
import { ReleaseRow, toIso, toNumber } from './rows';
import { serverNow, serverNowPlus } from './serverTime';
import { MAX_CATALOG_CHARS, cappedTextSql, textLengthSql } from './textCap';
import { Actor } from './types';
import { Store } from './store';

export type PackageStoreKind = 'database' | 'http' | 'share';
/** How a package sits in the shared database: fixed-size chunks of its own, or a list of shared blocks (blockStore.ts). */
export type PackageLayout = 'chunks' | 'blocks';

export interface PackageMeta {
  fileName: string;
  size: number;
  /** Base64 SHA-512 of the whole file, as in the signed manifest. */
  sha512: string;
  chunkSize: number;
  store: PackageStoreKind;
  /** The signed catalog (JSON text) the releasing workstation verified: it carries the vendor's security floor. */
  catalog: string | null;
  /** Default `chunks`; only meaningful for the database store. */
  layout?: PackageLayout;
}

export interface PackageInfo extends PackageMeta {
  releaseId: number;
  chunkCount: number;
  layout: PackageLayout;
  /** `pruned`: an administrator deleted the stored package (lockstep prune); releasing the version again re-uploads it. */
  state: 'uploading' | 'complete' | 'pruned';
  uploader: string | null;
  uploadUntil: string | null;
  startedBy: string;
  startedAt: string;
  completedAt: string | null;
}

export interface StoredChunk {
  seq: number;
  size: number;
  sha256: string;
}

interface PackageRow {
  release_id: number;
  file_name: string;
  size: number | string;
  sha512: string;
  chunk_size: number;
  chunk_count: number;
  layout?: string;
  store: string;
  state: string;
  catalog: string | null;
  uploader: string | null;
  upload_until: Date | string | null;
  started_by: string;
  started_at: Date | string;
  completed_at: Date | string | null;
}

/** The chunk read as a binary COPY (PostgreSQL): bindings release id, first seq, seq past the last. */
const COPY_CHUNKS_SQL = 'copy (select seq, bytes, size, sha256 from lockstep_release_chunks where release_id = ? and seq >= ? and seq < ? order by seq) to stdout (format binary)';

export function chunkCountFor(size: number, chunkSize: number): number {
  return Math.max(1, Math.ceil(size / chunkSize));
}

function toInfo(row: PackageRow): PackageInfo {
  return {
    releaseId: Number(row.release_id),
    fileName: row.file_name,
    size: toNumber(row.size)!,
    sha512: row.sha512,
    chunkSize: Number(row.chunk_size),
    chunkCount: Number(row.chunk_count),
    layout: row.layout === 'blocks' ? 'blocks' : 'chunks',
    store: (['database', 'http', 'share'].includes(row.store) ? row.store : 'database') as PackageStoreKind,
    state: row.state === 'complete' || row.state === 'pruned' ? row.state : 'uploading',
    catalog: row.catalog,
    uploader: row.uploader,
    uploadUntil: toIso(row.upload_until),
    startedBy: row.started_by,
    startedAt: toIso(row.started_at)!,
    completedAt: toIso(row.completed_at),
  };
}

export class PackageStore extends Store {
  async info(releaseId: number): Promise<PackageInfo | null> {
    return this.run(async () => {
      const row = await this.db.knex<PackageRow>('lockstep_release_packages').where({ release_id: releaseId }).first();
      return row ? toInfo(row) : null;
    });
  }

  /**
   * Every stored package's signed catalog (for the highest security floor the vendor ever signed). One longer than
   * MAX_CATALOG_CHARS is skipped without being transferred (the length is checked in SQL) and reported to
   * `onOversized`.
   */
  async catalogs(onOversized?: (releaseId: number, chars: number) => void): Promise<string[]> {
    return this.run(async () => {
      const knex = this.db.knex;
      const rows: Array<{ release_id: number | string; chars: number | string; catalog: string | null }> = await knex('lockstep_release_packages')
        .whereNotNull('catalog')
        .orderBy('release_id')
        .select('release_id', knex.raw(textLengthSql(this.db.dialect, 'catalog', 'chars')), knex.raw(cappedTextSql(this.db.dialect, 'catalog', MAX_CATALOG_CHARS, '', 'catalog')));
      const catalogs: string[] = [];
      for (const row of rows) {
        if (Number(row.chars) > MAX_CATALOG_CHARS) onOversized?.(Number(row.release_id), Number(row.chars));
        else if (row.catalog !== null) catalogs.push(row.catalog);
      }
      return catalogs;
    });
  }

  /**
   * Makes sure the ledger row of `ref` exists (new rows start as `uploading`, invisible to the gate as a release)
   * carrying the signed manifest, and that its package row describes `meta`. Idempotent and safe to race: the loser
   * of an insert reads the winner's row. A different package than the one already complete is refused.
   */
  async begin(ref: VersionRef, actor: Actor, manifest: { text: string; signature: string }, meta: PackageMeta): Promise<PackageInfo> {
    return this.run(async () => {
      const release = await this.ensureReleaseRow(ref, actor, manifest, meta);
      const layout = meta.layout ?? 'chunks';
      // A block list's length is known once it is written (blockStore.ts writeList).
      const chunkCount = meta.store === 'database' && layout === 'chunks' ? chunkCountFor(meta.size, meta.chunkSize) : 0;
      const fields = { file_name: meta.fileName, size: meta.size, sha512: meta.sha512, chunk_size: meta.chunkSize, chunk_count: chunkCount, store: meta.store, catalog: meta.catalog, layout };
      let row = await this.db.knex<PackageRow>('lockstep_release_packages').where({ release_id: release.id }).first();
      if (!row) {
        try {
          await this.db.knex('lockstep_release_packages').insert({ release_id: release.id, ...fields, state: 'uploading', started_by: actor.user, started_at: serverNow(this.db.knex) });
        } catch (err) {
          if (!isUniqueViolation(err)) throw err;
        }
        row = (await this.db.knex<PackageRow>('lockstep_release_packages').where({ release_id: release.id }).first())!;
      }
      const same = row.sha512 === meta.sha512 && toNumber(row.size) === meta.size && Number(row.chunk_size) === meta.chunkSize && row.store === meta.store && (row.layout ?? 'chunks') === layout;
      if (row.state === 'pruned') {
        // Released again after its package was pruned: upload it afresh, in the layout asked for now.
        await this.db.knex.transaction(async (tx) => {
          await tx('lockstep_release_chunks').where({ release_id: release.id }).delete();
          await tx('lockstep_release_blocks').where({ release_id: release.id }).delete();
          await tx('lockstep_release_packages').where({ release_id: release.id }).update({ ...fields, state: 'uploading', uploader: null, upload_until: null, completed_at: null });
        });
        row = (await this.db.knex<PackageRow>('lockstep_release_packages').where({ release_id: release.id }).first())!;
      } else if (!same) {
        if (row.state === 'complete') {
          throw new LockstepError('E_INVALID_STATE', `Version ${ref.version} already has a different complete package in the shared database; withdraw it before releasing another build.`, { version: ref.version });
        }
        // A half-written upload of another build (or chunk size): start over, in one transaction.
        await this.db.knex.transaction(async (tx) => {
          await tx('lockstep_release_chunks').where({ release_id: release.id }).delete();
          await tx('lockstep_release_blocks').where({ release_id: release.id }).delete();
          await tx('lockstep_release_packages').where({ release_id: release.id }).update({ ...fields, uploader: null, upload_until: null });
        });
        row = (await this.db.knex<PackageRow>('lockstep_release_packages').where({ release_id: release.id }).first())!;
      }
      return toInfo(row);
    });
  }

  private async ensureReleaseRow(ref: VersionRef, actor: Actor, manifest: { text: string; signature: string }, meta: PackageMeta): Promise<ReleaseRow> {
    const find = () => findRow(this.db.knex, ref);
    let row = await find();
    if (!row) {
      try {
        await this.db.knex.transaction((tx) =>
          insertRelease(tx, ref, actor, { state: 'uploading', manifest: manifest.text, manifest_signature: manifest.signature, package_size: meta.size, package_sha512: meta.sha512 }, null),
        );
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
      row = (await find())!;
    }
    if (row.manifest !== manifest.text || row.manifest_signature !== manifest.signature || row.package_sha512 !== meta.sha512) {
      const pkg = await this.db.knex<PackageRow>('lockstep_release_packages').where({ release_id: row.id }).first();
      if (pkg?.state !== 'complete') {
        await this.db.knex('lockstep_releases').where({ id: row.id }).update({ manifest: manifest.text, manifest_signature: manifest.signature, package_size: meta.size, package_sha512: meta.sha512 });
        row = (await find())!;
      }
    }
    return row;
  }

  /**
   * Claims the upload of a package for `holder` until now + ttl. True when this holder may write chunks: nobody held
   * the claim, this holder already did, or the previous holder's claim expired (it crashed or lost its connection).
   */
  async claimUpload(releaseId: number, holder: string, ttlMs: number): Promise<boolean> {
    return this.run(async () => {
      const knex = this.db.knex;
      const changed = await knex('lockstep_release_packages')
        .where({ release_id: releaseId, state: 'uploading' })
        .andWhere((q) => q.whereNull('uploader').orWhere('uploader', holder).orWhere('upload_until', '<', serverNow(knex)))
        .update({ uploader: holder, upload_until: serverNowPlus(knex, ttlMs) });
      return changed === 1;
    });
  }

  /** Seq, size and hash of every chunk already stored (no bytes): what a resumed upload can skip. */
  async storedChunks(releaseId: number): Promise<Map<number, StoredChunk>> {
    return this.run(async () => {
      const rows: StoredChunk[] = await this.db.knex('lockstep_release_chunks').where({ release_id: releaseId }).select('seq', 'size', 'sha256');
      return new Map(rows.map((r) => [Number(r.seq), { seq: Number(r.seq), size: Number(r.size), sha256: r.sha256 }]));
    });
  }

  /** Writes one chunk (replacing a damaged one with the same seq). Each chunk is its own short transaction. */
  async putChunk(releaseId: number, seq: number, bytes: Buffer, sha256: string): Promise<void> {
    return this.run(() =>
      this.db.knex.transaction(async (tx: Knex.Transaction) => {
        await tx('lockstep_release_chunks').where({ release_id: releaseId, seq }).delete();
        await tx('lockstep_release_chunks').insert({ release_id: releaseId, seq, bytes, size: bytes.length, sha256 });
      }),
    );
  }

  /**
   * Marks the upload complete once every chunk is there with the right total size. Only the claim holder may;
   * completing twice is a no-op. From now on the release flip may make the version current.
   */
  async complete(releaseId: number, holder: string): Promise<PackageInfo> {
    return this.run(async () => {
      const row = await this.db.knex<PackageRow>('lockstep_release_packages').where({ release_id: releaseId }).first();
      if (!row) throw new LockstepError('E_NOT_FOUND', `Release ${releaseId} has no package row.`, { releaseId });
      if (row.state === 'complete') return toInfo(row);
      if (row.store === 'database' && row.layout === 'blocks') {
        const s = await new BlockStore(this.db).listSummary(releaseId);
        if (s.listed === 0 || s.listed !== Number(row.chunk_count) || s.matching !== s.listed || s.bytes !== toNumber(row.size)) {
          throw new LockstepError('E_INVALID_STATE', `The package of release ${releaseId} is incomplete (${s.matching} of ${row.chunk_count} blocks stored, ${s.bytes} of ${row.size} bytes listed).`, { releaseId });
        }
      } else if (row.store === 'database') {
        const agg = (await this.db.knex('lockstep_release_chunks').where({ release_id: releaseId }).count({ n: '*' }).sum({ bytes: 'size' }).first()) as { n: number | string; bytes: number | string | null };
        if (Number(agg.n) !== Number(row.chunk_count) || Number(agg.bytes ?? 0) !== toNumber(row.size)) {
          throw new LockstepError('E_INVALID_STATE', `The package of release ${releaseId} is incomplete (${agg.n} of ${row.chunk_count} chunks).`, { releaseId });
        }
      }
      const changed = await this.db.knex('lockstep_release_packages')
        .where({ release_id: releaseId, state: 'uploading', uploader: holder })
        .update({ state: 'complete', completed_at: serverNow(this.db.knex), uploader: null, upload_until: null });
      const after = toInfo((await this.db.knex<PackageRow>('lockstep_release_packages').where({ release_id: releaseId }).first())!);
      if (changed !== 1 && after.state !== 'complete') {
        throw new LockstepError('E_RELEASE_CONFLICT', `Another workstation took over the upload of release ${releaseId}.`, { releaseId });
      }
      return after;
    });
  }

  /**
   * Up to `count` consecutive chunks from `fromSeq` in one round trip, in order (bytes + recorded hash + seq). Several
   * chunks per query: on PostgreSQL the per-query latency, not the wire, limited one stream of 1 MiB chunks. On
   * PostgreSQL the rows come through a binary COPY (pgCopyOut.ts): raw bytes rather than hex text.
   */
  async readChunks(releaseId: number, fromSeq: number, count: number): Promise<Array<{ seq: number; bytes: Buffer; size: number; sha256: string }>> {
    return this.run(async () => {
      if (this.db.dialect === 'postgres') return this.copyChunks(releaseId, fromSeq, count);
      const rows: Array<{ seq: number | string; bytes: Buffer; size: number; sha256: string }> = await this.db
        .knex('lockstep_release_chunks')
        .where({ release_id: releaseId })
        .andWhere('seq', '>=', fromSeq)
        .andWhere('seq', '<', fromSeq + count)
        .orderBy('seq')
        .select('seq', 'bytes', 'size', 'sha256');
      return rows.map((r) => ({ seq: Number(r.seq), bytes: Buffer.isBuffer(r.bytes) ? r.bytes : Buffer.from(r.bytes as unknown as Uint8Array), size: Number(r.size), sha256: r.sha256 }));
    });
  }

  private async copyChunks(releaseId: number, fromSeq: number, count: number): Promise<Array<{ seq: number; bytes: Buffer; size: number; sha256: string }>> {
    const rows = await copyOutBinary(this.db.knex, COPY_CHUNKS_SQL, [releaseId, fromSeq, fromSeq + count]);
    // Binary COPY sends integers as big-endian int4 and text as its UTF-8 bytes; a NULL or odd width is damage.
    return rows.map(([seq, bytes, size, sha256]) => {
      if (seq?.length !== 4 || !bytes || size?.length !== 4 || !sha256) throw new LockstepError('E_DB_CORRUPT', `A chunk row of release ${releaseId} in the shared database is malformed.`, { releaseId });
      return { seq: seq.readInt32BE(0), bytes, size: size.readInt32BE(0), sha256: sha256.toString('utf8') };
    });
  }

  /** One chunk's bytes and recorded hash. */
  async readChunk(releaseId: number, seq: number): Promise<{ bytes: Buffer; size: number; sha256: string }> {
    return this.run(async () => {
      const row: { bytes: Buffer; size: number; sha256: string } | undefined = await this.db.knex('lockstep_release_chunks').where({ release_id: releaseId, seq }).first('bytes', 'size', 'sha256');
      if (!row) throw new LockstepError('E_SIGNATURE', `Chunk ${seq} of release ${releaseId} is missing from the shared database.`, { releaseId, seq });
      return { bytes: Buffer.isBuffer(row.bytes) ? row.bytes : Buffer.from(row.bytes as unknown as Uint8Array), size: Number(row.size), sha256: row.sha256 };
    });
  }
}
