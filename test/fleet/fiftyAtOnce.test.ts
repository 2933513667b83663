/**
 * S19 bounded load: 50 workstations (separate processes) start at once on PostgreSQL with K = 4. All upgrade; the
 * transfer intervals they recorded never overlap more than 4 deep; the feed server saw exactly one package download
 * (the administrator's). The leases are also sampled from the database while the crowd runs.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { LeaseStore } from '../../db/leaseStore';
import { PACKAGE_POOL } from '../../engine/fleet/transferSlots';
import { pgBackend, migratedDb } from '../helpers/backends';
import { fleetWorkstation, installFromFeedProcess, startFeed } from './helpers/site';

const pg = pgBackend();
const K = 4;
const N = 50;

function maxOverlap(intervals: Array<{ start: number; end: number }>): number {
  const points = intervals.flatMap((i) => [{ t: i.start, d: 1 }, { t: i.end, d: -1 }]);
  points.sort((a, b) => a.t - b.t || a.d - b.d); // an end at the same instant frees the slot first
  let now = 0;
  let max = 0;
  for (const p of points) max = Math.max(max, (now += p.d));
  return max;
}

if (pg) {
  describe('50 workstations starting at once (postgres, K = 4)', () => {
    const cleanups: Array<() => Promise<void>> = [];
    after(async () => {
      for (const c of cleanups.reverse()) await c();
    });

    test('all upgrade, never more than K transfers at once, one package download from the feed', async () => {
      const site = await startFeed(['1.1.0'], 1024 * 1024);
      cleanups.push(site.close);
      const { db, tdb, cleanup } = await migratedDb(pg);
      cleanups.push(cleanup);
      const fleet = { maxConcurrentTransfers: K, chunkBytes: 128 * 1024, retryMinMs: 20, retryMaxMs: 120 };
      const common = { dbUrl: tdb.configUrl, feedUrl: site.url, publicKey: site.feed.publicKey, fleet };
      const admin = fleetWorkstation({ ...common, id: 'admin', installed: '1.0.0', admin: true });
      await installFromFeedProcess(admin, '1.1.0');
      assert.equal((await admin.json(['gate'])).code, 0);
      const released = await admin.json<{ decision: { type: string } }>(['gate', '--answer', 'yes']);
      assert.equal(released.body.decision.type, 'proceed', released.stdout);

      const crowd = Array.from({ length: N }, (_, i) => fleetWorkstation({ ...common, id: `ws-${String(i).padStart(2, '0')}`, installed: '1.0.0' }));
      const leases = new LeaseStore(db);
      let sampledMax = 0;
      let sampling = true;
      const sampler = (async () => {
        while (sampling) {
          sampledMax = Math.max(sampledMax, (await leases.active(PACKAGE_POOL)).length);
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
      const results = await Promise.all(crowd.map((ws) => ws.json<{ decision: { type: string }; restartInto: string | null }>(['gate'])));
      sampling = false;
      await sampler;

      for (const [i, r] of results.entries()) assert.deepEqual([r.code, r.body.restartInto], [0, '1.1.0'], `ws-${i}: ${r.stdout}${r.stderr}`);
      assert.deepEqual(crowd.map((ws) => ws.installed()), crowd.map(() => '1.1.0'));
      const transfers = (await db.knex('lockstep_events').where({ action: 'package-transfer' }).select('detail')).map((r) => JSON.parse(r.detail as string) as { startedAt: string; endedAt: string; waitedMs: number });
      assert.equal(transfers.length, N, 'one transfer per workstation');
      const overlap = maxOverlap(transfers.map((t) => ({ start: Date.parse(t.startedAt), end: Date.parse(t.endedAt) })));
      assert.ok(overlap <= K, `at most ${K} transfers at once, saw ${overlap}`);
      assert.ok(sampledMax <= K, `at most ${K} leases held at once, sampled ${sampledMax}`);
      assert.equal(site.packageDownloads(), 1, 'the feed served the package once, to the administrator');
      const upgrades = await db.knex('lockstep_events').where({ action: 'upgrade', outcome: 'ok' }).count({ n: '*' }).first();
      assert.equal(Number(upgrades!.n), N);
      const spans = transfers.map((t) => Date.parse(t.endedAt) - Date.parse(t.startedAt));
      process.stdout.write(`# max concurrent transfers observed: ${overlap} (sampled leases: ${sampledMax}); transfer ms max ${Math.max(...spans)}, sum ${spans.reduce((a, b) => a + b, 0)}; waited ms max ${Math.max(...transfers.map((t) => t.waitedMs))}\n`);
    });
  });
}
