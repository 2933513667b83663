/**
 * The database moves with the release, end to end, on SQLite and PostgreSQL with real processes: the vendor feed
 * (served on 127.0.0.1) carries the example client's three versions, each with its signed schema claim and packaged
 * migrations; workstations are CLI processes, and the example's data layer runs in a desk process composed as
 * lockstep/electron's start() composes it. 1.0 creates the table and is used → a test install of 1.1 works on the
 * live database untouched → 1.1 is released (migration to 2) → a test install of 2.0 is told it changes the database
 * and leaves it alone → a tampered 2.0 migration (changed bytes, then a link) is E_SIGNATURE with nothing changed →
 * 2.0 is released (2 → 3) → the 1.1 desk still running is blocked although its policy is warn → it upgrades and
 * works. Schema and rows are dumped and compared at every step; the customers survive all of them.
 */
import assert from 'node:assert/strict';
import { ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { after, before, describe, test } from 'node:test';
import type { Knex } from 'knex';
import { backends, migratedDb, tempDir } from '../helpers/backends';
import type { SimWorkstation } from '../helpers/workstationSim';
import { EXAMPLE, ROOT } from '../example/support/packedExample';
import { fleetWorkstation, installFromFeedProcess, startFeed } from '../fleet/helpers/site';
import { Dump, dumpClientSchema } from './support/dump';

const DESK_MAIN = path.resolve(__dirname, 'support', 'deskMain.js');
const TABLE = 'customer_list_customers';
const MIGRATIONS = path.join(EXAMPLE, 'migrations');
/** How long a desk may take to end after quit (it closes the database; the machine may be loaded). */
const DESK_EXIT_MS = 15_000;

interface Decision {
  type: string;
  installed: string;
  released: string | null;
  policy?: string;
  migration?: { from: number; to: number; worksOnCurrent: boolean };
  reason?: { code: string } | null;
}
interface GateJson {
  decision: Decision;
  error?: { code: string; message: string; details?: Record<string, unknown> };
}

/** The example's data layer, compiled from its sources (type imports only, so it loads under plain Node). */
function compileCustomerStore(): string {
  const out = tempDir('lockstep-customer-store-');
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), path.join(EXAMPLE, 'src', 'customers.ts'), '--outDir', out, '--module', 'node16', '--moduleResolution', 'node16', '--target', 'es2022', '--skipLibCheck', '--types', 'node', '--noCheck'], { stdio: 'pipe' });
  return path.join(out, 'customers.js');
}

/** The example client running at a workstation (deskMain.ts), driven one command at a time. */
class Desk {
  readonly events: unknown[] = [];
  private readonly replies: Array<(r: Record<string, unknown>) => void> = [];
  private readonly child: ChildProcessWithoutNullStreams;
  private stderr = '';
  readonly started: Promise<{ started: { type: string }; gate: Decision | null }>;
  private readonly exited: Promise<number | null>;

