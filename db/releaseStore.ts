/**
 * The release ledger and the current-release pointer. The pointer changes only inside a transaction that first locks
 * the channel's row and then compare-and-sets its revision (S19): of any number of concurrent writers exactly one
 * succeeds; the others see E_RELEASE_CONFLICT and re-decide from what is now current.
 */
import type { Knex } from 'knex';
import { LockstepError } from '../contract/errors';
import { appendEvent } from './auditStore';
import { Db } from './connection';
import { isUniqueViolation } from './errors';
import { toRelease } from './mappers';
import { CurrentRow, ReleaseRow, ReleaseState } from './rows';
import { dialectOf, serverNow } from './serverTime';
import { MAX_MANIFEST_CHARS, OVERSIZED_MANIFEST, cappedTextSql } from './textCap';
import { Actor, CurrentPointer, Release } from './types';
import { Store } from './store';

export interface VersionRef {
  channel: string;
  version: string;
  versionKey: string;
}

/** Runs inside the release transaction before the pointer flips; what it returns joins the audit row's detail. */
export type InTransaction = (tx: Knex.Transaction) => Promise<Record<string, unknown> | null>;

export interface PointerChange {
  /** The revision the caller based its decision on. */
  expectedRevision: number;
  /** The release that becomes current (null: no release). */
  action: 'release' | 'withdraw' | 'rerelease';
}

async function ensureChannelRow(db: Db, channel: string): Promise<void> {
  const exists = await db.knex<CurrentRow>('lockstep_current').where({ channel }).first('channel');
  if (exists) return;
  try {
    await db.knex('lockstep_current').insert({ channel, release_id: null, revision: 0 });
  } catch (err) {
    if (!isUniqueViolation(err)) throw err; // someone else created it first: fine
  }
}

/**
 * Runs fn in a transaction that holds the write lock on the channel's pointer row from its first statement on.
 * On SQLite the first statement being a write makes the busy timeout apply (no deferred read→write upgrade).
 */
export async function withChannelLock<T>(db: Db, channel: string, fn: (tx: Knex.Transaction, current: CurrentRow) => Promise<T>): Promise<T> {
  await ensureChannelRow(db, channel);
  return db.knex.transaction(async (tx) => {
    await tx('lockstep_current').where({ channel }).update({ revision: tx.ref('revision') });
    const current = await tx<CurrentRow>('lockstep_current').where({ channel }).first();
    if (!current) throw new LockstepError('E_DB_CORRUPT', `The release pointer of channel "${channel}" vanished.`, { channel });
    return fn(tx, current);
  });
}

export async function packageComplete(tx: Knex.Transaction, releaseId: number): Promise<boolean> {
  const row: { state: string } | undefined = await tx('lockstep_release_packages').where({ release_id: releaseId }).first('state');
  return row?.state === 'complete';
}

const RELEASE_COLUMNS = [
  'id', 'channel', 'version', 'version_key', 'state', 'manifest_signature', 'package_size', 'package_sha512', 'notes',
  'created_by', 'created_from', 'created_at', 'released_by', 'released_from', 'released_at', 'withdrawn_by', 'withdrawn_from', 'withdrawn_at',
];

/** Every release column, the manifest only while within its cap (textCap.ts): an oversized one never travels. */
export function releaseColumns(q: Knex | Knex.Transaction): Array<string | Knex.Raw> {
  return [...RELEASE_COLUMNS, q.raw(cappedTextSql(dialectOf(q), 'manifest', MAX_MANIFEST_CHARS, OVERSIZED_MANIFEST, 'manifest'))];
}

export async function releaseById(q: Knex | Knex.Transaction, id: number): Promise<ReleaseRow | undefined> {
  return (await q('lockstep_releases').where({ id }).first(...releaseColumns(q))) as ReleaseRow | undefined;
}

export async function findRow(q: Knex | Knex.Transaction, ref: { channel: string; versionKey: string }): Promise<ReleaseRow | undefined> {
  return (await q('lockstep_releases').where({ channel: ref.channel, version_key: ref.versionKey }).first(...releaseColumns(q))) as ReleaseRow | undefined;
}

