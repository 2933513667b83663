/**
 * Least privilege on a real PostgreSQL (S31): two fresh logins get the statements of `lockstep db grants --apply`.
 * The workstation login — whose password every workstation holds — is refused by the server when it tries to move
 * the pointer, erase the catalogs, forge a withdrawal, insert a release or touch the audit trail; it still does all a
 * workstation does (registry row, transfer slot, package download, audit row). The administrators' release and
 * withdraw run through the admin login named in the machine configuration, its password from the keychain.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, describe, test } from 'node:test';
import knexFactory, { Knex } from 'knex';
import { runCli } from '../../cli/main';
import { grantStatements } from '../../db/grants';
import { parseDbUrl, secretAccountFor } from '../../kernel/dbUrl';
import { MachineConfigSchema } from '../../kernel/config';
import { writeVersionFile } from '../../kernel/installation';
import { MemoryLogger } from '../../kernel/log';
import { SecretStore } from '../../engine/secrets';
import { openWorkstation } from '../../engine/workstation';
import { feedSource } from '../fleet/helpers/inProcess';
import { startFeed } from '../fleet/helpers/site';
import { migratedDb, pgBackend, tempDir } from '../helpers/backends';

const pg = pgBackend();
const PERMISSION_DENIED = '42501';

class MemorySecrets implements SecretStore {
  readonly map = new Map<string, string>();
  async get(account: string) {
    return this.map.get(account) ?? null;
  }
  async set(account: string, secret: string) {
    this.map.set(account, secret);
  }
  async delete(account: string) {
    return this.map.delete(account);
  }
}

async function cli(args: string[], configFile: string): Promise<{ code: number; out: unknown }> {
  let stdout = '';
  const code = await runCli([...args, '--config', configFile, '--json'], { stdout: (t) => (stdout += t), stderr: () => undefined, stdin: new PassThrough(), env: {} });
  return { code, out: JSON.parse(stdout) };
}

async function refused(what: string, attempt: () => Promise<unknown>): Promise<void> {
  await assert.rejects(attempt, (err: { code?: string; message?: string }) => {
    assert.equal(err.code, PERMISSION_DENIED, `${what}: ${err.message}`);
    return true;
  }, what);
}

describe('database logins with least privilege (postgres)', { skip: pg ? false : 'set LOCKSTEP_TEST_PG_URL' }, () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  test('the workstation login cannot change releases, packages or the audit trail; the admin login releases and withdraws', async () => {
    const site = await startFeed(['1.1.0', '1.2.0'], 128 * 1024);
    cleanups.push(() => site.close());
    const { db: owner, tdb, cleanup } = await migratedDb(pg!);
    const suffix = randomBytes(4).toString('hex');
    const wsLogin = `ls_ws_${suffix}`;
    const adminLogin = `ls_admin_${suffix}`;
    const passwords = { [wsLogin]: randomBytes(16).toString('hex'), [adminLogin]: randomBytes(16).toString('hex') };
    // Roles are server-wide: dropped after the test database (which holds every grant) is gone.
    const server = knexFactory({ client: 'pg', connection: process.env['LOCKSTEP_TEST_PG_URL'], pool: { min: 0, max: 1 } });
    cleanups.push(async () => {
      await server.raw('drop role if exists ??', [wsLogin]);
      await server.raw('drop role if exists ??', [adminLogin]);
      await server.destroy();
    });
    cleanups.push(cleanup);
    // CREATE ROLE takes no server-side parameters: knex writes the password in as a quoted literal.
    for (const login of [wsLogin, adminLogin]) await owner.knex.raw(owner.knex.raw('create role ?? login password ?', [login, passwords[login]!]).toQuery());

    const dir = tempDir('lockstep-grants-');
    const ownerConfig = path.join(dir, 'owner.machine.json');
    fs.writeFileSync(ownerConfig, JSON.stringify({ installDir: 'app', database: { url: tdb.configUrl, passwordFromKeychain: false } }));
    for (const [role, login] of [['workstation', wsLogin], ['admin', adminLogin]] as const) {
      const applied = await cli(['db', 'grants', '--role', role, '--login', login, '--apply'], ownerConfig);
      assert.equal(applied.code, 0, JSON.stringify(applied.out));
      assert.equal((applied.out as { applied: boolean }).applied, true);
    }

    const loginUrl = (login: string) => {
      const u = new URL(tdb.configUrl);
      u.username = login;
      return u.toString();
    };
    const secrets = new MemorySecrets();
    for (const login of [wsLogin, adminLogin]) secrets.map.set(secretAccountFor(parseDbUrl(loginUrl(login)))!, passwords[login]!);
    const me = (await import('node:os')).userInfo().username;
    async function workstation(name: string, installed: string, extra: Record<string, unknown> = {}) {
      const wdir = tempDir(`lockstep-grants-${name}-`);
      fs.mkdirSync(path.join(wdir, 'app'));
      writeVersionFile(path.join(wdir, 'app'), installed);
      const raw = { installDir: path.join(wdir, 'app'), database: { url: loginUrl(wsLogin) }, workstation: { id: name }, fleet: { chunkBytes: 64 * 1024 }, feed: { url: 'http://127.0.0.1:9/', trustedKeys: [site.feed.publicKey] }, ...extra };
      const file = path.join(wdir, 'lockstep.machine.json');
      fs.writeFileSync(file, JSON.stringify(raw));
      const ws = await openWorkstation({ ...MachineConfigSchema.parse(raw), sourceFile: file }, { host: { platform: 'linux', defaultLogDir: wdir, secrets }, logger: new MemoryLogger(), fleet: { sources: [feedSource(site.feed)] } });
      cleanups.push(() => ws.close());
      return { ws, installed: () => (JSON.parse(fs.readFileSync(path.join(wdir, 'app', 'lockstep-version.json'), 'utf8')) as { version: string }).version };
    }

    // The administrators' flows, through the admin login named in their configuration.
    const adminWs = await workstation('ADMIN-PC', '1.2.0', { administrators: [me], database: { url: loginUrl(wsLogin), adminUser: adminLogin } });
    await adminWs.ws.ledger.release('1.1.0');
    await adminWs.ws.ledger.release('1.2.0');
    const withdrawn = await adminWs.ws.ledger.withdraw('1.2.0');
    assert.equal(withdrawn.current?.version, '1.1.0');
    const again = await adminWs.ws.ledger.release('1.2.0');
    assert.equal(again.state, 'released');
    assert.equal(again.releasedBy, me);

    // Without the admin login the same administrator's release is refused by the server.
    const noAdminLogin = await workstation('ADMIN-PC-2', '1.2.0', { administrators: [me] });
    await assert.rejects(noAdminLogin.ws.ledger.withdraw('1.2.0'), (e: { code?: string }) => e.code === 'E_DB_PERMISSION');
    assert.equal((await owner.knex('lockstep_releases').where({ version: '1.2.0' }).first('state')).state, 'released');

    // A workstation does everything it needs with the workstation login: registry row, slot, download, audit row.
    const clerk = await workstation('CLERK-PC', '1.1.0');
    const up = await clerk.ws.gate.run();
    assert.deepEqual([up.decision.type, up.restartInto], ['upgrade', '1.2.0']);
    assert.equal(clerk.installed(), '1.2.0');
    assert.equal((await owner.knex('lockstep_workstations').where({ workstation_id: 'CLERK-PC' }).first('installed_version')).installed_version, '1.1.0');
    assert.ok((await owner.knex('lockstep_events').where({ workstation_id: 'CLERK-PC', action: 'upgrade', outcome: 'ok' })).length === 1);

    // The attacker: plain SQL with the workstation login's password, as any workstation user could.
    const before = {
      current: await owner.knex('lockstep_current').select(),
      releases: await owner.knex('lockstep_releases').orderBy('id').select(),
      packages: await owner.knex('lockstep_release_packages').orderBy('release_id').select(),
      events: await owner.knex('lockstep_events').orderBy('id').select(),
    };
    const attacker: Knex = knexFactory({ client: 'pg', connection: { ...connectionOf(loginUrl(wsLogin)), password: passwords[wsLogin] }, pool: { min: 0, max: 1 } });
    cleanups.push(() => attacker.destroy());
    const r11 = before.releases.find((r) => r.version === '1.1.0')!;
    await refused('move the pointer', () => attacker('lockstep_current').update({ release_id: r11.id }));
    await refused('null the catalogs', () => attacker('lockstep_release_packages').update({ catalog: null }));
    await refused('forge a withdrawal', () => attacker('lockstep_releases').where({ version: '1.2.0' }).update({ state: 'withdrawn', withdrawn_by: 'admin' }));
    await refused('empty a stored manifest', () => attacker('lockstep_releases').update({ manifest: null }));
    await refused('insert a release', () => attacker('lockstep_releases').insert({ channel: 'stable', version: '0.9.0', version_key: '0.9.0', state: 'released', created_by: 'x', created_from: 'x', created_at: new Date() }));
    await refused('replace a chunk', () => attacker('lockstep_release_chunks').where({ release_id: r11.id, seq: 0 }).update({ bytes: Buffer.alloc(8) }));
    await refused('replace a block', () => attacker('lockstep_blocks').update({ bytes: Buffer.alloc(8) }));
    await refused('plant a block', () => attacker('lockstep_blocks').insert({ sha256: '0'.repeat(64), size: 8, bytes: Buffer.alloc(8) }));
    await refused('rewrite a block list', () => attacker('lockstep_release_blocks').where({ release_id: r11.id }).delete());
    await refused('delete audit rows', () => attacker('lockstep_events').delete());
    await refused('rewrite audit rows', () => attacker('lockstep_events').update({ outcome: 'ok' }));
    await refused('mark a test version', () => attacker('lockstep_test_marks').insert({ workstation_id: 'CLERK-PC', channel: 'stable', version_key: 'x', version: 'x', decided_by: 'x', decided_at: new Date() }));
    // Not even the admin login may delete the audit trail.
    const adminSql: Knex = knexFactory({ client: 'pg', connection: { ...connectionOf(loginUrl(adminLogin)), password: passwords[adminLogin] }, pool: { min: 0, max: 1 } });
    cleanups.push(() => adminSql.destroy());
    await refused('delete audit rows as admin', () => adminSql('lockstep_events').delete());

    assert.deepEqual(await owner.knex('lockstep_current').select(), before.current);
    assert.deepEqual(await owner.knex('lockstep_releases').orderBy('id').select(), before.releases);
    assert.deepEqual(await owner.knex('lockstep_release_packages').orderBy('release_id').select(), before.packages);
    assert.deepEqual(await owner.knex('lockstep_events').orderBy('id').select(), before.events);
  });
});

describe('one login per workstation with row-level security (postgres)', { skip: pg ? false : 'set LOCKSTEP_TEST_PG_URL' }, () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  });

  test('a workstation login granted --own-rows writes only its own registry row and audit rows', async () => {
    const { db: owner, tdb, cleanup } = await migratedDb(pg!);
    const login = `ls_pc_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(16).toString('hex');
    const server = knexFactory({ client: 'pg', connection: process.env['LOCKSTEP_TEST_PG_URL'], pool: { min: 0, max: 1 } });
    cleanups.push(async () => {
      await server.raw('drop role if exists ??', [login]);
      await server.destroy();
    });
    cleanups.push(cleanup);
    await owner.knex.raw(owner.knex.raw('create role ?? login password ?', [login, password]).toQuery());
    const dir = tempDir('lockstep-rls-');
    const ownerConfig = path.join(dir, 'owner.machine.json');
    fs.writeFileSync(ownerConfig, JSON.stringify({ installDir: 'app', database: { url: tdb.configUrl, passwordFromKeychain: false } }));
    const applied = await cli(['db', 'grants', '--role', 'workstation', '--login', login, '--own-rows', '--apply'], ownerConfig);
    assert.equal(applied.code, 0, JSON.stringify(applied.out));
    const now = new Date();
    await owner.knex('lockstep_workstations').insert({ workstation_id: 'OTHER-PC', host_name: 'OTHER-PC', os_user: 'bob', installed_version: '1.0.0', ring: 'regular', first_seen: now, last_start: now });

    // The workstation itself, named like its login: its start registers it through the gate.
    const u = new URL(tdb.configUrl);
    u.username = login;
    const secrets = new MemorySecrets();
    secrets.map.set(secretAccountFor(parseDbUrl(u.toString()))!, password);
    fs.mkdirSync(path.join(dir, 'app'));
    writeVersionFile(path.join(dir, 'app'), '1.0.0');
    const raw = { installDir: path.join(dir, 'app'), database: { url: u.toString() }, workstation: { id: login } };
    const ws = await openWorkstation({ ...MachineConfigSchema.parse(raw), sourceFile: path.join(dir, 'lockstep.machine.json') }, { host: { platform: 'linux', defaultLogDir: dir, secrets }, logger: new MemoryLogger() });
    cleanups.push(() => ws.close());
    await ws.gate.run();
    await ws.gate.settled(); // the heartbeat is written after the decision
    assert.equal((await owner.knex('lockstep_workstations').where({ workstation_id: login }).first('os_user')) !== undefined, true);
    await ws.fleet.audit({ action: 'check', outcome: 'ok', actor: { user: 'clerk', workstationId: login }, channel: 'stable', version: '1.0.0', detail: {} });

    const sql: Knex = knexFactory({ client: 'pg', connection: { ...connectionOf(u.toString()), password }, pool: { min: 0, max: 1 } });
    cleanups.push(() => sql.destroy());
    const otherBefore = await owner.knex('lockstep_workstations').where({ workstation_id: 'OTHER-PC' }).first();
    assert.equal(await sql('lockstep_workstations').where({ workstation_id: 'OTHER-PC' }).update({ installed_version: '9.9.9', ring: 'test' }), 0, 'another workstation\'s row is not updated');
    await refused('insert a row for another workstation', () => sql('lockstep_workstations').insert({ workstation_id: 'THIRD-PC', host_name: 'x', os_user: 'x', installed_version: '1.0.0', ring: 'regular', first_seen: now, last_start: now }));
    await refused('move its own row to another id', () => sql('lockstep_workstations').where({ workstation_id: login }).update({ workstation_id: 'OTHER-PC-2' }));
    await refused('write an audit row in another workstation\'s name', () => sql('lockstep_events').insert({ at: now, action: 'upgrade', outcome: 'ok', actor: 'x', workstation_id: 'OTHER-PC' }));
    assert.deepEqual(await owner.knex('lockstep_workstations').where({ workstation_id: 'OTHER-PC' }).first(), otherBefore);
    assert.equal((await sql('lockstep_workstations').select('workstation_id')).length, 2, 'it still reads every row (the fleet view)');
    assert.deepEqual((await owner.knex('lockstep_events').select('workstation_id')).map((r) => r.workstation_id), [login]);
  });
});

function connectionOf(url: string): Knex.PgConnectionConfig {
  const t = parseDbUrl(url);
  if (t.dialect !== 'postgres') throw new Error('postgres only');
  return { host: t.host, port: t.port, database: t.database, user: t.user ?? undefined };
}

describe('T-SQL grants for SQL Server', () => {
  const mssql = knexFactory({ client: 'mssql' });
  after(() => mssql.destroy());

  test('the workstation login is granted reads and its own writes, and denied every other change', () => {
    const sql = grantStatements(mssql, 'mssql', 'workstation', 'lockstep_ws');
    assert.ok(sql.includes('GRANT SELECT ON [dbo].[lockstep_releases] TO [lockstep_ws]'));
    assert.ok(sql.includes('DENY INSERT, UPDATE, DELETE ON [dbo].[lockstep_releases] TO [lockstep_ws]'));
    assert.ok(sql.includes('DENY INSERT, UPDATE, DELETE ON [dbo].[lockstep_current] TO [lockstep_ws]'));
    assert.ok(sql.includes('DENY INSERT, UPDATE, DELETE ON [dbo].[lockstep_release_packages] TO [lockstep_ws]'));
    assert.ok(sql.includes('DENY INSERT, UPDATE, DELETE ON [dbo].[lockstep_release_chunks] TO [lockstep_ws]'));
    assert.ok(sql.includes('DENY INSERT, UPDATE, DELETE ON [dbo].[lockstep_blocks] TO [lockstep_ws]'));
    assert.ok(sql.includes('DENY INSERT, UPDATE, DELETE ON [dbo].[lockstep_release_blocks] TO [lockstep_ws]'));
    assert.ok(sql.includes('GRANT SELECT, INSERT ON [dbo].[lockstep_events] TO [lockstep_ws]'));
    assert.ok(sql.includes('DENY UPDATE, DELETE ON [dbo].[lockstep_events] TO [lockstep_ws]'));
    assert.ok(sql.includes('GRANT SELECT, INSERT, UPDATE ON [dbo].[lockstep_workstations] TO [lockstep_ws]'));
    for (const s of sql) assert.match(s, /^(GRANT|DENY|REVOKE) [A-Z, ]+ ON \[dbo\]\.\[lockstep_[a-z_]+\] (TO|FROM) \[lockstep_ws\]$/, s);
  });

  test('the admin login may change releases, the pointer and packages, and never the audit trail', () => {
    const sql = grantStatements(mssql, 'mssql', 'admin', 'lockstep_admin');
    assert.ok(sql.includes('GRANT SELECT, INSERT, UPDATE ON [dbo].[lockstep_releases] TO [lockstep_admin]'));
    assert.ok(sql.includes('GRANT SELECT, INSERT, UPDATE ON [dbo].[lockstep_current] TO [lockstep_admin]'));
    assert.ok(sql.includes('GRANT SELECT, INSERT, UPDATE, DELETE ON [dbo].[lockstep_release_chunks] TO [lockstep_admin]'));
    // Blocks are stored once and never changed in place; only pruning a release deletes them.
    assert.ok(sql.includes('GRANT SELECT, INSERT, DELETE ON [dbo].[lockstep_blocks] TO [lockstep_admin]'));
    assert.ok(sql.includes('DENY UPDATE ON [dbo].[lockstep_blocks] TO [lockstep_admin]'));
    assert.ok(sql.includes('GRANT SELECT, INSERT, DELETE ON [dbo].[lockstep_release_blocks] TO [lockstep_admin]'));
    assert.ok(sql.includes('DENY UPDATE, DELETE ON [dbo].[lockstep_events] TO [lockstep_admin]'));
  });

  test('a login name that would need quoting is refused, not escaped', () => {
    assert.throws(() => grantStatements(mssql, 'mssql', 'admin', 'x]; drop table lockstep_events; --'), /E_USAGE|not a database login/);
  });
});

test('the admin login\'s password goes into the keychain under its own account, read from standard input', async () => {
  const dir = tempDir('lockstep-admin-secret-');
  const config = path.join(dir, 'lockstep.machine.json');
  fs.writeFileSync(config, JSON.stringify({ installDir: 'app', database: { url: 'postgres://ls_ws@db.example:5432/lockstep', adminUser: 'ls_admin' } }));
  const secrets = new MemorySecrets();
  const stdin = new PassThrough();
  stdin.end('s3cret\n');
  let stdout = '';
  const code = await runCli(['secret', 'set-db-password', '--admin', '--config', config, '--json'], { stdout: (t) => (stdout += t), stderr: () => undefined, stdin, env: {}, secrets });
  assert.equal(code, 0, stdout);
  assert.deepEqual([...secrets.map], [['db:postgres://ls_admin@db.example:5432/lockstep', 's3cret']]);
  assert.doesNotMatch(fs.readFileSync(config, 'utf8'), /s3cret/);
});
