/**
 * Real administrator processes releasing a schema-changing version on one shared database (SQLite and PostgreSQL):
 * one killed with SIGKILL in the middle of a migration leaves the database unchanged and its lease runs out, after
 * which another administrator releases; two releasing at once run the migrations once.
 */
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { FleetStore } from '../../db/fleetStore';
import { backends, migratedDb, tempDir } from '../helpers/backends';
import { identity } from '../helpers/actors';
import { dumpDatabase, schemaEngine, until } from '../helpers/clientSchema';
import { MemoryLogger } from '../../kernel/log';

const RELEASER = path.join(__dirname, '..', 'helpers', 'schemaReleaser.js');

interface Outcome { ok: boolean; code?: string; migrations?: string[] }

function releaser(args: Record<string, unknown>): { child: ChildProcess; outcome: Promise<Outcome> } {
  const child = spawn(process.execPath, [RELEASER, JSON.stringify(args)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const outcome = new Promise<Outcome>((resolve, reject) =>
    child.on('close', (code, signal) => (code === 0 ? resolve(JSON.parse(out.trim()) as Outcome) : reject(new Error(`releaser ended ${code ?? signal}: ${err}`)))),
  );
  return { child, outcome };
}


function runs(dir: string): string[] {
  const f = path.join(dir, 'runs');
  return fs.existsSync(f) ? fs.readFileSync(f, 'utf8').trim().split('\n') : [];
}

for (const backend of backends().filter((b) => b.name !== 'mssql')) {
  describe(`schema-changing releases by real processes on ${backend.name}`, () => {
    test('SIGKILL in the middle of a migration: database unchanged; another administrator releases once the lease expired', async () => {
      const { db, tdb, cleanup } = await migratedDb(backend);
      const dir = tempDir('lockstep-schema-kill-');
      try {
        const fleet = new FleetStore(db);
        await schemaEngine(fleet, identity('ws-admin'), '1.1.0').ledger.release('1.1.0');
        await db.knex('app_customers').insert([{ name: 'Ada', email: 'ada@x' }, { name: 'Brecht', email: null }]);
        const before = await dumpDatabase(db);
        const { child, outcome } = releaser({ url: tdb.url, workstation: 'ws-killed', version: '2.0.0', dir, leaseMs: 1500, waitMs: 1000, block: true });
        outcome.catch(() => undefined);
        await until('the migration to start', () => fs.existsSync(path.join(dir, 'started')));
        child.kill('SIGKILL');
        await new Promise((r) => child.once('close', r));
        assert.deepEqual(await dumpDatabase(db), before, 'nothing of the half-run migration or the release remains');
        assert.equal((await fleet.releases.current('stable'))?.release?.version, '1.1.0');
        const held = await fleet.schema.leaseHolder();
        assert.ok(held?.holder.startsWith('admin@ws-killed#'), 'the dead process still holds the lease until it expires');
        // Another administrator (waiting for the lease as long as it takes to expire) releases 2.0 and migrates.
        const log = new MemoryLogger();
        const other = schemaEngine(fleet, identity('ws-other'), '2.0.0', { settings: { waitMs: 20_000 }, log });
        const r = await other.ledger.release('2.0.0');
        assert.deepEqual(r.schemaMove?.migrations, ['003-orders']);
        assert.equal((await fleet.schema.level())?.level, 3);
        assert.ok(((await fleet.schema.leaseHolder()) === null));
        assert.deepEqual(await db.knex('app_customers').select('name', 'email').orderBy('id'), [{ name: 'Ada', email: 'ada@x' }, { name: 'Brecht', email: null }]);
        assert.ok(log.entries.some((e) => e.event === 'schema.lease-wait'), 'it had to wait for the dead holder');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
        await cleanup();
      }
    });

    test('two administrators release 2.0 at once: the migrations run once, the other learns it is already released', async () => {
      const { db, tdb, cleanup } = await migratedDb(backend);
      const dir = tempDir('lockstep-schema-two-');
      try {
        const fleet = new FleetStore(db);
        await schemaEngine(fleet, identity('ws-admin'), '1.1.0').ledger.release('1.1.0');
        const first = releaser({ url: tdb.url, workstation: 'ws-a', version: '2.0.0', dir, leaseMs: 60_000, waitMs: 60_000, block: true });
        await until('A to be mid-migration', () => fs.existsSync(path.join(dir, 'started')));
        const second = releaser({ url: tdb.url, workstation: 'ws-b', version: '2.0.0', dir, leaseMs: 60_000, waitMs: 60_000, block: false });
        await until('B to wait for the lease', () => fs.existsSync(path.join(dir, 'log-ws-b')) && fs.readFileSync(path.join(dir, 'log-ws-b'), 'utf8').includes('schema.lease-wait'));
        fs.writeFileSync(path.join(dir, 'go'), '');
        const outcomes = await Promise.all([first.outcome, second.outcome]);
        assert.deepEqual(outcomes[0], { ok: true, migrations: ['003-orders'] });
        assert.deepEqual([outcomes[1]!.ok, outcomes[1]!.code], [false, 'E_ALREADY_RELEASED']);
        assert.deepEqual(runs(dir), ['ws-a 003-orders'], 'the migration ran once');
        assert.deepEqual((await fleet.schema.history()).map((h) => [h.fromLevel, h.toLevel]), [[2, 3], [0, 2]]);
        assert.equal((await fleet.events({ action: 'release' })).filter((e) => e.version === '2.0.0').length, 1);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
        await cleanup();
      }
    });
  });
}