export async function casPointer(tx: Knex.Transaction, channel: string, expectedRevision: number, releaseId: number | null, actor: Actor): Promise<void> {
  const changed = await tx('lockstep_current')
    .where({ channel, revision: expectedRevision })
    .update({ release_id: releaseId, revision: expectedRevision + 1, changed_by: actor.user, changed_from: actor.workstationId, changed_at: serverNow(tx) });
  if (changed !== 1) {
    throw new LockstepError('E_RELEASE_CONFLICT', `The released version of channel "${channel}" changed meanwhile; decide again.`, { channel });
  }
}

function conflictUnlessRevision(current: CurrentRow, expectedRevision: number): void {
  if (current.revision !== expectedRevision) {
    throw new LockstepError('E_RELEASE_CONFLICT', `The released version of channel "${current.channel}" changed meanwhile; decide again.`, {
      channel: current.channel,
      expectedRevision,
      revision: current.revision,
    });
  }
}

export class ReleaseStore extends Store {
  async current(channel: string): Promise<CurrentPointer | null> {
    return this.run(async () => {
      const row = await this.db.knex<CurrentRow>('lockstep_current').where({ channel }).first();
      if (!row) return null;
      const release = row.release_id === null ? undefined : await releaseById(this.db.knex, row.release_id);
      return { channel, revision: row.revision, release: release ? toRelease(release) : null };
    });
  }

  async find(ref: { channel: string; versionKey: string }): Promise<Release | null> {
    return this.run(async () => {
      const row = await findRow(this.db.knex, ref);
      return row ? toRelease(row) : null;
    });
  }

  async list(channel?: string): Promise<Release[]> {
    return this.run(async () => {
      let q = this.db.knex('lockstep_releases').select(...releaseColumns(this.db.knex)).orderBy('id', 'asc');
      if (channel) q = q.where({ channel });
      return ((await q) as ReleaseRow[]).map(toRelease);
    });
  }

  /**
   * Makes `ref` the released version of its channel. Fails with E_ALREADY_RELEASED when it already is, and with
   * E_RELEASE_CONFLICT when the pointer moved since `expectedRevision` (the caller re-reads and decides again).
   */
  async release(ref: VersionRef, actor: Actor, change: PointerChange, extra: { notes?: string | null; requirePackage?: boolean; inTransaction?: InTransaction } = {}): Promise<Release> {
    return this.run(() =>
      withChannelLock(this.db, ref.channel, async (tx, current) => {
        const existing = await findRow(tx, ref);
        if (existing && current.release_id === existing.id) {
          throw new LockstepError('E_ALREADY_RELEASED', `Version ${existing.version} is already the released version of channel "${ref.channel}".`, {
            version: existing.version,
            channel: ref.channel,
          });
        }
        conflictUnlessRevision(current, change.expectedRevision);
        // A half-written package is never visible as released (S19): the flip needs the package complete, checked
        // inside the same transaction that moves the pointer.
        const complete = existing ? await packageComplete(tx, existing.id) : false;
        if ((existing?.state === 'uploading' || extra.requirePackage) && !complete) {
          throw new LockstepError('E_INVALID_STATE', `Version ${ref.version} is still being uploaded; its package is not complete.`, { version: ref.version });
        }
        // Work that must commit or fail together with the flip (the client schema's migrations), after every check.
        const inTx = extra.inTransaction ? await extra.inTransaction(tx) : null;
        const stamp = { state: 'released' as ReleaseState, released_by: actor.user, released_from: actor.workstationId, released_at: serverNow(tx) };
        let id: number;
        if (existing) {
          await tx('lockstep_releases').where({ id: existing.id }).update({ ...stamp, withdrawn_by: null, withdrawn_from: null, withdrawn_at: null });
          id = existing.id;
        } else {
          id = await insertRelease(tx, ref, actor, stamp, extra.notes ?? null);
        }
        await casPointer(tx, ref.channel, current.revision, id, actor);
        await appendEvent(tx, {
          action: change.action,
          outcome: 'ok',
          actor,
          channel: ref.channel,
          version: ref.version,
          detail: { previousReleaseId: current.release_id, releaseId: id, revision: current.revision + 1, withPackage: complete, ...(inTx ?? {}) },
        });
        return toRelease((await releaseById(tx, id))!);
      }),
    );
  }

