/**
 * "Warn for N days, then block", through the CLI on SQLite and PostgreSQL: the release time is the database server's
 * released_at; the test moves it back (a fake clock for the server: the release happened a day or three ago) instead of
 * waiting days. Inside the grace period the gate warns with the deadline and lets the app on; after it, it blocks.
 * `lockstep workstations` shows who is inside the grace period and who is blocked.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FleetStore } from '../../db/fleetStore';
import { serverNowPlus } from '../../db/serverTime';
import { engineFor, identity } from '../helpers/actors';
import { backends, migratedDb } from '../helpers/backends';
import { simWorkstation } from '../helpers/workstationSim';

const DAY = 24 * 3600_000;

interface GateJson {
  mayUseDatabase: boolean;
  decision: { type: string; policy?: string; deadline?: string | null; msLeft?: number | null };
}

for (const backend of backends().filter((b) => b.name !== 'mssql')) {
  describe(`a grace period before blocking (${backend.name})`, () => {
    test('warn with the deadline inside the grace period, block after it; the registry shows both', async () => {
      const { db, tdb, cleanup } = await migratedDb(backend);
      try {
        const fleet = new FleetStore(db);
        const { ledger } = engineFor(fleet, identity('admin-pc'), '1.1.0');
        await ledger.release('1.0.0');
        await ledger.release('1.1.0');
        const released = async (agoMs: number) => {
          await fleet.db.knex('lockstep_releases').where({ version: '1.1.0' }).update({ released_at: serverNowPlus(fleet.db.knex, -agoMs) });
          return (await fleet.releases.current('stable'))!.release!.releasedAt!;
        };
        const extra = { outdatedPolicy: { warnDays: 2 } };
        const late = simWorkstation({ id: 'late-pc', dbUrl: tdb.configUrl, installed: '1.0.0', extra });
        const admin = simWorkstation({ id: 'admin-pc', dbUrl: tdb.configUrl, installed: '1.1.0', admin: true, extra });
        assert.equal((await admin.cli(['gate'])).code, 0);

        const at = await released(DAY);
        const warned = await late.json<GateJson>(['gate']);
        assert.equal(warned.code, 0, warned.stdout + warned.stderr);
        assert.deepEqual([warned.body.decision.type, warned.body.decision.policy, warned.body.decision.deadline, warned.body.mayUseDatabase], ['outdated', 'warn', new Date(Date.parse(at) + 2 * DAY).toISOString(), true]);
        assert.ok(warned.body.decision.msLeft! > DAY - 60_000 && warned.body.decision.msLeft! <= DAY, `about a day left: ${warned.body.decision.msLeft}`);
        const text = await late.cli(['status']);
        assert.match(text.stdout, /must be updated by /);
        let list = await admin.json<{ workstations: Array<{ workstationId: string; grace: { state: string; deadline: string | null } }> }>(['workstations']);
        const rows = () => Object.fromEntries(list.body.workstations.map((w) => [w.workstationId, w.grace.state]));
        assert.deepEqual(rows(), { 'admin-pc': 'current', 'late-pc': 'in-grace' });

        await released(3 * DAY);
        const blocked = await late.json<GateJson>(['gate']);
        assert.deepEqual([blocked.code, blocked.body.decision.policy, blocked.body.mayUseDatabase], [3, 'block', false]);
        list = await admin.json(['workstations']);
        assert.deepEqual(rows(), { 'admin-pc': 'current', 'late-pc': 'blocked' });
      } finally {
        await cleanup();
      }
    });
  });
}
