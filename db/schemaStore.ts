/**
 * The client schema's bookkeeping in the shared database: its level, the history of moves, and the migration lease.
 *
 * The lease is one row. Taking it is one conditional UPDATE (free or expired → mine, token + 1) inside a transaction
 * that then reads the token back, so two administrators can never both hold it and each holder knows its own token.
 * Every write made under the lease runs `checkFence` inside its own transaction: that statement also locks the lease
 * row until the commit, so nobody can take the lease between the check and the commit. Times are the server's.
 */
import type { Knex } from 'knex';
import { randomBytes } from 'node:crypto';
import { LockstepError } from '../contract/errors';
import { isUniqueViolation } from './errors';
import { toIso, toNumber } from './rows';
import { serverNow, serverNowPlus } from './serverTime';
import { Actor } from './types';
import { Store } from './store';

const ROW = 1;

export interface SchemaLevel {
  level: number;
  channel: string | null;
  version: string | null;
  setBy: string;
  setFrom: string;
  setAt: string;
}

export interface SchemaHistoryEntry {
  id: number;
  fromLevel: number;
  toLevel: number;
  migrations: string[];
  channel: string | null;
  version: string | null;
  doneBy: string;
  doneFrom: string;
  doneAt: string;
  backup: string | null;
}

export interface MigrationLease {
  /** The fencing token: only ever grows; a write under the lease is valid only while the row still holds it. */
  token: number;
  holder: string;
}

export interface LeaseHolder {
  holder: string;
  holderFrom: string | null;
  version: string | null;
  token: number;
  expiresAt: string | null;
  expired: boolean;
}

export interface LevelMove {
  from: number;
  to: number;
  migrations: string[];
  channel: string;
  version: string;
  backup: string | null;
}

interface LevelRow { level: number | string; channel: string | null; version: string | null; set_by: string; set_from: string; set_at: Date | string }
interface HistoryRow { id: number | string; from_level: number | string; to_level: number | string; migrations: string; channel: string | null; version: string | null; done_by: string; done_from: string; done_at: Date | string; backup: string | null }

/** The level row inside a transaction (or outside), null where no level was ever recorded. */
export async function readLevel(q: Knex | Knex.Transaction): Promise<number | null> {
  const row: { level: number | string } | undefined = await q('lockstep_schema_level').where({ id: ROW }).first('level');
  return row ? Number(row.level) : null;
}

/**
 * Inside the transaction that writes under the lease: refuses unless the lease row still holds `lease`'s token,
 * unexpired on the server's clock. The UPDATE locks the row until the transaction ends.
 */
export async function checkFence(tx: Knex.Transaction, lease: MigrationLease): Promise<void> {
  const held = await tx('lockstep_schema_lease')
    .where({ id: ROW, token: lease.token, holder: lease.holder })
    .andWhere('expires_at', '>', serverNow(tx))
    .update({ token: lease.token });
  if (held !== 1) {
    throw new LockstepError('E_SCHEMA_LEASE_LOST', `The migration lease (token ${lease.token}) is no longer held by this workstation; nothing was changed.`, { token: lease.token });
  }
}

/** Records a move of the level and its history row (inside the release transaction, after checkFence). */
export async function recordMove(tx: Knex.Transaction, move: LevelMove, actor: Actor): Promise<void> {
  const fields = { level: move.to, channel: move.channel, version: move.version, set_by: actor.user, set_from: actor.workstationId, set_at: serverNow(tx) };
  const updated = await tx('lockstep_schema_level').where({ id: ROW }).update(fields);
  if (updated === 0) await tx('lockstep_schema_level').insert({ id: ROW, ...fields });
  await tx('lockstep_schema_history').insert({
    from_level: move.from,
    to_level: move.to,
    migrations: JSON.stringify(move.migrations),
    channel: move.channel,
    version: move.version,
    done_by: actor.user,
    done_from: actor.workstationId,
    done_at: serverNow(tx),
    backup: move.backup,
  });
}

