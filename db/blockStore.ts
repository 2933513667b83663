/**
 * Packages as content-defined blocks in the shared database: one row per distinct block keyed by its SHA-256 (shared
 * by every release that contains it), and each release's ordered block list. A publish stores only the blocks the
 * database lacks; a workstation reads only the blocks its own package lacks; pruning a release frees only the blocks
 * no other release lists.
 *
 * The list refers to the blocks with a foreign key. That closes the race between a publisher that saw "block stored"
 * and a prune that frees that block: whichever commits second fails on the key (the publisher's list write, or the
 * prune's delete) and tries again, so a complete release never lists a block that is gone.
 *
 * As with the fixed chunks, nothing here decides whether bytes are trustworthy: a workstation checks each block
 * against its hash and the assembled file against the vendor-signed SHA-512.
 */
import type { Knex } from 'knex';
import { LockstepError } from '../contract/errors';
import { appendEvent } from './auditStore';
import { isForeignKeyViolation, isRetryableTxError, isUniqueViolation } from './errors';
import { findRow, VersionRef } from './releaseStore';
import { serverNow } from './serverTime';
import { Store } from './store';
import { Actor } from './types';
import { compareVersions } from '../kernel/version';

export interface ListedBlock {
  seq: number;
  /** Lower-case hex SHA-256 of the block's bytes: the key of its row in lockstep_blocks. */
  sha256: string;
  offset: number;
  size: number;
}

export interface PruneResult {
  releaseId: number;
  version: string;
  /** Blocks (and their bytes) no other release listed, now deleted. */
  blocksFreed: number;
  bytesFreed: number;
  /** Blocks the release listed that other releases still use. */
  blocksKept: number;
  /** Fixed-size chunks of a package stored before blocks existed. */
  chunksFreed: number;
  /** The release was still `released` (superseded) and is withdrawn with its package gone. */
  withdrawn: boolean;
}

/** Hashes per IN (…) list: well below SQL Server's 2,100 parameters and SQLite's variable limit. */
const IN_BATCH = 500;
/** Rows per multi-row insert of a block list (5 columns each). */
const LIST_BATCH = 200;
const PRUNE_ATTEMPTS = 5;

