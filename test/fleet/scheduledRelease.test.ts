/**
 * Release at a chosen time, on SQLite and PostgreSQL with real CLI processes: the release row goes into the ledger at
 * once, the pointer does not move before the time — not even for a workstation whose clock runs a day fast, since
 * "due" is judged by the database server's clock — a running workstation's watcher hears of it after the time, and
 * when ten workstations start at once after the time the pointer moves exactly once. Cancel works only before the
 * time and is audited.
 */
import assert from 'node:assert/strict';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { FleetStore } from '../../db/fleetStore';
import { serverNowPlus } from '../../db/serverTime';
import { ReleaseWatcher } from '../../engine/fleet/releaseWatcher';
import { MemoryLogger } from '../../kernel/log';
import { engineFor, identity } from '../helpers/actors';
import { backends, migratedDb } from '../helpers/backends';
import { simWorkstation } from '../helpers/workstationSim';

const SKEWED = path.join(__dirname, '../helpers/skewedClock.js');
const ONE_DAY_MS = 24 * 3600_000;

interface GateJson {
  decisionType: string;
  released: string | null;
  mayUseDatabase: boolean;
  decision: { reason?: { code: string } | null };
  scheduled?: { version: string; at: string } | null;
}

/** Waits (bounded) until the database server's clock has passed `iso`. */
async function untilServerPasses(fleet: FleetStore, iso: string, limitMs = 60_000): Promise<void> {
  const started = Date.now();
  while (Date.parse(await fleet.schedules.serverNow()) <= Date.parse(iso)) {
    assert.ok(Date.now() - started < limitMs, `the server clock did not pass ${iso}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Moves the pending schedule's time to 1.5 s after the server's now; returns the new time. */
async function bringForward(fleet: FleetStore): Promise<string> {
  await fleet.db.knex('lockstep_release_schedules').where({ state: 'pending' }).update({ due_at: serverNowPlus(fleet.db.knex, 1_500) });
  return (await fleet.schedules.pending('stable'))!.dueAt;
}

async function pointer(fleet: FleetStore): Promise<{ revision: number; version: string | null }> {
  const c = await fleet.releases.current('stable');
  return { revision: c?.revision ?? 0, version: c?.release?.version ?? null };
}

for (const backend of backends().filter((b) => b.name !== 'mssql')) {
  describe(`a release at a chosen time (${backend.name})`, () => {
    test('not followed before the time (not even by a clock a day fast), noticed by a running workstation after it, moved exactly once when ten workstations start at once', async () => {
      const { db, tdb, cleanup } = await migratedDb(backend);
      try {
        const fleet = new FleetStore(db);
        await engineFor(fleet, identity('seed'), '1.0.0').ledger.release('1.0.0');
        const before = await pointer(fleet);
        const admin = simWorkstation({ id: 'admin-pc', dbUrl: tdb.configUrl, installed: '1.1.0', admin: true });
        const at = new Date(Date.parse(await fleet.schedules.serverNow()) + 3600_000).toISOString();
        const scheduled = await admin.json<{ scheduled: { version: string; dueAt: string; state: string } }>(['release', '1.1.0', '--at', at]);
        assert.equal(scheduled.code, 0, scheduled.stdout + scheduled.stderr);
        assert.deepEqual([scheduled.body.scheduled.version, scheduled.body.scheduled.dueAt, scheduled.body.scheduled.state], ['1.1.0', at, 'pending']);

        // Everywhere the release shows, it shows as scheduled.
        const listed = await admin.json<{ current: string; releases: Array<{ version: string; scheduledFor: { at: string; by: string } | null }> }>(['releases']);
        assert.equal(listed.body.current, '1.0.0');
        assert.equal(listed.body.releases.find((r) => r.version === '1.1.0')?.scheduledFor?.at, at);
        const askGate = await admin.json<GateJson & { decision: { scheduled?: { at: string } } }>(['gate']);
        assert.deepEqual([askGate.body.decisionType, askGate.body.decision.scheduled?.at], ['ask-release', at]);

        const ids = Array.from({ length: 10 }, (_, i) => `ws-${i}`);
        const stations = ids.map((id) => simWorkstation({ id, dbUrl: tdb.configUrl, installed: '1.0.0' }));
        const fast = simWorkstation({ id: 'fast-clock', dbUrl: tdb.configUrl, installed: '1.0.0' });
        const fastEnv = { ...process.env, NODE_OPTIONS: `--require ${SKEWED}`, LOCKSTEP_TEST_CLOCK_SKEW_MS: String(ONE_DAY_MS) };
        const early = await fast.cli(['gate', '--json'], { env: fastEnv });
        const earlyBody = JSON.parse(early.stdout) as GateJson;
        assert.deepEqual([early.code, earlyBody.decisionType, earlyBody.released, earlyBody.scheduled?.at], [0, 'proceed', '1.0.0', at], early.stderr);
        assert.deepEqual(await pointer(fleet), before, 'a workstation a day fast did not move the pointer before the time');
        const status = await stations[0]!.json<{ scheduled: { version: string; at: string } | null; decision: string }>(['status']);
        assert.deepEqual([status.body.decision, status.body.scheduled?.version, status.body.scheduled?.at], ['proceed', '1.1.0', at]);

        // A running workstation: its watcher reads without writing; nothing before the time, the notice after it.
        const clerk = engineFor(fleet, identity('running-clerk', false), '1.0.0');
        const watcher = new ReleaseWatcher(() => clerk.gate.evaluate(), new MemoryLogger(), { policy: 'block', checkIntervalMs: 60_000 });
        assert.equal(await watcher.check(), null);
        // The hour passes: the stored time is brought forward to 1.5 s from the server's now (a clock jump, as a
        // fake clock would do), then the server's own clock passes it.
        const due = await bringForward(fleet);
        await untilServerPasses(fleet, due);
        assert.deepEqual(await watcher.check(), { type: 'outdated', installed: '1.0.0', released: '1.1.0', policy: 'block', reason: null });
        assert.deepEqual(await pointer(fleet), before, 'a read-only evaluation moves nothing');

        // Ten workstations start at the same moment after the time.
        const runs = await Promise.all(stations.map((s) => s.json<GateJson>(['gate'])));
        for (const r of runs) {
          assert.deepEqual([r.body.decisionType, r.body.released, r.body.decision.reason?.code], ['outdated', '1.1.0', 'E_UPGRADE_UNAVAILABLE'], r.stdout + r.stderr);
        }
        assert.deepEqual(await pointer(fleet), { revision: before.revision + 1, version: '1.1.0' }, 'exactly one pointer move');
        const releaseEvents = (await fleet.events({ limit: 1000 })).filter((e) => e.action === 'release' && e.version === '1.1.0');
        assert.equal(releaseEvents.length, 1, JSON.stringify(releaseEvents));
        assert.deepEqual([releaseEvents[0]!.outcome, releaseEvents[0]!.detail?.['scheduled'], releaseEvents[0]!.detail?.['scheduledBy']], ['ok', true, os.userInfo().username]);
        assert.ok(ids.includes(releaseEvents[0]!.workstationId), 'moved by one of the ten');
        const schedules = await fleet.schedules.list('stable');
        assert.deepEqual(schedules.map((s) => s.state), ['applied']);
        const released = (await fleet.releases.current('stable'))!.release!;
        assert.equal(released.releasedFrom, 'admin-pc', 'released in the name of the administrator who scheduled it');
        assert.ok(Date.parse(released.releasedAt!) >= Date.parse(due), 'stamped with the server time of the move');
        const after = await fast.cli(['gate', '--json'], { env: fastEnv });
        assert.equal((JSON.parse(after.stdout) as GateJson).released, '1.1.0');
      } finally {
        await cleanup();
      }
    });

    test('cancel before the time (audited, administrators only); after the time it is released and only a withdrawal helps', async () => {
      const { db, tdb, cleanup } = await migratedDb(backend);
      try {
        const fleet = new FleetStore(db);
        const { ledger } = engineFor(fleet, identity('admin-pc'), '1.1.0');
        await ledger.release('1.0.0');
        const admin = simWorkstation({ id: 'admin-pc', dbUrl: tdb.configUrl, installed: '1.1.0', admin: true });
        const clerk = simWorkstation({ id: 'clerk-pc', dbUrl: tdb.configUrl, installed: '1.0.0' });
        const later = new Date(Date.parse(await fleet.schedules.serverNow()) + 3600_000).toISOString();
        assert.equal((await admin.cli(['release', '1.1.0', '--at', later])).code, 0);
        const second = await admin.json<{ error: { code: string } }>(['release', '1.2.0', '--at', later]);
        assert.equal(second.body.error.code, 'E_INVALID_STATE', 'one pending schedule per channel');
        const denied = await clerk.json<{ error: { code: string } }>(['release', '--cancel', '1.1.0']);
        assert.equal(denied.body.error.code, 'E_NOT_ADMIN');
        const cancelled = await admin.json<{ cancelled: { state: string; version: string } }>(['release', '--cancel', '1.1.0']);
        assert.deepEqual([cancelled.code, cancelled.body.cancelled.state], [0, 'cancelled']);
        assert.equal((await fleet.schedules.pending('stable')), null);
        const events = (await fleet.events({ limit: 100 })).map((e) => [e.action, e.version, e.workstationId]);
        assert.deepEqual(events.slice(0, 2), [['cancel-release', '1.1.0', 'admin-pc'], ['schedule-release', '1.1.0', 'admin-pc']]);
        const past = await admin.json<{ error: { code: string } }>(['release', '1.1.0', '--at', new Date(Date.parse(await fleet.schedules.serverNow()) - 60_000).toISOString()]);
        assert.equal(past.body.error.code, 'E_USAGE', 'a time in the past (server clock) is refused');

        const soon = new Date(Date.parse(await fleet.schedules.serverNow()) + 1_500).toISOString();
        await ledger.schedule('1.1.0', soon);
        await untilServerPasses(fleet, soon);
        const tooLate = await admin.json<{ error: { code: string } }>(['release', '--cancel', '1.1.0']);
        assert.equal(tooLate.body.error.code, 'E_INVALID_STATE');
        assert.equal((await clerk.json<GateJson>(['gate'])).body.released, '1.1.0');
      } finally {
        await cleanup();
      }
    });

    test('a release made meanwhile supersedes the schedule: the pointer never moves back to it', async () => {
      const { db, cleanup } = await migratedDb(backend);
      try {
        const fleet = new FleetStore(db);
        const { ledger } = engineFor(fleet, identity('admin-pc'), '1.2.0');
        await ledger.release('1.0.0');
        const soon = new Date(Date.parse(await fleet.schedules.serverNow()) + 1_500).toISOString();
        await ledger.schedule('1.1.0', soon);
        await ledger.release('1.2.0');
        await untilServerPasses(fleet, soon);
        const { gate } = engineFor(fleet, identity('clerk-pc', false), '1.2.0');
        assert.equal((await gate.run()).decision.type, 'proceed');
        assert.equal((await pointer(fleet)).version, '1.2.0');
        assert.deepEqual((await fleet.schedules.list('stable')).map((s) => s.state), ['superseded']);
      } finally {
        await cleanup();
      }
    });
  });
}