  constructor(ws: SimWorkstation, customersJs: string) {
    this.child = spawn(process.execPath, [DESK_MAIN, ws.configPath, customersJs], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stderr.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.child.stdin.on('error', () => undefined); // a desk that died already: its exit code tells why
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
    let first: (v: never) => void = () => undefined;
    let failed: (e: Error) => void = () => undefined;
    this.started = new Promise((resolve, reject) => ((first = resolve as never), (failed = reject)));
    this.child.on('close', (code) => failed(new Error(`desk exited ${code}: ${this.stderr}`)));
    readline.createInterface({ input: this.child.stdout }).on('line', (line) => {
      const msg = JSON.parse(line) as Record<string, unknown>;
      if ('started' in msg) first(msg as never);
      else if ('outdated' in msg || 'relaunch' in msg) this.events.push(msg);
      else this.replies.shift()?.(msg);
    });
  }

  send(op: string, customer?: Record<string, string>): Promise<Record<string, unknown> & { ok: boolean; result?: unknown; error?: { code: string; message: string } }> {
    return new Promise((resolve) => {
      this.replies.push(resolve as never);
      this.child.stdin.write(JSON.stringify({ op, customer }) + '\n');
    });
  }

  async list(): Promise<Array<Record<string, unknown>>> {
    const r = await this.send('list');
    assert.ok(r.ok, JSON.stringify(r));
    return r.result as Array<Record<string, unknown>>;
  }

  /**
   * Quits and waits (bounded) for the process to end by itself, standard input still open: Lockstep's close must
   * leave no handle (pool, timer, watcher) that keeps an app's process alive. A desk that does not end is killed.
   */
  async quit(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.stdin.write(JSON.stringify({ op: 'quit' }) + '\n');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([this.exited, new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), DESK_EXIT_MS)))]);
    clearTimeout(timer);
    if (code === 'hung') {
      this.child.kill('SIGKILL');
      await this.exited;
      assert.fail(`the desk did not end within ${DESK_EXIT_MS} ms after quit: something Lockstep opened is still open. ${this.stderr}`);
    }
    assert.equal(code, 0, `the desk ended with ${code}: ${this.stderr}`);
  }
}

function columnsOf(dump: Dump): string[] {
  return Object.keys(dump.tables[TABLE]?.columns ?? {}).sort();
}

