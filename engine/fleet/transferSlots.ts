/**
 * Bounded load (S19): a workstation transfers a package only while it holds one of K leases. Waiting workstations
 * retry after a random pause (jitter), so a hundred that start at 8:00 spread out instead of polling in lockstep; a
 * lease is renewed while its transfer makes progress and released at the end, and expires by itself after a crash.
 */
import { LockstepError } from '../../contract/errors';
import { Lease, LeaseStore } from '../../db/leaseStore';
import { Logger } from '../../kernel/log';
import { FleetConfig } from '../../kernel/fleetConfig';

export const PACKAGE_POOL = 'package-transfer';

export interface SlotClock {
  now(): number;
  sleep(ms: number): Promise<void>;
  random(): number;
}

export const realClock: SlotClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  random: () => Math.random(),
};

export interface HeldSlot {
  lease: Lease;
  waitedMs: number;
  attempts: number;
  /** Renews the lease when a third of its lifetime has passed; cheap to call after every chunk. */
  keepAlive(): Promise<void>;
  release(): Promise<void>;
}

type SlotSettings = Pick<FleetConfig, 'maxConcurrentTransfers' | 'leaseTtlMs' | 'retryMinMs' | 'retryMaxMs' | 'maxWaitMs'>;

export async function acquireSlot(leases: LeaseStore, settings: SlotSettings, holder: string, log: Logger, clock: SlotClock = realClock): Promise<HeldSlot> {
  const started = clock.now();
  for (let attempts = 1; ; attempts++) {
    const lease = await leases.tryAcquire(PACKAGE_POOL, settings.maxConcurrentTransfers, holder, settings.leaseTtlMs);
    if (lease) {
      const waitedMs = clock.now() - started;
      if (attempts > 1) log.info('fleet.slot-acquired', { slot: lease.slot, waitedMs, attempts });
      let renewedAt = clock.now();
      return {
        lease,
        waitedMs,
        attempts,
        async keepAlive() {
          if (clock.now() - renewedAt < settings.leaseTtlMs / 3) return;
          renewedAt = clock.now();
          if (!(await leases.renew(lease, settings.leaseTtlMs))) log.warn('fleet.slot-lost', { slot: lease.slot }); // finishing is still correct: bytes are verified
        },
        release: () => leases.release(lease),
      };
    }
    const elapsed = clock.now() - started;
    if (elapsed >= settings.maxWaitMs) {
      throw new LockstepError('E_TRANSFER_BUSY', `All ${settings.maxConcurrentTransfers} package transfer slots stayed busy for ${Math.round(elapsed / 1000)} s; the upgrade is retried at the next start.`, {
        slots: settings.maxConcurrentTransfers,
        waitedMs: elapsed,
      });
    }
    const pause = settings.retryMinMs + Math.floor(clock.random() * (settings.retryMaxMs - settings.retryMinMs + 1));
    if (attempts === 1) log.info('fleet.slot-wait', { slots: settings.maxConcurrentTransfers, pauseMs: pause });
    await clock.sleep(Math.min(pause, Math.max(0, settings.maxWaitMs - elapsed)));
  }
}

/** A transfer slot a transfer takes only when it reads from the database, and may give back before it ends. */
export interface TransferSlot {
  /** Waits for and takes a slot; nothing while one is held. */
  acquire(): Promise<void>;
  /** Renews a held slot when due; nothing while none is held. */
  keepAlive(): Promise<void>;
  /** Gives a held slot back; nothing while none is held. */
  release(): Promise<void>;
}

/** When a slot was held: for the audit row, whose intervals show that at most K transfers read at once. */
export interface SlotHold {
  slot: number;
  waitedMs: number;
  attempts: number;
  startedAt: string;
  endedAt: string | null;
}

/**
 * A slot taken on first use, not up front: a patch assembled mostly from the package the workstation already has
 * holds one only while it reads its missing blocks (engine/fleet/blockTransfer.ts), not while it hashes and writes
 * the rest. `holds` records each time one was held.
 */
export class LazySlot implements TransferSlot {
  readonly holds: SlotHold[] = [];
  private held: HeldSlot | null = null;

  constructor(private readonly take: () => Promise<HeldSlot>) {}

  async acquire(): Promise<void> {
    if (this.held) return;
    this.held = await this.take();
    this.holds.push({ slot: this.held.lease.slot, waitedMs: this.held.waitedMs, attempts: this.held.attempts, startedAt: new Date().toISOString(), endedAt: null });
  }

  async keepAlive(): Promise<void> {
    await this.held?.keepAlive();
  }

  async release(): Promise<void> {
    const held = this.held;
    if (!held) return;
    this.held = null;
    this.holds.at(-1)!.endedAt = new Date().toISOString();
    await held.release();
  }
}
