/**
 * Transfer leases (S19): at most K holders per pool at once. A slot is taken with one conditional UPDATE (free or
 * expired → mine), or by inserting its row the first time; both are atomic on every dialect, so two workstations can
 * never hold the same slot. Leases expire unless renewed, so a crashed workstation frees its slot by itself.
 *
 * Every time here is the database server's (serverTime.ts): a workstation whose clock runs days off still takes and
 * frees slots after the normal lease time. A row whose expiry lies further ahead than the lease time (a broken or
 * hostile writer, or a row written before times came from the server) is cut down to the lease time by the first
 * workstation that finds every slot busy, so no row can block transfers longer than that.
 */
import { randomBytes } from 'node:crypto';
import { isUniqueViolation } from './errors';
import { serverNow, serverNowPlus } from './serverTime';
import { Store } from './store';

export interface Lease {
  pool: string;
  slot: number;
  holder: string;
  token: string;
}

export class LeaseStore extends Store {
  /**
   * Tries the K slots of `pool`, starting at a random one so that waiting workstations do not all fight over slot 0.
   * Returns the lease, or null when all K are held and unexpired.
   */
  async tryAcquire(pool: string, k: number, holder: string, ttlMs: number): Promise<Lease | null> {
    return this.run(async () => {
      const knex = this.db.knex;
      const start = Math.floor(Math.random() * k);
      for (let i = 0; i < k; i++) {
        const slot = (start + i) % k;
        const token = randomBytes(16).toString('hex');
        const fields = { holder, token, acquired_at: serverNow(knex), expires_at: serverNowPlus(knex, ttlMs) };
        const taken = await knex('lockstep_transfer_leases')
          .where({ pool, slot })
          .andWhere((q) => q.whereNull('holder').orWhereNull('expires_at').orWhere('expires_at', '<', serverNow(knex)))
          .update(fields);
        if (taken === 1) return { pool, slot, holder, token };
        const exists = await this.db.knex('lockstep_transfer_leases').where({ pool, slot }).first('slot');
        if (exists) continue;
        try {
          await this.db.knex('lockstep_transfer_leases').insert({ pool, slot, ...fields });
          return { pool, slot, holder, token };
        } catch (err) {
          if (!isUniqueViolation(err)) throw err; // someone created the slot first: it is theirs
        }
      }
      await this.capExpiry(pool, ttlMs);
      return null;
    });
  }

  /**
   * No lease outlives the lease time: an honest holder never writes an expiry further ahead than that, so any such
   * row is cut down to it (measured from now, on the server). Runs only when every slot was busy.
   */
  private async capExpiry(pool: string, maxLeaseMs: number): Promise<void> {
    const knex = this.db.knex;
    await knex('lockstep_transfer_leases')
      .where({ pool })
      .whereNotNull('holder')
      .andWhere('expires_at', '>', serverNowPlus(knex, maxLeaseMs))
      .update({ expires_at: serverNowPlus(knex, maxLeaseMs) });
  }

  /** Extends the lease; false when it was lost (expired and taken by another workstation). */
  async renew(lease: Lease, ttlMs: number): Promise<boolean> {
    return this.run(async () => {
      const n = await this.db.knex('lockstep_transfer_leases')
        .where({ pool: lease.pool, slot: lease.slot, token: lease.token })
        .update({ expires_at: serverNowPlus(this.db.knex, ttlMs) });
      return n === 1;
    });
  }

  async release(lease: Lease): Promise<void> {
    return this.run(async () => {
      await this.db.knex('lockstep_transfer_leases')
        .where({ pool: lease.pool, slot: lease.slot, token: lease.token })
        .update({ holder: null, token: null, acquired_at: null, expires_at: null });
    });
  }

  /** Holders whose lease has not expired (administration view, tests). */
  async active(pool: string): Promise<Array<{ slot: number; holder: string; expiresAt: string }>> {
    return this.run(async () => {
      const rows: Array<{ slot: number; holder: string; expires_at: Date | string }> = await this.db.knex('lockstep_transfer_leases')
        .where({ pool })
        .whereNotNull('holder')
        .andWhere('expires_at', '>=', serverNow(this.db.knex))
        .orderBy('slot')
        .select('slot', 'holder', 'expires_at');
      return rows.map((r) => ({ slot: Number(r.slot), holder: r.holder, expiresAt: r.expires_at instanceof Date ? r.expires_at.toISOString() : String(r.expires_at) }));
    });
  }
}