for (const backend of backends().filter((b) => b.name !== 'mssql')) {
  describe(`the database moves with the release on ${backend.name}`, () => {
    const cleanups: Array<() => Promise<unknown> | unknown> = [];
    let customersJs: string;
    before(() => {
      customersJs = compileCustomerStore();
    });
    after(async () => {
      for (const c of cleanups.reverse()) await c();
    });

    test('1.0 → 1.1 tested live → released (→2) → 2.0 tested: told, untouched → tampered: refused → released (→3) → old desk blocked under warn → upgrades', async () => {
      const site = await startFeed(
        [
          { version: '1.0.0', schema: { works: '1', brings: 1, migrationsDir: MIGRATIONS } },
          { version: '1.1.0', schema: { works: '1-2', brings: 2, migrationsDir: MIGRATIONS } },
          { version: '2.0.0', schema: { works: '3', brings: 3, migrationsDir: MIGRATIONS } },
        ],
        64 * 1024,
      );
      cleanups.push(site.close);
      const { db, tdb, cleanup } = await migratedDb(backend);
      cleanups.push(cleanup);
      const knex: Knex = db.knex;
      const common = { dbUrl: tdb.configUrl, feedUrl: site.url, publicKey: site.feed.publicKey, installed: '0.9.0' };
      const admin = fleetWorkstation({ ...common, id: 'admin-pc', admin: true });
      const desk = fleetWorkstation({ ...common, id: 'front-desk', policy: 'warn' });
      const tester = fleetWorkstation({ ...common, id: 'test-pc', admin: true, ring: 'test' });
      const gate = async (ws: SimWorkstation, answer?: 'yes' | 'no') => (await ws.json<GateJson>(answer ? ['gate', '--answer', answer] : ['gate'])).body;
      const openDesk = async (ws: SimWorkstation) => {
        const d = new Desk(ws, customersJs);
        cleanups.push(() => d.quit().catch(() => undefined));
        return { desk: d, start: await d.started };
      };

      // 1.0 brings level 1: releasing it creates the example's table.
      await installFromFeedProcess(admin, '1.0.0');
      const first = await gate(admin);
      assert.equal(first.decision.type, 'ask-release', JSON.stringify(first));
      assert.deepEqual(first.decision.migration, { from: 0, to: 1, worksOnCurrent: true });
      assert.equal((await gate(admin, 'yes')).decision.type, 'proceed');
      const level1 = await dumpClientSchema(knex);
      assert.deepEqual(columnsOf(level1), ['city', 'created_at', 'id', 'name']);

      // The desk upgrades to 1.0 from the shared database and works.
      assert.equal((await gate(desk)).decision.type, 'upgrade');
      assert.equal(desk.installed(), '1.0.0');
      let running = await openDesk(desk);
      assert.equal(running.start.started.type, 'go-on');
      assert.ok((await running.desk.send('add', { name: 'Müller GmbH', city: 'Bremen' })).ok);
      assert.ok((await running.desk.send('add', { name: 'Atelier Dubois', city: 'Lyon' })).ok);
      assert.deepEqual((await running.desk.list()).map((c) => [c['name'], c['email'], c['customerNumber']]), [['Atelier Dubois', null, null], ['Müller GmbH', null, null]]);
      await running.desk.quit();
      const withRows = await dumpClientSchema(knex);
      assert.equal(withRows.tables[TABLE]!.rows.length, 2);

      // A test install of 1.1 (works 1–2) runs on the live database as it is: nothing migrated, the data layer works.
      await installFromFeedProcess(tester, '1.1.0');
      const tested = await gate(tester);
      assert.equal(tested.decision.type, 'ask-release');
      assert.deepEqual(tested.decision.migration, { from: 1, to: 2, worksOnCurrent: true });
      assert.equal((await gate(tester, 'no')).decision.type, 'test-workstation');
      const trial = await openDesk(tester);
      assert.equal(trial.start.started.type, 'go-on');
      assert.equal((await trial.desk.list()).length, 2);
      const noEmail = await trial.desk.send('add', { name: 'Vogt', city: 'Freiburg', email: 'info@vogt.de' });
      assert.equal(noEmail.ok, false, 'level 1 has no e-mail column: the version says so instead of writing');
      assert.ok((await trial.desk.send('add', { name: 'Schreinerei Vogt', city: 'Freiburg' })).ok);
      await trial.desk.quit();
      const afterTrial = await dumpClientSchema(knex);
      assert.deepEqual(afterTrial.tables[TABLE]!.columns, level1.tables[TABLE]!.columns, 'the test install changed no schema');
      assert.equal(afterTrial.tables[TABLE]!.rows.length, 3);

      // Released for all: migration 1 → 2 adds the e-mail column; every row is still there.
      await installFromFeedProcess(admin, '1.1.0');
      assert.equal((await gate(admin, 'yes')).decision.type, 'proceed');
      const level2 = await dumpClientSchema(knex);
      assert.deepEqual(columnsOf(level2), ['city', 'created_at', 'email', 'id', 'name']);
      assert.deepEqual(level2.tables[TABLE]!.rows, afterTrial.tables[TABLE]!.rows.map((r) => ({ ...(r as object), email: null })));

      // The desk upgrades to 1.1 from the database and keeps running (policy warn) with the new column.
      assert.equal((await gate(desk)).decision.type, 'upgrade');
      assert.equal(desk.installed(), '1.1.0');
      running = await openDesk(desk);
      assert.equal(running.start.started.type, 'go-on');
      assert.ok((await running.desk.send('add', { name: 'Bäckerei Korn', city: 'Kiel', email: 'post@korn.de' })).ok);

      // A test install of 2.0 (works 3 only) is told it changes the database, and does not touch it.
      await installFromFeedProcess(tester, '2.0.0');
      const told = await gate(tester);
      assert.deepEqual(told.decision.migration, { from: 2, to: 3, worksOnCurrent: false }, JSON.stringify(told));
      // `schema status` there says the same, from the installed version's own signed claim (2.0 is not in the database yet).
      const status = (await tester.json<{ level: { level: number }; installed: { version: string; claimFrom: string; worksOnCurrent: boolean; migration: unknown } }>(['schema', 'status'])).body;
      assert.deepEqual([status.level.level, status.installed], [2, { ...status.installed, version: '2.0.0', claimFrom: 'installation', worksOnCurrent: false, migration: { from: 2, to: 3 } }]);
      const trial2 = await openDesk(tester);
      assert.notEqual(trial2.start.started.type, 'go-on');
      const refused = await trial2.desk.send('list');
      assert.equal(refused.ok, false);
      assert.equal(refused.error?.code, 'E_INVALID_STATE');
      await trial2.desk.quit();
      const beforeRelease = await dumpClientSchema(knex);
      assert.deepEqual(columnsOf(beforeRelease), columnsOf(level2));

      // The administrator's 2.0 with a migration file changed after signing, then swapped for a link: refused.
      await installFromFeedProcess(admin, '2.0.0');
      const asked = await gate(admin);
      assert.deepEqual(asked.decision.migration, { from: 2, to: 3, worksOnCurrent: false });
      const installed3 = path.join(admin.dir, 'app', 'migrations', '0003_company_and_number.js');
      const signedBytes = fs.readFileSync(installed3);
      fs.writeFileSync(installed3, Buffer.concat([signedBytes, Buffer.from('\n// changed after signing\n')]));
      const tampered = await admin.json<GateJson>(['gate', '--answer', 'yes']);
      assert.notEqual(tampered.code, 0);
      assert.equal(tampered.body.error?.code, 'E_SIGNATURE', tampered.stdout);
      assert.match(tampered.body.error?.message ?? '', /0003_company_and_number\.js/);
      const planted = path.join(tempDir('lockstep-planted-'), '0003_company_and_number.js');
      fs.writeFileSync(planted, signedBytes);
      fs.rmSync(installed3);
      fs.symlinkSync(planted, installed3);
      const linked = await admin.json<GateJson>(['gate', '--answer', 'yes']);
      assert.equal(linked.body.error?.code, 'E_SIGNATURE', linked.stdout);
      assert.deepEqual(await dumpClientSchema(knex), beforeRelease, 'no step ran: schema and rows unchanged');
      assert.equal((await gate(desk)).decision.released, '1.1.0', 'the release stayed where it was');

      // With the signed file back, 2.0 is released: migration 2 → 3 in one transaction.
      fs.rmSync(installed3);
      fs.writeFileSync(installed3, signedBytes);
      const released = await admin.json<GateJson>(['gate', '--answer', 'yes']);
      assert.equal(released.code, 0, released.stdout + released.stderr);
      const level3 = await dumpClientSchema(knex);
      assert.deepEqual(columnsOf(level3), ['city', 'company', 'created_at', 'customer_number', 'email', 'id']);
      assert.deepEqual(
        level3.tables[TABLE]!.rows,
        beforeRelease.tables[TABLE]!.rows.map((r) => {
          const { name, ...rest } = r as Record<string, unknown>;
          return { ...rest, company: name, customer_number: `K-${String(rest['id']).padStart(5, '0')}` };
        }),
        'every customer survived, renamed and numbered',
      );

      // The 1.1 desk still running learns it at its next database access: blocked, although its policy is warn.
      await running.desk.send('access');
      for (let i = 0; i < 200 && running.desk.events.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(running.desk.events.map((e) => (e as { outdated: { block: boolean } }).outdated.block), [true]);
      const blocked = await running.desk.send('list');
      assert.equal(blocked.ok, false);
      assert.equal(blocked.error?.code, 'E_INVALID_STATE');
      await running.desk.quit();

      // It upgrades at its next start and works on level 3 with everyone's customers.
      assert.equal((await gate(desk)).decision.type, 'upgrade');
      assert.equal(desk.installed(), '2.0.0');
      running = await openDesk(desk);
      assert.equal(running.start.started.type, 'go-on');
      const added = await running.desk.send('add', { name: 'Weingut Roth', city: 'Mainz' });
      assert.ok(added.ok, JSON.stringify(added));
      assert.deepEqual(
        (await running.desk.list()).map((c) => [c['name'], c['customerNumber']]),
        [['Atelier Dubois', 'K-00002'], ['Bäckerei Korn', 'K-00004'], ['Müller GmbH', 'K-00001'], ['Schreinerei Vogt', 'K-00003'], ['Weingut Roth', 'K-00005']],
      );
      await running.desk.quit();
    });
  });
}
