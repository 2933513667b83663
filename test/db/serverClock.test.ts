/**
 * Shared times come from the database server, never from a workstation's clock: a workstation two days fast that dies
 * mid-transfer frees its slot after the normal lease time and leaves no future times in the registry or the audit;
 * a lease row written with an expiry in 2099 blocks for at most the lease time; stored catalogs and manifests over
 * their caps never reach the engine. On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { FleetStore } from '../../db/fleetStore';
import { LeaseStore } from '../../db/leaseStore';
import { PackageStore } from '../../db/packageStore';
import { toIso } from '../../db/rows';
import { MAX_CATALOG_CHARS, MAX_MANIFEST_CHARS, OVERSIZED_MANIFEST } from '../../db/textCap';
import { isLockstepError } from '../../contract/errors';
import { PACKAGE_POOL } from '../../engine/fleet/transferSlots';
import { verifyStoredRelease } from '../../engine/fleet/verify';
import { engineFor, identity } from '../helpers/actors';
import { backends, migratedDb } from '../helpers/backends';

const TWO_DAYS_MS = 2 * 24 * 3600_000;
const LEASE_TTL_MS = 2_000;

/** Starts a workstation process whose clock runs `skewMs` ahead; resolves once it holds a slot, with its own clock. */
function startSkewedHolder(url: string, workstationId: string, skewMs: number): Promise<{ kill(): Promise<void>; clock: number }> {
  const child = spawn(process.execPath, ['--require', path.join(__dirname, '../helpers/skewedClock.js'), path.join(__dirname, '../helpers/leaseHolder.js'), url, workstationId, String(LEASE_TTL_MS)], {
    env: { ...process.env, LOCKSTEP_TEST_CLOCK_SKEW_MS: String(skewMs) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the workstation process did not take a slot within 30 s: ${stderr}`));
    }, 30_000);
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
      if (!out.includes('\n')) return;
      clearTimeout(timer);
      const { clock } = JSON.parse(out.split('\n')[0]!) as { clock: number };
      resolve({ clock, kill: async () => { child.kill('SIGKILL'); await exited; } });
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (!out.includes('\n')) reject(new Error(`the workstation process ended (${code}) without a slot: ${stderr}`));
    });
  });
}

/** Tries for the slot every 100 ms; resolves with how long it took, or null after `limitMs`. */
async function waitForSlot(leases: LeaseStore, holder: string, limitMs: number): Promise<number | null> {
  const started = Date.now();
  for (let i = 0; i < Math.ceil(limitMs / 100); i++) {
    if (await leases.tryAcquire(PACKAGE_POOL, 1, holder, LEASE_TTL_MS)) return Date.now() - started;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return null;
}

async function expiresAt(fleet: FleetStore): Promise<number> {
  const row: { expires_at: Date | string } = await fleet.db.knex('lockstep_transfer_leases').where({ pool: PACKAGE_POOL, slot: 0 }).first('expires_at');
  return Date.parse(toIso(row.expires_at)!);
}

for (const backend of backends().filter((b) => b.name !== 'mssql')) {
  describe(`the database server's clock (${backend.name})`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    after(async () => {
      for (const c of cleanups.reverse()) await c();
    });

    test('a workstation two days fast dies holding the only slot: another gets it after the lease time; registry and audit show server time', async () => {
      const { db, tdb, cleanup } = await migratedDb(backend);
      cleanups.push(cleanup);
      const fleet = new FleetStore(db);
      const leases = new LeaseStore(db);
      const before = Date.now();
      const holder = await startSkewedHolder(tdb.url, 'fast-ws', TWO_DAYS_MS);
      const tookAt = Date.now();
      assert.ok(holder.clock - tookAt > TWO_DAYS_MS - 60_000, 'the process really ran two days fast');
      const expiry = await expiresAt(fleet);
      assert.ok(expiry <= tookAt + LEASE_TTL_MS + 1_000 && expiry >= before, `the lease expires one lease time from now on the server (${new Date(expiry).toISOString()})`);
      await holder.kill(); // dies mid-transfer

      assert.equal(await leases.tryAcquire(PACKAGE_POOL, 1, 'other-ws', LEASE_TTL_MS), null, 'the dead holder still has its lease time');
      const waited = await waitForSlot(leases, 'other-ws', 5 * LEASE_TTL_MS);
      assert.ok(waited !== null && waited <= LEASE_TTL_MS + 500, `another workstation gets the slot after the lease time (waited ${waited} ms)`);

      const after = Date.now();
      const ws = (await fleet.workstations.get('fast-ws'))!;
      for (const [name, at] of [['first seen', ws.firstSeen], ['last start', ws.lastStart]] as const) {
        const t = Date.parse(at);
        assert.ok(t >= before - 2_000 && t <= after + 2_000, `${name} is server time, not the future: ${at}`);
      }
      const [event] = await fleet.events({ action: 'check' });
      assert.equal(event?.workstationId, 'fast-ws');
      assert.ok(Date.parse(event!.at) <= after + 2_000, `the audit row is server time: ${event!.at}`);
    });

    test('a lease row written with an expiry in 2099 blocks the slot for at most the lease time', async () => {
      const { db, cleanup } = await migratedDb(backend);
      cleanups.push(cleanup);
      const fleet = new FleetStore(db);
      const leases = new LeaseStore(db);
      await db.knex('lockstep_transfer_leases').insert({ pool: PACKAGE_POOL, slot: 0, holder: 'hostile', token: 'x', acquired_at: '2099-01-01T00:00:00.000Z', expires_at: '2099-01-01T00:00:00.000Z' });
      const seen = Date.now();
      assert.equal(await leases.tryAcquire(PACKAGE_POOL, 1, 'honest', LEASE_TTL_MS), null);
      assert.ok((await expiresAt(fleet)) <= Date.now() + LEASE_TTL_MS + 1_000, 'the first reader cut the lease down to the lease time');
      const waited = await waitForSlot(leases, 'honest', 5 * LEASE_TTL_MS);
      assert.ok(waited !== null && Date.now() - seen <= LEASE_TTL_MS + 1_000, `the slot is free one lease time after the row was first seen (waited ${waited} ms)`);
      assert.deepEqual((await leases.active(PACKAGE_POOL)).map((a) => a.holder), ['honest']);
    });

    test('a stored catalog over 4 Mi characters and a manifest over 1 Mi are never handed to the engine', async () => {
      const { db, cleanup } = await migratedDb(backend);
      cleanups.push(cleanup);
      const fleet = new FleetStore(db);
      const admin = engineFor(fleet, identity('admin'), '1.0.0');
      await admin.ledger.release('1.0.0');
      await engineFor(fleet, identity('admin'), '1.1.0').ledger.release('1.1.0');
      const [r1, r2] = await fleet.releases.list('stable');
      const pkg = { file_name: 'p.tar.gz', size: 1, sha512: 's', chunk_size: 1, chunk_count: 1, store: 'database', state: 'complete', started_by: 'a', started_at: '2026-01-01T00:00:00.000Z' };
      await db.knex('lockstep_release_packages').insert({ release_id: r1!.id, ...pkg, catalog: '{"small":true}' });
      await db.knex('lockstep_release_packages').insert({ release_id: r2!.id, ...pkg, catalog: 'x'.repeat(MAX_CATALOG_CHARS + 1) });
      const skipped: Array<[number, number]> = [];
      assert.deepEqual(await new PackageStore(db).catalogs((id, chars) => skipped.push([id, chars])), ['{"small":true}']);
      assert.deepEqual(skipped, [[r2!.id, MAX_CATALOG_CHARS + 1]]);

      await db.knex('lockstep_releases').where({ id: r2!.id }).update({ manifest: `{"pad":"${'y'.repeat(MAX_MANIFEST_CHARS)}"}`, manifest_signature: 'sig' });
      const current = (await fleet.releases.current('stable'))!.release!;
      assert.equal(current.manifest, OVERSIZED_MANIFEST);
      const snapshot = await fleet.workstations.gateSnapshot('stable', 'ws-1', current.versionKey);
      assert.equal(snapshot.current?.release?.manifest, OVERSIZED_MANIFEST);
      assert.throws(() => verifyStoredRelease(current, [], 'linux'), (e) => isLockstepError(e, 'E_SIGNATURE') && /over 1048576 characters/.test(e.message));
      // Within the cap the text arrives whole.
      await db.knex('lockstep_releases').where({ id: r2!.id }).update({ manifest: 'z'.repeat(MAX_MANIFEST_CHARS) });
      assert.equal((await fleet.releases.current('stable'))!.release!.manifest!.length, MAX_MANIFEST_CHARS);
    });
  });
}
