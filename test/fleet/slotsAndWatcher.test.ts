/**
 * The lease table bounds transfers at K (with expiry after a crash); waiting uses jitter and gives up with a coded
 * error; a running workstation learns about a newer release at its next database access or within the interval
 * (fake timers drive the interval). On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, describe, mock, test } from 'node:test';
import { FleetStore } from '../../db/fleetStore';
import { LeaseStore } from '../../db/leaseStore';
import { isLockstepError } from '../../contract/errors';
import { ReleaseWatcher, OutdatedNotice } from '../../engine/fleet/releaseWatcher';
import { PACKAGE_POOL, acquireSlot } from '../../engine/fleet/transferSlots';
import { MemoryLogger } from '../../kernel/log';
import { StartupGate } from '../../engine/startupGate';
import { engineFor, identity } from '../helpers/actors';
import { backends, migratedDb } from '../helpers/backends';

for (const backend of backends().filter((b) => b.name !== 'mssql')) {
  describe(`transfer slots and the release watcher (${backend.name})`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    after(async () => {
      for (const c of cleanups.reverse()) await c();
    });

    test('K = 3: eight contenders get three slots; a released slot and an expired one are taken again', async () => {
      const { db, cleanup } = await migratedDb(backend);
      cleanups.push(cleanup);
      const leases = new LeaseStore(db);
      const got = await Promise.all(Array.from({ length: 8 }, (_, i) => leases.tryAcquire(PACKAGE_POOL, 3, `ws-${i}`, 60_000)));
      const held = got.filter((l) => l !== null);
      assert.equal(held.length, 3);
      assert.deepEqual(new Set(held.map((l) => l!.slot)), new Set([0, 1, 2]));
      assert.equal(await leases.tryAcquire(PACKAGE_POOL, 3, 'late', 60_000), null);
      await leases.release(held[0]!);
      const next = await leases.tryAcquire(PACKAGE_POOL, 3, 'late', 60_000);
      assert.equal(next?.slot, held[0]!.slot);
      // A crashed holder: its lease lapses and someone else takes the slot; the crashed one can no longer renew it.
      await db.knex('lockstep_transfer_leases').where({ pool: PACKAGE_POOL, slot: held[1]!.slot }).update({ expires_at: new Date(Date.now() - 1000).toISOString() });
      const taken = await leases.tryAcquire(PACKAGE_POOL, 3, 'after-crash', 60_000);
      assert.equal(taken?.slot, held[1]!.slot);
      assert.equal(await leases.renew(held[1]!, 60_000), false);
      assert.deepEqual((await leases.active(PACKAGE_POOL)).map((a) => a.holder).sort(), ['after-crash', 'late', held[2]!.holder].sort());
    });

    test('waiting for a slot pauses with jitter and ends in E_TRANSFER_BUSY after maxWaitMs', async () => {
      const { db, cleanup } = await migratedDb(backend);
      cleanups.push(cleanup);
      const leases = new LeaseStore(db);
      await leases.tryAcquire(PACKAGE_POOL, 1, 'busy', 60_000);
      let now = 0;
      const pauses: number[] = [];
      const randoms = [0, 0.5, 0.999];
      const clock = { now: () => now, sleep: async (ms: number) => {
          pauses.push(ms);
          now += ms;
        }, random: () => randoms[pauses.length % 3]! };
      const settings = { maxConcurrentTransfers: 1, leaseTtlMs: 60_000, retryMinMs: 100, retryMaxMs: 300, maxWaitMs: 700 };
      await assert.rejects(acquireSlot(leases, settings, 'waiter', new MemoryLogger(), clock), (e) => isLockstepError(e, 'E_TRANSFER_BUSY'));
      assert.deepEqual(pauses, [100, 200, 300, 100]);
    });

    test('a newer release while running: noticed at the next database access and by the interval, once', async () => {
      const { db, cleanup } = await migratedDb(backend);
      cleanups.push(cleanup);
      const fleet = new FleetStore(db);
      await engineFor(fleet, identity('admin'), '1.0.0').ledger.release('1.0.0');
      mock.timers.enable({ apis: ['setInterval'] });
      try {
        const running = engineFor(fleet, identity('ws-running', false), '1.0.0');
        const watcher = new ReleaseWatcher(() => running.gate.evaluate(), new MemoryLogger(), {
          policy: 'warn',
          checkIntervalMs: 60_000,
          timers: { setInterval: (fn, ms) => setInterval(fn, ms), clearInterval: (h) => clearInterval(h as NodeJS.Timeout) },
        });
        const notices: OutdatedNotice[] = [];
        watcher.onOutdated((n) => notices.push(n));
        watcher.start();
        assert.equal(await watcher.noteDatabaseAccess(), null);
        await engineFor(fleet, identity('admin'), '1.1.0').ledger.release('1.1.0');
        const seen = await watcher.noteDatabaseAccess();
        assert.deepEqual(seen, { type: 'outdated', installed: '1.0.0', released: '1.1.0', policy: 'warn', reason: null });
        await engineFor(fleet, identity('admin'), '1.2.0').ledger.release('1.2.0');
        const second = new Promise<void>((resolve) => {
          const off = watcher.onOutdated(() => {
            off();
            resolve();
          });
        });
        mock.timers.tick(60_000); // the interval fires: no database access needed
        await second;
        mock.timers.tick(60_000); // same release again: no second notice
        await watcher.check(); // joins the read the interval started
        watcher.stop();
        assert.deepEqual(notices.map((n) => n.released), ['1.1.0', '1.2.0']);
      } finally {
        mock.timers.reset();
      }
    });

    test('the watcher judges with the gate: its own release withdrawn is noticed, a test version above R is not', async () => {
      const { db, cleanup } = await migratedDb(backend);
      cleanups.push(cleanup);
      const fleet = new FleetStore(db);
      const admin = engineFor(fleet, identity('admin'), '1.2.0');
      await engineFor(fleet, identity('admin'), '1.1.0').ledger.release('1.1.0');
      await admin.ledger.release('1.2.0');
      const onWithdrawn = engineFor(fleet, identity('ws-new', false), '1.2.0');
      const tester = engineFor(fleet, identity('ws-test'), '1.3.0');
      await tester.gate.answer('no'); // 1.3.0 is a test installation there
      const watch = (gate: StartupGate) =>
        new ReleaseWatcher(() => gate.evaluate(), new MemoryLogger(), { policy: 'block', checkIntervalMs: 60_000 });
      const w1 = watch(onWithdrawn.gate);
      const w2 = watch(tester.gate);
      assert.equal(await w1.noteDatabaseAccess(), null);
      await admin.ledger.withdraw('1.2.0'); // the pointer falls back to 1.1.0: the gate would move ws-new back
      assert.deepEqual(await w1.noteDatabaseAccess(), { type: 'outdated', installed: '1.2.0', released: '1.1.0', policy: 'block', reason: null });
      assert.equal(await w2.noteDatabaseAccess(), null, 'a recorded test version above R keeps working, as at start');
    });
  });
}