  /**
   * Withdraws a release. When it is the current one the pointer moves to `fallback` (chosen by the engine: the newest
   * earlier release above the security floor) or to none, in the same transaction.
   */
  async withdraw(ref: VersionRef, fallback: { versionKey: string } | null, actor: Actor, expectedRevision: number): Promise<{ withdrawn: Release; current: Release | null }> {
    return this.run(() =>
      withChannelLock(this.db, ref.channel, async (tx, current) => {
        const existing = await findRow(tx, ref);
        if (!existing) throw new LockstepError('E_NOT_FOUND', `Version ${ref.version} is not in the release ledger of channel "${ref.channel}".`, { version: ref.version });
        if (existing.state === 'withdrawn') {
          throw new LockstepError('E_INVALID_STATE', `Version ${existing.version} is already withdrawn.`, { version: existing.version });
        }
        conflictUnlessRevision(current, expectedRevision);
        await tx('lockstep_releases').where({ id: existing.id }).update({ state: 'withdrawn', withdrawn_by: actor.user, withdrawn_from: actor.workstationId, withdrawn_at: serverNow(tx) });
        let newCurrent: ReleaseRow | undefined;
        if (current.release_id === existing.id) {
          newCurrent = fallback ? await findRow(tx, { channel: ref.channel, versionKey: fallback.versionKey }) : undefined;
          if (fallback && (!newCurrent || newCurrent.state !== 'released')) {
            throw new LockstepError('E_INVALID_STATE', 'The release to fall back to is not a released version.', { fallback: fallback.versionKey });
          }
          await casPointer(tx, ref.channel, current.revision, newCurrent ? newCurrent.id : null, actor);
        } else if (current.release_id !== null) {
          newCurrent = await releaseById(tx, current.release_id);
        }
        await appendEvent(tx, {
          action: 'withdraw',
          outcome: 'ok',
          actor,
          channel: ref.channel,
          version: existing.version,
          detail: { releaseId: existing.id, nowCurrent: newCurrent ? newCurrent.version : null },
        });
        const withdrawn = toRelease((await findRow(tx, ref))!);
        return { withdrawn, current: newCurrent ? toRelease(newCurrent) : null };
      }),
    );
  }

  /**
   * Records that `ref` runs on `actor`'s workstation for testing only (S14 "No", CLI mark-test): a `test` ledger row
   * unless the version is known already, the workstation's mark (so the question is not asked again) and its ring.
   */
  async markTest(ref: VersionRef, actor: Actor): Promise<{ release: Release; alreadyMarked: boolean }> {
    return this.run(() =>
      withChannelLock(this.db, ref.channel, async (tx, current) => {
        let row = await findRow(tx, ref);
        if (row && current.release_id === row.id) {
          throw new LockstepError('E_ALREADY_RELEASED', `Version ${row.version} is the released version; it cannot be marked test-only.`, { version: row.version });
        }
        if (!row) {
          await insertRelease(tx, ref, actor, { state: 'test' }, null);
          row = (await findRow(tx, ref))!;
        }
        const key = { workstation_id: actor.workstationId, channel: ref.channel, version_key: ref.versionKey };
        const marked = await tx('lockstep_test_marks').where(key).first('workstation_id');
        if (!marked) {
          await tx('lockstep_test_marks').insert({ ...key, version: ref.version, decided_by: actor.user, decided_at: serverNow(tx) });
          await tx('lockstep_workstations').where({ workstation_id: actor.workstationId }).update({ ring: 'test' });
          await appendEvent(tx, { action: 'mark-test', outcome: 'ok', actor, channel: ref.channel, version: ref.version, detail: { releaseId: row.id } });
        }
        return { release: toRelease(row), alreadyMarked: Boolean(marked) };
      }),
    );
  }
}

/** Inserts a ledger row and returns its id (also used by the package store for rows that start as `uploading`). */
export async function insertRelease(tx: Knex.Transaction, ref: VersionRef, actor: Actor, stamp: Record<string, unknown>, notes: string | null): Promise<number> {
  const inserted = await tx('lockstep_releases')
    .insert({
      channel: ref.channel,
      version: ref.version,
      version_key: ref.versionKey,
      notes,
      created_by: actor.user,
      created_from: actor.workstationId,
      created_at: serverNow(tx),
      ...stamp,
    })
    .returning('id');
  const first = inserted[0] as { id: number } | number;
  return Number(typeof first === 'object' ? first.id : first);
}
