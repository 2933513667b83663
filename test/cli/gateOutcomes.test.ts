/**
 * Every start-up gate outcome, end to end through the real CLI, with several simulated workstations (separate
 * processes) sharing one database — on SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends, TestDatabase } from '../helpers/backends';
import { SimWorkstation, simWorkstation } from '../helpers/workstationSim';

interface GateJson {
  decision: { type: string; installed: string; released: string | null; canAnswer?: boolean; policy?: string; reason?: { code: string } | null };
  mayUseDatabase: boolean;
  testVersion: boolean;
}
interface StatusJson {
  installed: string;
  released: string | null;
  decision: string;
}

for (const backend of backends()) {
  describe(`start-up gate through the CLI on ${backend.name}`, () => {
    let tdb: TestDatabase;
    let admin: SimWorkstation;
    let clerk: SimWorkstation;
    let tester: SimWorkstation;
    let warnWs: SimWorkstation;
    before(async () => {
      tdb = await backend.create();
      admin = simWorkstation({ id: 'ws-admin', dbUrl: tdb.configUrl, installed: '7.0.0.19', admin: true });
      clerk = simWorkstation({ id: 'ws-clerk', dbUrl: tdb.configUrl, installed: '7.0.0.19' });
      tester = simWorkstation({ id: 'ws-tester', dbUrl: tdb.configUrl, installed: '7.0.0.19', admin: true, ring: 'test' });
      warnWs = simWorkstation({ id: 'ws-warn', dbUrl: tdb.configUrl, installed: '7.0.0.19', policy: 'warn' });
      const m = await admin.cli(['db', 'migrate']);
      assert.equal(m.code, 0, m.stderr);
    });
    after(async () => tdb.drop());

    test('a new site: the first administrator releases what it runs; everyone on it proceeds', async () => {
      const s = await admin.json<StatusJson>(['status']);
      assert.deepEqual([s.code, s.body.installed, s.body.released, s.body.decision], [0, '7.0.0.19', null, 'ask-release']);
      const yes = await admin.json<GateJson>(['gate', '--answer', 'yes']);
      assert.equal(yes.code, 0, yes.stderr);
      assert.deepEqual(yes.body.decision, { type: 'proceed', installed: '7.0.0.19', released: '7.0.0.19' });
      for (const ws of [clerk, tester, warnWs]) {
        const g = await ws.json<GateJson>(['gate']);
        assert.deepEqual([g.code, g.body.decision.type, g.body.mayUseDatabase], [0, 'proceed', true]);
      }
    });

    test('I > R on a non-administrator: told it awaits release, cannot answer', async () => {
      clerk.setInstalled('7.1.0.2');
      const g = await clerk.json<GateJson>(['gate']);
      assert.deepEqual(g.body.decision, { type: 'ask-release', installed: '7.1.0.2', released: '7.0.0.19', canAnswer: false });
      assert.equal(g.body.mayUseDatabase, true);
      const text = await clerk.cli(['gate']);
      assert.match(text.stdout, /test installation awaiting release by an administrator/);
      const no = await clerk.json<{ error: { code: string } }>(['gate', '--answer', 'yes']);
      assert.deepEqual([no.code, no.body.error.code], [1, 'E_NOT_ADMIN']);
      clerk.setInstalled('7.0.0.19');
      assert.equal((await clerk.json<GateJson>(['gate'])).body.decision.type, 'proceed');
    });

    test('I > R answered "No": a test workstation, not asked again, the others stay on R', async () => {
      tester.setInstalled('7.1.0.0');
      const ask = await tester.json<GateJson>(['gate']);
      assert.equal(ask.body.decision.type, 'ask-release');
      assert.equal(ask.body.decision.canAnswer, true);
      const no = await tester.json<GateJson>(['gate', '--answer', 'no']);
      assert.deepEqual([no.code, no.body.decision.type, no.body.testVersion], [0, 'test-workstation', true]);
      const again = await tester.json<GateJson>(['gate']);
      assert.equal(again.body.decision.type, 'test-workstation');
      const other = await clerk.json<StatusJson>(['status']);
      assert.deepEqual([other.body.released, other.body.decision], ['7.0.0.19', 'proceed']);
      const list = await admin.json<{ workstations: Array<{ workstationId: string; ring: string; installedVersion: string }> }>(['workstations']);
      const byId = Object.fromEntries(list.body.workstations.map((w) => [w.workstationId, [w.installedVersion, w.ring]]));
      assert.deepEqual(byId, { 'ws-admin': ['7.0.0.19', 'regular'], 'ws-clerk': ['7.0.0.19', 'regular'], 'ws-tester': ['7.1.0.0', 'test'], 'ws-warn': ['7.0.0.19', 'regular'] });
    });

    test('I > R answered "Yes": R := I, and the older workstations must upgrade (outdated under block, warn lets them on)', async () => {
      admin.setInstalled('7.2.0.1');
      const yes = await admin.json<GateJson>(['gate', '--answer', 'yes']);
      assert.deepEqual(yes.body.decision, { type: 'proceed', installed: '7.2.0.1', released: '7.2.0.1' });
      const blocked = await clerk.json<GateJson>(['gate']);
      assert.equal(blocked.code, 3, 'exit 3: the gate blocks');
      assert.deepEqual(
        { ...blocked.body.decision, reason: blocked.body.decision.reason?.code },
        { type: 'outdated', installed: '7.0.0.19', released: '7.2.0.1', policy: 'block', reason: 'E_UPGRADE_UNAVAILABLE' },
      );
      assert.equal(blocked.body.mayUseDatabase, false);
      const text = await clerk.cli(['gate']);
      assert.match(text.stdout, /Outdated software version: this workstation runs 7\.0\.0\.19, the released version is 7\.2\.0\.1 — contact your administrator/);
      const warned = await warnWs.json<GateJson>(['gate']);
      assert.deepEqual([warned.code, warned.body.decision.type, warned.body.decision.policy, warned.body.mayUseDatabase], [0, 'outdated', 'warn', true]);
      const status = await clerk.json<StatusJson>(['status']);
      assert.equal(status.body.decision, 'upgrade', 'status shows the pure decision');
      const row = (await admin.json<{ workstations: Array<{ workstationId: string; lastResult: string | null }> }>(['workstations'])).body.workstations.find((w) => w.workstationId === 'ws-clerk');
      assert.match(row?.lastResult ?? '', /^E_UPGRADE_UNAVAILABLE: upgrade to 7\.2\.0\.1 failed$/);
    });

    test('withdraw moves the pointer back; the withdrawn version downgrades, nothing else moves', async () => {
      const w = await admin.json<{ withdrawn: { version: string; state: string }; current: { version: string } }>(['withdraw', '7.2.0.1']);
      assert.deepEqual([w.code, w.body.withdrawn.state, w.body.current.version], [0, 'withdrawn', '7.0.0.19']);
      const s = await admin.json<StatusJson & { detail: { downgrade: boolean } }>(['status']);
      assert.deepEqual([s.body.decision, s.body.detail.downgrade], ['upgrade', true]);
      const c = await clerk.json<GateJson>(['gate']);
      assert.equal(c.body.decision.type, 'proceed');
      const events = await admin.json<{ events: Array<{ action: string; version: string }> }>(['events']);
      assert.deepEqual(events.body.events.map((e) => `${e.action} ${e.version}`).reverse(), ['release 7.0.0.19', 'mark-test 7.1.0.0', 'release 7.2.0.1', 'withdraw 7.2.0.1']);
    });

    test('a workstation that never started can mark a test version and answer at once', async () => {
      const fresh = simWorkstation({ id: 'ws-fresh', dbUrl: tdb.configUrl, installed: '9.0.0', admin: true });
      const r = await fresh.json<{ release: { state: string }; alreadyMarked: boolean }>(['mark-test', '9.0.0']);
      assert.deepEqual([r.code, r.body.release.state, r.body.alreadyMarked], [0, 'test', false], r.stderr);
      const other = simWorkstation({ id: 'ws-fresh2', dbUrl: tdb.configUrl, installed: '9.0.1', admin: true });
      const no = await other.json<GateJson>(['gate', '--answer', 'no']);
      assert.deepEqual([no.code, no.body.decision.type], [0, 'test-workstation'], no.stderr);
    });
  });
}
