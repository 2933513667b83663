/**
 * The start-up gate decides on one read and writes the heartbeat afterwards, without making the user wait. What a
 * crash right after the decision loses is exactly that start's heartbeat: a real workstation process that kills itself
 * (SIGKILL) the moment it has decided got the right decision, and the registry keeps what the previous start wrote —
 * no row at all after a first start — until the next start writes its row. A normal exit waits for the heartbeat.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { FleetStore } from '../../db/fleetStore';
import { backends, migratedDb } from '../helpers/backends';
import { engineFor, identity } from '../helpers/actors';

const STARTER = path.join(__dirname, '../helpers/gateStarter.js');

/** One workstation start in its own process: the decision it printed and how the process ended. */
function start(url: string, workstationId: string, installed: string, osUser: string, mode: 'kill-after-decision' | 'normal'): Promise<{ decision: { type: string; released: string | null }; signal: NodeJS.Signals | null; code: number | null }> {
  const child = spawn(process.execPath, [STARTER, url, workstationId, installed, osUser, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => (child.kill('SIGKILL'), reject(new Error(`the start did not end within 30 s: ${err}`))), 30_000);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.trim());
      if (!line) return reject(new Error(`no decision printed (code ${code}, signal ${signal}): ${err}`));
      resolve({ decision: JSON.parse(line) as { type: string; released: string | null }, signal, code });
    });
  });
}

describe('the heartbeat is written after the decision', () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  for (const backend of backends().filter((b) => b.name !== 'mssql')) {
    test(`${backend.name}: a start killed right after deciding decided right and lost only its own heartbeat; the next start writes the row`, async () => {
      const { db, tdb, cleanup } = await migratedDb(backend);
      cleanups.push(cleanup);
      const fleet = new FleetStore(db);
      // An administrator releases 2.0.0 (the question on a new site, answered yes).
      const admin = engineFor(fleet, identity('admin-pc'), '2.0.0');
      assert.equal((await admin.gate.answer('yes')).decision.type, 'proceed');
      await admin.gate.settled();

      // First start of the front desk, killed the moment it decided: the right decision, no registry row.
      const first = await start(tdb.url, 'front-desk', '2.0.0', 'clerk', 'kill-after-decision');
      assert.equal(first.signal, 'SIGKILL');
      assert.equal(first.decision.type, 'proceed');
      assert.equal(await fleet.workstations.get('front-desk'), null, 'a first start that died before its heartbeat leaves no row');

      // The next start (a normal one) writes the row.
      const second = await start(tdb.url, 'front-desk', '2.0.0', 'clerk', 'normal');
      assert.equal(second.code, 0);
      assert.equal(second.decision.type, 'proceed');
      const written = (await fleet.workstations.get('front-desk'))!;
      assert.equal(written.osUser, 'clerk');
      assert.equal(written.installedVersion, '2.0.0');
      assert.ok(written.lastStart, 'last start recorded');

      // A later start killed after deciding (another user, an old install that must upgrade): the decision says
      // upgrade to the released version; the registry still holds the previous start's values, not half of this one.
      const third = await start(tdb.url, 'front-desk', '1.0.0', 'night-shift', 'kill-after-decision');
      assert.equal(third.signal, 'SIGKILL');
      assert.deepEqual([third.decision.type, third.decision.released], ['upgrade', '2.0.0']);
      assert.deepEqual(await fleet.workstations.get('front-desk'), written, 'only the killed start\'s heartbeat is missing');

      // And the start after it records itself again.
      const fourth = await start(tdb.url, 'front-desk', '2.0.0', 'night-shift', 'normal');
      assert.equal(fourth.code, 0);
      const after4 = (await fleet.workstations.get('front-desk'))!;
      assert.equal(after4.osUser, 'night-shift');
      assert.ok(Date.parse(after4.lastStart!) >= Date.parse(written.lastStart!), 'last start moved on');
    });

    test(`${backend.name}: starts in quick succession coalesce their heartbeats and settled() waits for the last one`, async () => {
      const { db, cleanup } = await migratedDb(backend);
      cleanups.push(cleanup);
      const fleet = new FleetStore(db);
      const admin = engineFor(fleet, identity('admin-pc'), '2.0.0');
      await admin.gate.answer('yes');
      const runs = await Promise.all(Array.from({ length: 5 }, () => admin.gate.run()));
      assert.deepEqual(new Set(runs.map((r) => r.decision.type)), new Set(['proceed']));
      await admin.gate.settled();
      const row = (await fleet.workstations.get('admin-pc'))!;
      assert.equal(row.installedVersion, '2.0.0');
      assert.equal(admin.log.entries.filter((e) => e.event === 'gate.heartbeat-failed').length, 0);
    });
  }
});
