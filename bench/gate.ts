/**
 * bench/gate — the start-up gate with 10,000 workstation rows and 1,000 releases, on SQLite and PostgreSQL. Prints
 * p50/p95 of what the user waits for — a gate run: one read and the decision; the heartbeat is written afterwards in
 * the background — as a ratio to a bare `SELECT 1` round trip on the same connection, measured in the same run.
 * Goal: p95 within 3× that floor. Each timed run's heartbeat is awaited outside the timing (gate.settled()), so no
 * run queues behind the previous one's write; that write's time (run + settled) is printed beside it, with a bare
 * one-row UPDATE round trip as its floor.
 *
 *   node build/bench/gate.js            (PostgreSQL too when LOCKSTEP_TEST_PG_URL is set)
 */
import { FleetStore } from '../db/fleetStore';
import { Db } from '../db/connection';
import { nowIso } from '../db/rows';
import { FixedVersionSource } from '../kernel/installation';
import { Ledger } from '../engine/ledger';
import { MemoryLogger } from '../kernel/log';
import { StartupGate } from '../engine/startupGate';
import { parseVersion, versionSortKey } from '../kernel/version';
import { backends, migratedDb } from '../test/helpers/backends';
import { percentile, sample, table } from './stats';

const WORKSTATIONS = 10_000;
const RELEASES = 1_000;
const RUNS = 2_000;

async function seed(db: Db): Promise<void> {
  const now = nowIso();
  const releases = Array.from({ length: RELEASES }, (_, i) => {
    const version = `7.${Math.floor(i / 100)}.${i % 100}.${i}`;
    return { channel: 'stable', version, version_key: versionSortKey(version), state: 'released', created_by: 'bench', created_from: 'bench', created_at: now, released_by: 'bench', released_from: 'bench', released_at: now };
  });
  await db.knex.batchInsert('lockstep_releases', releases, 200);
  const last = (await db.knex('lockstep_releases').max('id as id').first()) as { id: number };
  await db.knex('lockstep_current').insert({ channel: 'stable', release_id: last.id, revision: RELEASES });
  const ws = Array.from({ length: WORKSTATIONS }, (_, i) => ({
    workstation_id: `ws-${i}`, host_name: `PC-${i}`, os_user: `user${i}`, installed_version: '7.9.99.999', ring: 'regular', first_seen: now, last_start: now,
  }));
  await db.knex.batchInsert('lockstep_workstations', ws, 500);
}

async function main(): Promise<void> {
  const rows: Array<Record<string, string | number>> = [];
  for (const backend of backends().filter((b) => b.name !== 'mssql')) {
    const { db, cleanup } = await migratedDb(backend);
    try {
      await seed(db);
      const fleet = new FleetStore(db);
      const log = new MemoryLogger();
      const who = { workstationId: 'ws-4242', hostName: 'PC-4242', osUser: 'user4242', isAdmin: false };
      const ledger = new Ledger(fleet, who, log, { channel: 'stable' });
      const gate = new StartupGate(fleet, who, new FixedVersionSource(parseVersion('7.9.99.999')), ledger, log, { channel: 'stable', policy: 'block', ring: 'regular' });
      const first = await gate.run();
      if (first.decision.type !== 'proceed') throw new Error(`unexpected decision ${first.decision.type}`);
      // Warm both paths, then interleave so that both see the same machine state.
      await sample(200, () => db.knex.raw('select 1'));
      await sample(200, () => gate.run());
      await db.knex.schema.createTable('bench_write_floor', (t) => {
        t.integer('id').primary();
        t.string('v', 64);
      });
      await db.knex('bench_write_floor').insert({ id: 1, v: '' });
      const floor: number[] = [];
      const writeFloor: number[] = [];
      const gateMs: number[] = [];
      const withHeartbeatMs: number[] = [];
      for (let i = 0; i < RUNS / 100; i++) {
        floor.push(...(await sample(100, () => db.knex.raw('select 1'))));
        writeFloor.push(...(await sample(100, () => db.knex.raw('update bench_write_floor set v = ? where id = ?', [String(i), 1]))));
        for (let j = 0; j < 100; j++) {
          const t = process.hrtime.bigint();
          await gate.run();
          gateMs.push(Number(process.hrtime.bigint() - t) / 1e6);
          await gate.settled();
          withHeartbeatMs.push(Number(process.hrtime.bigint() - t) / 1e6);
        }
      }
      for (const xs of [floor, writeFloor, gateMs, withHeartbeatMs]) xs.sort((a, b) => a - b);
      const f50 = percentile(floor, 50);
      const f95 = percentile(floor, 95);
      const g50 = percentile(gateMs, 50);
      const g95 = percentile(gateMs, 95);
      rows.push({
        backend: backend.name,
        'SELECT 1 p50 ms': f50,
        'SELECT 1 p95 ms': f95,
        'gate p50 ms': g50,
        'gate p95 ms': g95,
        'p50 ratio': g50 / f50,
        'p95 ratio (goal ≤ 3)': g95 / f95,
        goal: g95 / f95 <= 3 ? 'MET' : 'NOT MET',
        'run + heartbeat p95 ms': percentile(withHeartbeatMs, 95),
        'UPDATE p95 ms': percentile(writeFloor, 95),
      });
    } finally {
      await cleanup();
    }
  }
  console.log(`bench/gate: ${WORKSTATIONS} workstations, ${RELEASES} releases, ${RUNS} gate runs per backend (what the user waits for: one read + the decision; the heartbeat follows in the background)\n`);
  console.log(table(rows));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
