/**
 * A scheduled release under least privilege (S31) on a real PostgreSQL: the workstation login — whose password every
 * workstation holds — may neither write a schedule nor move its time, yet after the time every workstation follows the
 * due schedule (and installs it from the database) without moving the pointer; the administrator's start moves the
 * pointer through the admin login, once.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, test } from 'node:test';
import knexFactory from 'knex';
import { runCli } from '../../cli/main';
import { FleetStore } from '../../db/fleetStore';
import { serverNowPlus } from '../../db/serverTime';
import { parseDbUrl, secretAccountFor } from '../../kernel/dbUrl';
import { MachineConfigSchema } from '../../kernel/config';
import { writeVersionFile } from '../../kernel/installation';
import { MemoryLogger } from '../../kernel/log';
import { openWorkstation } from '../../engine/workstation';
import { MemorySecrets } from '../feed/fixture';
import { feedSource } from '../fleet/helpers/inProcess';
import { engineFor, identity } from '../helpers/actors';
import { startFeed } from '../fleet/helpers/site';
import { migratedDb, pgBackend, tempDir } from '../helpers/backends';

const pg = pgBackend();

describe('a scheduled release with separate logins (postgres)', { skip: pg ? false : 'set LOCKSTEP_TEST_PG_URL' }, () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  test('the workstation login cannot schedule or move the time; after it workstations follow and install, the admin login moves the pointer once', async () => {
    const site = await startFeed(['1.1.0'], 128 * 1024);
    cleanups.push(() => site.close());
    const { db: owner, tdb, cleanup } = await migratedDb(pg!);
    const suffix = randomBytes(4).toString('hex');
    const logins = { ws: `ls_ws_${suffix}`, admin: `ls_admin_${suffix}` };
    const passwords: Record<string, string> = { [logins.ws]: randomBytes(16).toString('hex'), [logins.admin]: randomBytes(16).toString('hex') };
    const server = knexFactory({ client: 'pg', connection: process.env['LOCKSTEP_TEST_PG_URL'], pool: { min: 0, max: 1 } });
    cleanups.push(async () => {
      for (const l of Object.values(logins)) await server.raw('drop role if exists ??', [l]);
      await server.destroy();
    });
    cleanups.push(cleanup);
    for (const login of Object.values(logins)) await owner.knex.raw(owner.knex.raw('create role ?? login password ?', [login, passwords[login]!]).toQuery());
    const dir = tempDir('lockstep-schedule-grants-');
    const ownerConfig = path.join(dir, 'owner.machine.json');
    fs.writeFileSync(ownerConfig, JSON.stringify({ installDir: 'app', database: { url: tdb.configUrl, passwordFromKeychain: false } }));
    for (const [role, login] of [['workstation', logins.ws], ['admin', logins.admin]] as const) {
      let out = '';
      const code = await runCli(['db', 'grants', '--role', role, '--login', login, '--apply', '--config', ownerConfig, '--json'], { stdout: (t) => (out += t), stderr: () => undefined, stdin: new PassThrough(), env: {} });
      assert.equal(code, 0, out);
    }
    const loginUrl = (login: string) => {
      const u = new URL(tdb.configUrl);
      u.username = login;
      return u.toString();
    };
    const secrets = new MemorySecrets();
    for (const login of Object.values(logins)) secrets.map.set(secretAccountFor(parseDbUrl(loginUrl(login)))!, passwords[login]!);
    const me = (await import('node:os')).userInfo().username;
    async function workstation(name: string, installed: string, extra: Record<string, unknown> = {}) {
      const wdir = tempDir(`lockstep-schedule-${name}-`);
      fs.mkdirSync(path.join(wdir, 'app'));
      writeVersionFile(path.join(wdir, 'app'), installed);
      const raw = { installDir: path.join(wdir, 'app'), database: { url: loginUrl(logins.ws) }, workstation: { id: name }, fleet: { chunkBytes: 64 * 1024 }, feed: { url: 'http://127.0.0.1:9/', trustedKeys: [site.feed.publicKey] }, ...extra };
      const file = path.join(wdir, 'lockstep.machine.json');
      fs.writeFileSync(file, JSON.stringify(raw));
      const ws = await openWorkstation({ ...MachineConfigSchema.parse(raw), sourceFile: file }, { host: { platform: 'linux', defaultLogDir: wdir, secrets }, logger: new MemoryLogger(), fleet: { sources: [feedSource(site.feed)] } });
      cleanups.push(() => ws.close());
      return { ws, installed: () => (JSON.parse(fs.readFileSync(path.join(wdir, 'app', 'lockstep-version.json'), 'utf8')) as { version: string }).version };
    }
    const asAdmin = { administrators: [me], database: { url: loginUrl(logins.ws), adminUser: logins.admin } };
    const admin = await workstation('ADMIN-PC', '1.1.0', asAdmin);
    await engineFor(new FleetStore(owner), identity('SEED-PC'), '1.0.0').ledger.release('1.0.0');
    const later = new Date(Date.parse(await admin.ws.fleet.schedules.serverNow()) + 3600_000).toISOString();
    const scheduled = await admin.ws.ledger.schedule('1.1.0', later);
    assert.equal(scheduled.state, 'pending');

    // The attacker with the workstation login's password: no schedule of its own, no earlier time.
    const attacker = knexFactory({ client: 'pg', connection: { ...pgConnection(loginUrl(logins.ws)), password: passwords[logins.ws] }, pool: { min: 0, max: 1 } });
    cleanups.push(() => attacker.destroy());
    for (const [what, attempt] of [
      ['move the time', () => attacker('lockstep_release_schedules').update({ due_at: new Date() })],
      ['insert a schedule', () => attacker('lockstep_release_schedules').insert({ release_id: scheduled.releaseId, channel: 'stable', version: '1.1.0', due_at: new Date(), base_revision: 1, with_package: true, state: 'pending', scheduled_by: 'x', scheduled_from: 'x', scheduled_at: new Date() })],
    ] as const) {
      await assert.rejects(attempt(), (err: { code?: string }) => err.code === '42501', what);
    }

    const clerk = await workstation('CLERK-PC', '1.0.0');
    assert.equal((await clerk.ws.gate.run()).decision.type, 'proceed');
    // The hour passes (the stored time is brought forward by the owner; the server's clock then passes it).
    await owner.knex('lockstep_release_schedules').update({ due_at: serverNowPlus(owner.knex, 1_000) });
    for (let i = 0; i < 100 && !(await clerk.ws.fleet.schedules.pending('stable'))!.due; i++) await new Promise((r) => setTimeout(r, 100));

    const up = await clerk.ws.gate.run();
    assert.deepEqual([up.decision.type, up.restartInto, clerk.installed()], ['upgrade', '1.1.0', '1.1.0'], 'followed and installed from the database');
    const current = () => owner.knex('lockstep_current').where({ channel: 'stable' }).first('revision', 'release_id');
    const before = await current();
    assert.equal((await owner.knex('lockstep_releases').where({ id: before.release_id }).first('version')).version, '1.0.0', 'the workstation login moved nothing');

    assert.equal((await admin.ws.gate.run()).decision.type, 'proceed');
    const after = await current();
    assert.deepEqual([after.revision, after.release_id], [before.revision + 1, scheduled.releaseId], 'the admin login moved the pointer once');
    assert.equal((await admin.ws.gate.run()).decision.type, 'proceed');
    assert.equal((await current()).revision, before.revision + 1);
    assert.deepEqual((await owner.knex('lockstep_release_schedules').select('state', 'ended_from')).map((r: { state: string; ended_from: string }) => [r.state, r.ended_from]), [['applied', 'ADMIN-PC']]);
  });
});

function pgConnection(url: string): { host: string; port: number; user: string; database: string } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 5432), user: decodeURIComponent(u.username), database: u.pathname.slice(1) };
}
