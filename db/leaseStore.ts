/**
 * Transfer leases (S19): at most K holders per pool at once. A slot is taken with one conditional UPDATE (free or
 * expired → mine), or by inserting its row the first time; both are atomic on every dialect, so two workstations can
 * never hold the same slot. Leases expire unless renewed, so a crashed workstation frees its slot by itself.
 *
 * Expiry compares the clocks of the workstations (ISO text written by each); sites keep workstation clocks in sync
 * (domain time), and the TTL is minutes while skew is seconds.
 */
import { randomBytes } from 'node:crypto';
import { isUniqueViolation } from './errors';
import { nowIso } from './rows';
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
      const start = Math.floor(Math.random() * k);
      for (let i = 0; i < k; i++) {
        const slot = (start + i) % k;
        const token = randomBytes(16).toString('hex');
        const now = nowIso();
        const fields = { holder, token, acquired_at: now, expires_at: new Date(Date.now() + ttlMs).toISOString() };
        const taken = await this.db.knex('lockstep_transfer_leases')
          .where({ pool, slot })
          .andWhere((q) => q.whereNull('holder').orWhere('expires_at', '<', now))
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
      return null;
    });
  }

  /** Extends the lease; false when it was lost (expired and taken by another workstation). */
  async renew(lease: Lease, ttlMs: number): Promise<boolean> {
    return this.run(async () => {
      const n = await this.db.knex('lockstep_transfer_leases')
        .where({ pool: lease.pool, slot: lease.slot, token: lease.token })
        .update({ expires_at: new Date(Date.now() + ttlMs).toISOString() });
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
        .andWhere('expires_at', '>=', nowIso())
        .orderBy('slot')
        .select('slot', 'holder', 'expires_at');
      return rows.map((r) => ({ slot: Number(r.slot), holder: r.holder, expiresAt: r.expires_at instanceof Date ? r.expires_at.toISOString() : String(r.expires_at) }));
    });
  }
}