function batches<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class BlockStore extends Store {
  /** The hashes among `hashes` that have no stored block (no bytes travel). */
  async missing(hashes: readonly string[]): Promise<Set<string>> {
    return this.run(async () => {
      const missing = new Set(hashes);
      for (const batch of batches([...missing], IN_BATCH)) {
        const rows: Array<{ sha256: string }> = await this.db.knex('lockstep_blocks').whereIn('sha256', batch).select('sha256');
        for (const r of rows) missing.delete(r.sha256);
      }
      return missing;
    });
  }

  /**
   * Stores a block unless one with this hash exists (two publishers storing the same block at once: one row). True
   * when this call stored it.
   */
  async putIfAbsent(sha256: string, bytes: Buffer): Promise<boolean> {
    return (await this.putManyIfAbsent([{ sha256, bytes }])) === 1;
  }

  /** Several blocks in one statement, each stored unless its hash is; returns how many this call stored. */
  async putManyIfAbsent(blocks: ReadonlyArray<{ sha256: string; bytes: Buffer }>): Promise<number> {
    return this.run(async () => {
      const rows = blocks.map((b) => ({ sha256: b.sha256, size: b.bytes.length, bytes: b.bytes }));
      if (this.db.dialect === 'mssql') {
        // No ON CONFLICT in T-SQL: one row at a time, a duplicate key meaning "stored already".
        let stored = 0;
        for (const row of rows) {
          try {
            await this.db.knex('lockstep_blocks').insert(row);
            stored++;
          } catch (err) {
            if (!isUniqueViolation(err)) throw err;
          }
        }
        return stored;
      }
      // ON CONFLICT DO NOTHING (PostgreSQL) / INSERT OR IGNORE (SQLite): no error, no aborted transaction.
      const inserted = await this.db.knex('lockstep_blocks').insert(rows).onConflict('sha256').ignore().returning('sha256');
      return Array.isArray(inserted) ? inserted.length : 0;
    });
  }

  /**
   * Replaces the block list of `releaseId` and records its length in the package row, in one transaction. False when
   * a listed block is not stored (never stored, or freed by a concurrent prune after the caller checked): the caller
   * stores the missing blocks and writes the list again.
   */
  async writeList(releaseId: number, blocks: readonly ListedBlock[]): Promise<boolean> {
    return this.run(async () => {
      try {
        await this.db.knex.transaction(async (tx) => {
          await tx('lockstep_release_blocks').where({ release_id: releaseId }).delete();
          for (const batch of batches(blocks, LIST_BATCH)) {
            await tx('lockstep_release_blocks').insert(batch.map((b) => ({ release_id: releaseId, seq: b.seq, sha256: b.sha256, byte_offset: b.offset, size: b.size })));
          }
          await tx('lockstep_release_packages').where({ release_id: releaseId }).update({ chunk_count: blocks.length });
        });
        return true;
      } catch (err) {
        if (isForeignKeyViolation(err)) return false;
        throw err;
      }
    });
  }

  /** The block list of a release in order (no bytes). */
  async list(releaseId: number): Promise<ListedBlock[]> {
    return this.run(async () => {
      const rows: Array<{ seq: number | string; sha256: string; byte_offset: number | string; size: number | string }> = await this.db
        .knex('lockstep_release_blocks')
        .where({ release_id: releaseId })
        .orderBy('seq')
        .select('seq', 'sha256', 'byte_offset', 'size');
      return rows.map((r) => ({ seq: Number(r.seq), sha256: r.sha256, offset: Number(r.byte_offset), size: Number(r.size) }));
    });
  }

  /**
   * How many listed blocks are stored with the listed size, and the listed bytes in total: what completing an upload
   * checks (the foreign key already guarantees every listed block exists).
   */
  async listSummary(releaseId: number): Promise<{ listed: number; matching: number; bytes: number }> {
    return this.run(async () => {
      const knex = this.db.knex;
      const all = (await knex('lockstep_release_blocks').where({ release_id: releaseId }).count({ n: '*' }).sum({ bytes: 'size' }).first()) as { n: number | string; bytes: number | string | null };
      const matching = (await knex('lockstep_release_blocks as rb')
        .join('lockstep_blocks as b', 'b.sha256', 'rb.sha256')
        .where('rb.release_id', releaseId)
        .andWhereRaw('?? = ??', ['b.size', 'rb.size'])
        .count({ n: '*' })
        .first()) as { n: number | string };
      return { listed: Number(all.n), matching: Number(matching.n), bytes: Number(all.bytes ?? 0) };
    });
  }

  /** The stored bytes of the given blocks, in one query; a hash without a row is simply absent from the answer. */
  async read(hashes: readonly string[]): Promise<Map<string, Buffer>> {
    return this.run(async () => {
      const rows: Array<{ sha256: string; bytes: Buffer }> = await this.db.knex('lockstep_blocks').whereIn('sha256', [...new Set(hashes)]).select('sha256', 'bytes');
      return new Map(rows.map((r) => [r.sha256, Buffer.isBuffer(r.bytes) ? r.bytes : Buffer.from(r.bytes as unknown as Uint8Array)]));
    });
  }

  /**
   * Deletes the package of a withdrawn or superseded release (never the released one) and frees the blocks no other
   * release lists, in one transaction that also holds the channel's pointer row, so the release cannot become current
   * meanwhile. A superseded release that was still `released` is withdrawn with it: it can no longer be installed, so
   * it must not be where a later withdraw falls back to. A concurrent publish that lists one of the freed blocks
   * makes the delete fail on the foreign key; the whole prune then runs again and keeps that block.
   */
  async prune(ref: VersionRef, actor: Actor): Promise<PruneResult> {
    return this.run(async () => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await this.db.knex.transaction((tx) => this.pruneOnce(tx, ref, actor));
        } catch (err) {
          if (!(isForeignKeyViolation(err) || isRetryableTxError(err)) || attempt >= PRUNE_ATTEMPTS) throw err;
        }
      }
    });
  }

  private async pruneOnce(tx: Knex.Transaction, ref: VersionRef, actor: Actor): Promise<PruneResult> {
    // Locks the pointer row (as every release flip does) for the rest of the transaction.
    await tx('lockstep_current').where({ channel: ref.channel }).update({ revision: tx.ref('revision') });
    const pointer: { release_id: number | null } | undefined = await tx('lockstep_current').where({ channel: ref.channel }).first('release_id');
    const row = await findRow(tx, ref);
    if (!row) throw new LockstepError('E_NOT_FOUND', `Version ${ref.version} is not in the release ledger of channel "${ref.channel}".`, { version: ref.version });
    const currentId = pointer?.release_id ?? null;
    if (currentId !== null && Number(currentId) === Number(row.id)) {
      throw new LockstepError('E_INVALID_STATE', `Version ${row.version} is the released version; release a newer one or withdraw it before pruning its package.`, { version: row.version });
    }
    const current = currentId !== null ? ((await tx('lockstep_releases').where({ id: currentId }).first('version')) as { version: string } | undefined) : undefined;
    const superseded = current !== undefined && compareVersions(row.version, current.version) < 0;
    if (row.state !== 'withdrawn' && !superseded) {
      throw new LockstepError('E_INVALID_STATE', `Version ${row.version} is neither withdrawn nor older than the released version; withdraw it first to prune its package.`, { version: row.version, state: row.state });
    }

    const listed: Array<{ sha256: string }> = await tx('lockstep_release_blocks').where({ release_id: row.id }).distinct('sha256');
    const hashes = listed.map((r) => r.sha256);
    await tx('lockstep_release_blocks').where({ release_id: row.id }).delete();
    const chunksFreed = Number(await tx('lockstep_release_chunks').where({ release_id: row.id }).delete());
    await tx('lockstep_release_packages').where({ release_id: row.id }).update({ state: 'pruned', uploader: null, upload_until: null });

    let blocksFreed = 0;
    let bytesFreed = 0;
    for (const batch of batches(hashes, IN_BATCH)) {
      const unused = (q: Knex.QueryBuilder) =>
        q.whereIn('sha256', batch).whereNotExists(function (this: Knex.QueryBuilder) {
          this.select(tx.raw('1')).from('lockstep_release_blocks as rb').whereRaw('?? = ??', ['rb.sha256', 'lockstep_blocks.sha256']);
        });
      const sized = (await unused(tx('lockstep_blocks')).sum({ bytes: 'size' }).first()) as { bytes: number | string | null } | undefined;
      bytesFreed += Number(sized?.bytes ?? 0);
      blocksFreed += Number(await unused(tx('lockstep_blocks')).delete());
    }

    const withdrawn = row.state !== 'withdrawn';
    if (withdrawn) await tx('lockstep_releases').where({ id: row.id }).update({ state: 'withdrawn', withdrawn_by: actor.user, withdrawn_from: actor.workstationId, withdrawn_at: serverNow(tx) });
    const result: PruneResult = { releaseId: Number(row.id), version: row.version, blocksFreed, bytesFreed, blocksKept: hashes.length - blocksFreed, chunksFreed, withdrawn };
    await appendEvent(tx, { action: 'prune', outcome: 'ok', actor, channel: ref.channel, version: row.version, detail: { ...result } });
    return result;
  }
}
