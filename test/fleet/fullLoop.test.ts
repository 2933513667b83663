/**
 * The whole fleet loop with three workstations as separate processes (S14, S17): A installs 1.1.0 from the vendor
 * feed and releases it for all; B upgrades from the shared database without a single request to the feed server;
 * C (test ring) installs 1.2.0 and answers "No" — A and B stay on 1.1.0. On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { backends, migratedDb } from '../helpers/backends';
import { fleetWorkstation, installFromFeedProcess, startFeed } from './helpers/site';

/** The installed version's package is kept, byte for byte, as the next delta base (engine/keptPackage.ts). */
function assertKept(workstationDir: string, version: string, vendorFile: string): void {
  const dir = path.join(workstationDir, 'feed-cache', 'installed-package');
  const record = JSON.parse(fs.readFileSync(path.join(dir, 'kept.json'), 'utf8')) as { version: string; name: string };
  assert.equal(record.version, version);
  assert.deepEqual(fs.readFileSync(path.join(dir, record.name)), fs.readFileSync(vendorFile), `the package of ${version} is kept`);
}

interface GateJson {
  decision: { type: string; installed: string; released: string | null; reason?: { code: string } | null };
  restartInto: string | null;
}

for (const backend of backends().filter((b) => b.name !== 'mssql')) {
  describe(`fleet loop on ${backend.name}`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    after(async () => {
      for (const c of cleanups.reverse()) await c();
    });

    test('A releases 1.1.0 with its package, B upgrades from the database only, C tests 1.2.0 and the others stay', async () => {
      const site = await startFeed(['1.1.0', '1.2.0'], 512 * 1024);
      cleanups.push(site.close);
      const { db, tdb, cleanup } = await migratedDb(backend);
      cleanups.push(cleanup);
      const common = { dbUrl: tdb.configUrl, feedUrl: site.url, publicKey: site.feed.publicKey };
      const a = fleetWorkstation({ ...common, id: 'ws-a', installed: '1.0.0', admin: true });
      const b = fleetWorkstation({ ...common, id: 'ws-b', installed: '1.0.0' });
      const c = fleetWorkstation({ ...common, id: 'ws-c', installed: '1.0.0', admin: true, ring: 'test' });

      await installFromFeedProcess(a, '1.1.0');
      assert.equal(a.installed(), '1.1.0');
      assert.equal(site.packageDownloads(), 1);
      assertKept(a.dir, '1.1.0', path.join(site.feed.feedDir, site.feed.packages['1.1.0']!.name));
      const asked = await a.json<GateJson>(['gate']);
      assert.equal(asked.body.decision.type, 'ask-release');
      const yes = await a.json<GateJson>(['gate', '--answer', 'yes']);
      assert.equal(yes.code, 0, yes.stdout + yes.stderr);
      assert.equal(yes.body.decision.type, 'proceed');
      assert.equal(site.packageDownloads(), 1, 'releasing found the package in the feed cache: no second download');

      // B has a module installed (S6): the upgrade from the database must carry it across the app install.
      const moduleBytes = Buffer.from('reports module 1.0.0, installed before the upgrade');
      fs.mkdirSync(path.join(b.dir, 'app', 'modules', 'reports'), { recursive: true });
      fs.writeFileSync(path.join(b.dir, 'app', 'modules', 'reports', 'reports-1.0.0.zip'), moduleBytes);
      fs.writeFileSync(path.join(b.dir, 'app', 'lockstep-modules.json'), JSON.stringify({ reports: '1.0.0' }));

      const requestsBeforeB = site.requests.length;
      const upgraded = await b.json<GateJson>(['gate']);
      assert.equal(upgraded.code, 0, upgraded.stdout + upgraded.stderr);
      assert.deepEqual([upgraded.body.decision.type, upgraded.body.restartInto], ['upgrade', '1.1.0']);
      assert.equal(site.requests.length, requestsBeforeB, `B sent no request to the feed server: ${site.requests.slice(requestsBeforeB).join(', ')}`);
      assert.equal(b.installed(), '1.1.0');
      assertKept(b.dir, '1.1.0', path.join(site.feed.feedDir, site.feed.packages['1.1.0']!.name));
      const payload = fs.readFileSync(path.join(b.dir, 'app', 'data', 'filler.bin'));
      assert.equal(createHash('sha256').update(payload).digest('hex'), site.feed.packages['1.1.0']!.payloadSha256, 'B runs the vendor\'s bytes');
      assert.deepEqual(fs.readFileSync(path.join(b.dir, 'app', 'modules', 'reports', 'reports-1.0.0.zip')), moduleBytes, 'the module survived the upgrade');
      assert.deepEqual(JSON.parse(fs.readFileSync(path.join(b.dir, 'app', 'lockstep-modules.json'), 'utf8')), { reports: '1.0.0' });
      assert.equal((await b.json<GateJson>(['gate'])).body.decision.type, 'proceed');

      await installFromFeedProcess(c, '1.2.0');
      assert.equal((await c.json<GateJson>(['gate'])).body.decision.type, 'ask-release');
      const cAsked = await c.json<GateJson>(['gate', '--answer', 'no']);
      assert.equal(cAsked.code, 0, cAsked.stdout + cAsked.stderr);
      assert.equal(cAsked.body.decision.type, 'test-workstation');
      for (const ws of [a, b]) {
        const again = await ws.json<GateJson>(['gate']);
        assert.deepEqual([again.body.decision.type, again.body.decision.released], ['proceed', '1.1.0']);
      }
      assert.deepEqual([a.installed(), b.installed(), c.installed()], ['1.1.0', '1.1.0', '1.2.0']);
      assert.equal(site.packageDownloads(), 2, 'one download per version the site fetched: 1.1.0 by A, 1.2.0 by C');

      const list = await a.json<{ current: string; releases: Array<{ id: number; version: string; state: string; package: { state: string; chunkCount: number } | null }> }>(['releases']);
      assert.equal(list.body.current, '1.1.0');
      const r11 = list.body.releases.find((r) => r.version === '1.1.0')!;
      assert.equal(r11.state, 'released');
      assert.equal(r11.package?.state, 'complete');
      // The package travelled as shared content-defined blocks, not as fixed-size chunks.
      const stored = await db.knex('lockstep_release_packages').where({ release_id: r11.id }).first('layout', 'chunk_count');
      const listed = await db.knex('lockstep_release_blocks').where({ release_id: r11.id }).count({ n: '*' }).first();
      assert.deepEqual([stored.layout, Number(listed!.n)], ['blocks', Number(stored.chunk_count)]);
      assert.equal(Number((await db.knex('lockstep_release_chunks').count({ n: '*' }).first())!.n), 0);
      // Pruning is for administrators, and never the released version's package.
      const notAdmin = await b.json<{ error: { code: string } }>(['releases', 'prune', '1.1.0']);
      assert.equal(notAdmin.body.error.code, 'E_NOT_ADMIN', notAdmin.stdout + notAdmin.stderr);
      const current = await a.json<{ error: { code: string } }>(['releases', 'prune', '1.1.0']);
      assert.equal(current.body.error.code, 'E_INVALID_STATE', current.stdout + current.stderr);
      assert.equal(Number(listed!.n), Number((await db.knex('lockstep_release_blocks').where({ release_id: r11.id }).count({ n: '*' }).first())!.n), 'nothing was pruned');
      const uploads = await db.knex('lockstep_events').where({ action: 'package-upload' }).select('version');
      assert.deepEqual(uploads.map((u) => u.version), ['1.1.0']);
      const ws = await a.json<{ workstations: Array<{ workstationId: string; installedVersion: string; ring: string; lastResult: string | null }> }>(['workstations']);
      const row = (id: string) => ws.body.workstations.find((w) => w.workstationId === id)!;
      assert.equal(row('ws-b').installedVersion, '1.1.0');
      assert.match(row('ws-b').lastResult ?? '', /upgraded 1\.0\.0 → 1\.1\.0/);
      assert.equal(row('ws-c').ring, 'test');
    });
  });
}
