/**
 * S19: many administrators releasing at once give exactly one release, one pointer change and one audit row; the
 * others get a coded "already released". PostgreSQL with 20 independent connections in one process; SQLite with
 * separate CLI processes on one file (its writers are processes, not connections).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FleetStore } from '../../db/fleetStore';
import { isLockstepError } from '../../contract/errors';
import { backends, migratedDb } from '../helpers/backends';
import { engineFor, identity } from '../helpers/actors';
import { simWorkstation } from '../helpers/workstationSim';

const pg = backends().find((b) => b.name === 'postgres');

async function assertOneRelease(fleet: FleetStore, channel: string, version: string, revisionBefore: number): Promise<void> {
  const current = await fleet.releases.current(channel);
  assert.equal(current?.release?.version, version);
  assert.equal(current?.revision, revisionBefore + 1, 'exactly one pointer change');
  const rows = (await fleet.releases.list(channel)).filter((r) => r.version === version);
  assert.equal(rows.length, 1, 'exactly one ledger row');
  const audit = (await fleet.events({ limit: 1000 })).filter((e) => e.channel === channel && e.version === version && e.action === 'release');
  assert.equal(audit.length, 1, 'exactly one audit row');
}

if (pg) {
  describe('concurrent releases on postgres', () => {
    test('20 concurrent "release 2.0.0" calls: one release, the rest E_ALREADY_RELEASED', async () => {
      const { db, tdb, cleanup } = await migratedDb(pg);
      const handles = await Promise.all(Array.from({ length: 20 }, () => tdb.open()));
      try {
        const fleet = new FleetStore(db);
        await engineFor(fleet, identity('seed'), '1.0.0', undefined, 'stable').ledger.release('1.0.0');
        const outcomes = await Promise.allSettled(
          handles.map((h, i) => engineFor(new FleetStore(h), identity(`admin-${i}`), '2.0.0', undefined, 'stable').ledger.release('2.0.0')),
        );
        const ok = outcomes.filter((o) => o.status === 'fulfilled');
        const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === 'rejected');
        assert.equal(ok.length, 1);
        assert.equal(rejected.length, 19);
        for (const r of rejected) assert.ok(isLockstepError(r.reason, 'E_ALREADY_RELEASED'), String(r.reason));
        await assertOneRelease(fleet, 'stable', '2.0.0', 1);
      } finally {
        await Promise.all(handles.map((h) => h.close()));
        await cleanup();
      }
    });

    test('two administrators answering "yes" for different versions at once: one wins, the other must decide again', async () => {
      const { db, tdb, cleanup } = await migratedDb(pg);
      const other = await tdb.open();
      try {
        const fleet = new FleetStore(db);
        await engineFor(fleet, identity('seed'), '1.0.0').ledger.release('1.0.0');
        const a = engineFor(fleet, identity('ws-a'), '1.1.0');
        const b = engineFor(new FleetStore(other), identity('ws-b'), '1.2.0');
        await Promise.all([a.gate.run(), b.gate.run()]);
        const outcomes = await Promise.allSettled([a.gate.answer('yes'), b.gate.answer('yes')]);
        const ok = outcomes.filter((o) => o.status === 'fulfilled');
        assert.equal(ok.length, 1, JSON.stringify(outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : 'ok'))));
        const rejected = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected')!;
        // The loser based its answer on revision 1; the pointer moved, so its compare-and-set lost.
        assert.ok(isLockstepError(rejected.reason, 'E_RELEASE_CONFLICT'), String(rejected.reason));
        const current = await fleet.releases.current('stable');
        assert.equal(current?.revision, 2);
      } finally {
        await other.close();
        await cleanup();
      }
    });
  });
}

describe('concurrent releases on sqlite (separate processes, one file)', () => {
  test('8 CLI processes release 2.0.0 at once: one release, the rest E_ALREADY_RELEASED', async () => {
    const sqlite = backends().find((b) => b.name === 'sqlite')!;
    const { db, tdb, cleanup } = await migratedDb(sqlite);
    try {
      const fleet = new FleetStore(db);
      await engineFor(fleet, identity('seed'), '1.0.0').ledger.release('1.0.0');
      const sims = Array.from({ length: 8 }, (_, i) => simWorkstation({ id: `proc-${i}`, dbUrl: tdb.url, installed: '2.0.0', admin: true }));
      const runs = await Promise.all(sims.map((s) => s.json<{ error?: { code: string } }>(['release', '2.0.0'])));
      const codes = runs.map((r) => (r.code === 0 ? 'ok' : r.body.error?.code)).sort();
      assert.deepEqual(codes, ['E_ALREADY_RELEASED', 'E_ALREADY_RELEASED', 'E_ALREADY_RELEASED', 'E_ALREADY_RELEASED', 'E_ALREADY_RELEASED', 'E_ALREADY_RELEASED', 'E_ALREADY_RELEASED', 'ok']);
      await assertOneRelease(fleet, 'stable', '2.0.0', 1);
    } finally {
      await cleanup();
    }
  });
});