export class SchemaStore extends Store {
  async level(): Promise<SchemaLevel | null> {
    return this.run(async () => {
      const row = (await this.db.knex('lockstep_schema_level').where({ id: ROW }).first('level', 'channel', 'version', 'set_by', 'set_from', 'set_at')) as LevelRow | undefined;
      return row ? { level: Number(row.level), channel: row.channel, version: row.version, setBy: row.set_by, setFrom: row.set_from, setAt: toIso(row.set_at)! } : null;
    });
  }

  async history(limit = 1000): Promise<SchemaHistoryEntry[]> {
    return this.run(async () => {
      const rows = (await this.db.knex('lockstep_schema_history').select('*').orderBy('id', 'desc').limit(limit)) as HistoryRow[];
      return rows.map((r) => ({
        id: Number(r.id), fromLevel: Number(r.from_level), toLevel: Number(r.to_level), migrations: parseNames(r.migrations), channel: r.channel, version: r.version,
        doneBy: r.done_by, doneFrom: r.done_from, doneAt: toIso(r.done_at)!, backup: r.backup,
      }));
    });
  }

  /** Takes the lease when it is free or expired; null while someone else holds it. */
  async tryAcquireLease(actor: Actor, version: string, ttlMs: number): Promise<MigrationLease | null> {
    return this.run(async () => {
      const holder = `${actor.user}@${actor.workstationId}#${randomBytes(6).toString('hex')}`.slice(0, 255);
      const knex = this.db.knex;
      const taken = await knex.transaction(async (tx) => {
        const fields = { holder, holder_from: actor.workstationId, version, acquired_at: serverNow(tx), expires_at: serverNowPlus(tx, ttlMs) };
        const n = await tx('lockstep_schema_lease')
          .where({ id: ROW })
          .andWhere((q) => q.whereNull('holder').orWhereNull('expires_at').orWhere('expires_at', '<=', serverNow(tx)))
          .update({ ...fields, token: tx.raw('token + 1') });
        if (n === 1) {
          const row: { token: number | string } | undefined = await tx('lockstep_schema_lease').where({ id: ROW, holder }).first('token');
          return row ? { token: Number(row.token), holder } : null;
        }
        return 'absent-or-busy' as const;
      });
      if (taken !== 'absent-or-busy') return taken;
      if (await knex('lockstep_schema_lease').where({ id: ROW }).first('id')) return null;
      try {
        await knex('lockstep_schema_lease').insert({ id: ROW, token: 1, holder, holder_from: actor.workstationId, version, acquired_at: serverNow(knex), expires_at: serverNowPlus(knex, ttlMs) });
        return { token: 1, holder };
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        return null; // another administrator created the row first: the lease is theirs
      }
    });
  }

  /** Frees the lease if this holder still has it (a lost lease is left to its new holder). */
  async releaseLease(lease: MigrationLease): Promise<void> {
    return this.run(async () => {
      await this.db.knex('lockstep_schema_lease').where({ id: ROW, token: lease.token, holder: lease.holder }).update({ holder: null, holder_from: null, acquired_at: null, expires_at: null });
    });
  }

  /** Who holds the lease now (held and expired alike), null when it is free. */
  async leaseHolder(): Promise<LeaseHolder | null> {
    return this.run(async () => {
      const knex = this.db.knex;
      const row = (await knex('lockstep_schema_lease')
        .where({ id: ROW })
        .whereNotNull('holder')
        .first('holder', 'holder_from', 'version', 'token', 'expires_at', knex.raw('case when expires_at > ? then 0 else 1 end as expired', [serverNow(knex)]))) as
        | { holder: string; holder_from: string | null; version: string | null; token: number | string; expires_at: Date | string | null; expired: number | string | boolean }
        | undefined;
      if (!row) return null;
      return { holder: row.holder, holderFrom: row.holder_from, version: row.version, token: toNumber(row.token) ?? 0, expiresAt: toIso(row.expires_at), expired: Number(row.expired) === 1 || row.expired === true };
    });
  }
}

function parseNames(text: string): string[] {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.filter((n): n is string => typeof n === 'string') : [];
  } catch {
    return [];
  }
}
