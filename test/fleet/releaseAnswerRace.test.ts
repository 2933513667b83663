/**
 * Two administrators answer "Release version I for all workstations?" with yes at the same moment, each on its own
 * database connection. One release, one pointer change; the one who comes second is told who released it and when, its
 * answer is an audit row of its own, and its gate goes on exactly as for the released version. Several rounds, so
 * the second answer lands at different points of the first (before the flip, on the lock, after the commit): on
 * PostgreSQL two connections in one process, and on SQLite and PostgreSQL two CLI processes (SQLite's writers are
 * processes: one process's connections would wait on each other).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { FleetStore } from '../../db/fleetStore';
import { isLockstepError } from '../../contract/errors';
import { backends, migratedDb } from '../helpers/backends';
import { engineFor, identity } from '../helpers/actors';
import { simWorkstation } from '../helpers/workstationSim';

const ROUNDS = 6;

interface GateJson {
  decisionType?: string;
  mayUseDatabase?: boolean;
  alreadyReleased?: { version: string; by: string; from: string; at: string; message: string };
  error?: { code: string };
}

for (const backend of backends().filter((b) => b.name !== 'mssql')) {
  describe(`the administrator who loses a simultaneous "yes", two processes (${backend.name})`, () => {
    test('is told who released it, the answer is audited, the gate goes on (lockstep gate --answer yes twice at once)', async () => {
      const { db, tdb, cleanup } = await migratedDb(backend);
      try {
        const fleet = new FleetStore(db);
        await engineFor(fleet, identity('seed'), '1.0.0').ledger.release('1.0.0');
        for (let round = 1; round <= 3; round++) {
          const version = `1.${round}.0`;
          const admins = ['proc-a', 'proc-b'].map((id) => ({ id, ws: simWorkstation({ id: `${id}-${round}`, dbUrl: tdb.configUrl, installed: version, admin: true }) }));
          for (const a of admins) assert.equal((await a.ws.json<GateJson>(['gate'])).body.decisionType, 'ask-release');
          const runs = await Promise.all(admins.map((a) => a.ws.json<GateJson>(['gate', '--answer', 'yes'])));
          assert.deepEqual(runs.map((r) => r.code), [0, 0], runs.map((r) => r.stdout + r.stderr).join('\n'));
          const lost = runs.filter((r) => r.body.alreadyReleased);
          assert.equal(lost.length, 1, runs.map((r) => r.stdout).join('\n'));
          const winnerId = `${admins[runs.findIndex((r) => !r.body.alreadyReleased)]!.id}-${round}`;
          const loserId = `${admins[runs.findIndex((r) => r.body.alreadyReleased)]!.id}-${round}`;
          const current = (await fleet.releases.current('stable'))!.release!;
          assert.equal(current.version, version);
          const told = lost[0]!.body.alreadyReleased!;
          assert.deepEqual([told.version, told.from, told.at], [version, winnerId, current.releasedAt]);
          assert.equal(lost[0]!.body.decisionType, runs.find((r) => !r.body.alreadyReleased)!.body.decisionType);
          assert.equal(lost[0]!.body.mayUseDatabase, true);
          const text = await admins[runs.findIndex((r) => r.body.alreadyReleased)]!.ws.cli(['gate']);
          assert.equal(text.code, 0, 'the loser starts normally afterwards');
          const events = (await fleet.events({ limit: 1000 })).filter((e) => e.version === version);
          assert.deepEqual(events.filter((e) => e.action === 'release').map((e) => e.workstationId), [winnerId]);
          assert.deepEqual(events.filter((e) => e.action === 'release-answer').map((e) => [e.outcome, e.workstationId]), [['already-released', loserId]]);
        }
      } finally {
        await cleanup();
      }
    });
  });
}

for (const backend of backends().filter((b) => b.name === 'postgres')) {
  describe(`the administrator who loses a simultaneous "yes", two connections (${backend.name})`, () => {
    test('is told who released the version and when, the answer is audited, and the gate goes on', async () => {
      const { db, tdb, cleanup } = await migratedDb(backend);
      const handles = [await tdb.open(), await tdb.open()];
      try {
        const fleet = new FleetStore(db);
        await engineFor(fleet, identity('seed'), '1.0.0').ledger.release('1.0.0');
        for (let round = 1; round <= ROUNDS; round++) {
          const version = `1.${round}.0`;
          const admins = handles.map((h, i) => ({ id: `admin-${i + 1}`, ...engineFor(new FleetStore(h), identity(`admin-${i + 1}`), version) }));
          for (const a of admins) assert.equal((await a.gate.run()).decision.type, 'ask-release');
          const revisionBefore = (await fleet.releases.current('stable'))!.revision;

          const results = await Promise.all(admins.map((a) => a.gate.answer('yes')));

          const lost = results.filter((r) => r.alreadyReleased);
          assert.equal(lost.length, 1, `round ${round}: exactly one answer came second`);
          const winner = admins[results.findIndex((r) => !r.alreadyReleased)]!;
          const loser = admins[results.findIndex((r) => r.alreadyReleased)]!;
          const current = await fleet.releases.current('stable');
          assert.equal(current?.release?.version, version);
          assert.equal(current?.revision, revisionBefore + 1, 'one pointer change');
          const told = lost[0]!.alreadyReleased!;
          assert.deepEqual(
            { version: told.version, by: told.by, from: told.from, at: told.at },
            { version, by: 'admin', from: winner.id, at: current!.release!.releasedAt },
          );
          assert.ok(told.at && !Number.isNaN(Date.parse(told.at)));
          assert.ok(told.message.includes(version) && told.message.includes(winner.id) && told.message.includes(told.at), told.message);
          // The gate goes on as for the released version: the same decision as the winner's, the database usable.
          assert.deepEqual(lost[0]!.decision, results.find((r) => !r.alreadyReleased)!.decision);
          assert.equal(lost[0]!.mayUseDatabase, true);

          const events = (await fleet.events({ limit: 1000 })).filter((e) => e.version === version);
          assert.deepEqual(
            events.filter((e) => e.action === 'release').map((e) => [e.outcome, e.workstationId]),
            [['ok', winner.id]],
            'one release row, by the winner',
          );
          const answers = events.filter((e) => e.action === 'release-answer');
          assert.deepEqual(
            answers.map((e) => [e.outcome, e.workstationId, e.actor]),
            [['already-released', loser.id, 'admin']],
            "the loser's answer is recorded",
          );
          assert.equal(answers[0]!.detail?.['releasedFrom'], winner.id);
          assert.equal(answers[0]!.detail?.['releasedAt'], told.at);
        }
      } finally {
        await Promise.all(handles.map((h) => h.close()));
        await cleanup();
      }
    });

    test('a "yes" that loses to a release of another version still has to decide again (no audit row of an answer)', async () => {
      const { db, tdb, cleanup } = await migratedDb(backend);
      const other = await tdb.open();
      try {
        const fleet = new FleetStore(db);
        await engineFor(fleet, identity('seed'), '1.0.0').ledger.release('1.0.0');
        const a = engineFor(fleet, identity('ws-a'), '1.1.0');
        const b = engineFor(new FleetStore(other), identity('ws-b'), '1.2.0');
        await Promise.all([a.gate.run(), b.gate.run()]);
        const outcomes = await Promise.allSettled([a.gate.answer('yes'), b.gate.answer('yes')]);
        assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 1);
        const rejected = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected')!;
        assert.ok(isLockstepError(rejected.reason, 'E_RELEASE_CONFLICT'), String(rejected.reason));
        assert.equal((await fleet.events({ action: 'release-answer' })).length, 0);
      } finally {
        await other.close();
        await cleanup();
      }
    });
  });
}
