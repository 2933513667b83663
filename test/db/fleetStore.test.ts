/** The shared-database suite: the same tests on SQLite, PostgreSQL and (when configured) SQL Server. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Db } from '../../db/connection';
import { FleetStore } from '../../db/fleetStore';
import { isLockstepError } from '../../contract/errors';
import { backends, migratedDb } from '../helpers/backends';
import { engineFor, identity } from '../helpers/actors';

for (const backend of backends()) {
  describe(`fleet store on ${backend.name}`, () => {
    let db: Db;
    let fleet: FleetStore;
    let cleanup: () => Promise<void>;
    before(async () => {
      ({ db, cleanup } = await migratedDb(backend));
      fleet = new FleetStore(db);
    });
    after(async () => cleanup());

    test('release, re-release guard, withdraw and fall back: ledger, pointer and audit rows', async () => {
      const admin = identity('ws-admin');
      const { ledger } = engineFor(fleet, admin, '1.0.0', undefined, 'ch-ledger');
      await ledger.release('1.0.0');
      await ledger.release('1.1.0.7');
      await assert.rejects(ledger.release('1.1.0.7'), (e) => isLockstepError(e, 'E_ALREADY_RELEASED'));
      await assert.rejects(ledger.release('1.0.0'), (e) => isLockstepError(e, 'E_DOWNGRADE'));
      const w = await ledger.withdraw('1.1.0.7');
      assert.equal(w.withdrawn.state, 'withdrawn');
      assert.equal(w.withdrawn.withdrawnBy, 'admin');
      assert.equal(w.current?.version, '1.0.0');
      const cur = await fleet.releases.current('ch-ledger');
      assert.equal(cur?.release?.version, '1.0.0');
      assert.equal(cur?.revision, 3);
      const list = await ledger.list();
      assert.deepEqual(list.map((r) => [r.version, r.state]), [['1.1.0.7', 'withdrawn'], ['1.0.0', 'released']]);
      const events = (await fleet.events({ limit: 50 })).filter((e) => e.channel === 'ch-ledger');
      assert.deepEqual(events.map((e) => [e.action, e.version, e.outcome, e.actor, e.workstationId]).reverse(), [
        ['release', '1.0.0', 'ok', 'admin', 'ws-admin'],
        ['release', '1.1.0.7', 'ok', 'admin', 'ws-admin'],
        ['withdraw', '1.1.0.7', 'ok', 'admin', 'ws-admin'],
      ]);
      // An explicit re-release of the withdrawn version moves the pointer up again.
      const again = await ledger.release('1.1.0.7');
      assert.equal(again.state, 'released');
      assert.equal(again.withdrawnAt, null);
    });

    test('re-releasing an earlier version is explicit and audited as such', async () => {
      const { ledger } = engineFor(fleet, identity('ws-admin'), '2.0.0', undefined, 'ch-rerelease');
      await ledger.release('2.0.0');
      await ledger.release('2.1.0');
      const r = await ledger.release('2.0.0', { rerelease: true });
      assert.equal(r.version, '2.0.0');
      assert.equal((await fleet.releases.current('ch-rerelease'))?.release?.version, '2.0.0');
      const actions = (await fleet.events({ limit: 100 })).filter((e) => e.channel === 'ch-rerelease').map((e) => e.action);
      assert.deepEqual(actions.reverse(), ['release', 'release', 'rerelease']);
    });

    test('non-administrators cannot write the ledger and nothing is written', async () => {
      const { ledger } = engineFor(fleet, identity('ws-clerk', false), '1.0.0', undefined, 'ch-clerk');
      const before = (await fleet.events({ limit: 1000 })).length;
      await assert.rejects(ledger.release('1.0.0'), (e) => isLockstepError(e, 'E_NOT_ADMIN'));
      await assert.rejects(ledger.withdraw('1.0.0'), (e) => isLockstepError(e, 'E_NOT_ADMIN'));
      await assert.rejects(ledger.markTest('1.0.0'), (e) => isLockstepError(e, 'E_NOT_ADMIN'));
      assert.equal(await fleet.releases.current('ch-clerk'), null);
      assert.equal((await fleet.events({ limit: 1000 })).length, before);
    });

    test('gate snapshot, heartbeat and test marks; host names with quotes and non-ASCII stay intact', async () => {
      const host = `Zentrale "Büro" O'Brien — 東京 🖥`;
      const who = { ...identity('ws-unicode'), hostName: host, osUser: `DOMÄNE\\Jürgen` };
      const { gate, ledger } = engineFor(fleet, who, '3.1.0', undefined, 'ch-gate');
      await ledger.release('3.0.0');
      let r = await gate.run();
      assert.deepEqual(r.decision, { type: 'ask-release', installed: '3.1.0', released: '3.0.0', canAnswer: true });
      r = await gate.answer('no');
      assert.deepEqual(r.decision, { type: 'test-workstation', installed: '3.1.0', released: '3.0.0' });
      assert.equal(r.testVersion, true);
      const row = await fleet.workstations.get('ws-unicode');
      assert.deepEqual(
        { host: row?.hostName, user: row?.osUser, installed: row?.installedVersion, ring: row?.ring },
        { host, user: `DOMÄNE\\Jürgen`, installed: '3.1.0', ring: 'test' },
      );
      const ledgerRow = await fleet.releases.find({ channel: 'ch-gate', versionKey: ledger.ref('3.1.0').versionKey });
      assert.equal(ledgerRow?.state, 'test');
      // Asked again? No: the mark is remembered.
      assert.equal((await gate.run()).decision.type, 'test-workstation');
      await assert.rejects(gate.answer('yes'), (e) => isLockstepError(e, 'E_NO_QUESTION'));
    });

    test('a malformed version written into the database is a coded error, not a guess', async () => {
      const { gate, ledger } = engineFor(fleet, identity('ws-corrupt'), '1.0.0', undefined, 'ch-corrupt');
      const rel = await ledger.release('1.0.0');
      await db.knex('lockstep_releases').where({ id: rel.id }).update({ version: 'one.two; drop' });
      await assert.rejects(gate.run(), (e) => isLockstepError(e, 'E_DB_CORRUPT') && /one\.two; drop/.test((e as Error).message));
      await db.knex('lockstep_releases').where({ id: rel.id }).update({ state: 'bogus', version: '1.0.0' });
      await assert.rejects(fleet.releases.current('ch-corrupt'), (e) => isLockstepError(e, 'E_DB_CORRUPT'));
    });

    test('stored timestamps read back as the same ISO instants on every dialect', async () => {
      const { ledger } = engineFor(fleet, identity('ws-time'), '1.0.0', undefined, 'ch-time');
      const t0 = Date.now();
      const r = await ledger.release('5.0.0');
      const at = Date.parse(r.releasedAt!);
      assert.ok(Math.abs(at - t0) < 60_000, `releasedAt ${r.releasedAt} is now`);
      assert.match(r.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    });
  });
}
