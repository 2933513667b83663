/**
 * The database password lives in the OS keychain (S22): a real Secret Service (gnome-keyring in a private D-Bus
 * session) and, where PostgreSQL runs, a real password-protected role that the CLI logs in with.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import knexFactory from 'knex';
import { Client } from 'pg';
import { tempDir } from '../helpers/backends';
import { CLI, CliRun } from '../helpers/workstationSim';

const pgAdminUrl = process.env['LOCKSTEP_TEST_PG_URL'];

/**
 * Runs `node <args>` inside a private D-Bus session whose keyring (under `home`) is unlocked with `unlockPassword`.
 * Both the unlock password and `stdin` travel on standard input — never on a command line or in the environment.
 */
function inKeyringSession(home: string, unlockPassword: string, args: string[], stdin = ''): Promise<CliRun> {
  const script = 'IFS= read -r pw; printf %s "$pw" | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1; unset pw; exec "$@"';
  return new Promise((resolve, reject) => {
    const child = spawn('dbus-run-session', ['--', 'sh', '-c', script, 'sh', process.execPath, ...args], {
      env: { PATH: process.env['PATH'], HOME: home, XDG_DATA_HOME: path.join(home, 'data'), XDG_RUNTIME_DIR: home, LANG: 'C.UTF-8' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(`${unlockPassword}\n${stdin}`);
  });
}

function writeConfig(dir: string, dbUrl: string): string {
  fs.mkdirSync(path.join(dir, 'app'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'app', 'lockstep-version.json'), JSON.stringify({ version: '1.0.0' }));
  const file = path.join(dir, 'lockstep.machine.json');
  fs.writeFileSync(file, JSON.stringify({ installDir: 'app', database: { url: dbUrl, connectTimeoutMs: 5000 }, log: { dir: 'logs' } }));
  return file;
}

describe('OS keychain through keytar and a real Secret Service', () => {
  const home = tempDir('lockstep-keyring-');
  const unlock = randomBytes(12).toString('hex');
  const dbPassword = `pw-${randomBytes(9).toString('base64url')}`;
  const role = `lockstep_pw_${randomBytes(4).toString('hex')}`;
  let dbUrl = `postgres://${role}@127.0.0.1:5432/${role}`;
  let admin: ReturnType<typeof knexFactory> | null = null;

  before(async () => {
    if (!pgAdminUrl) return;
    admin = knexFactory({ client: 'pg', connection: pgAdminUrl, pool: { min: 0, max: 1 } });
    // DDL takes no bind parameters in PostgreSQL: quote with the driver's own escaping.
    const esc = new Client();
    // eslint-disable-next-line no-restricted-syntax -- CREATE ROLE cannot take bind parameters; both parts are escaped.
    await admin.raw(`create role ${esc.escapeIdentifier(role)} login password ${esc.escapeLiteral(dbPassword)}`);
    await admin.raw('grant ?? to current_user', [role]);
    await admin.raw('create database ?? owner ??', [role, role]);
    const u = new URL(pgAdminUrl);
    dbUrl = `postgres://${role}@${u.hostname}:${u.port || 5432}/${role}`;
  });
  after(async () => {
    if (admin) {
      await admin.raw('drop database if exists ?? with (force)', [role]);
      await admin.raw('drop role if exists ??', [role]);
      await admin.destroy();
    }
    fs.rmSync(home, { recursive: true, force: true });
  });

  test('store through the CLI from stdin, read back exactly, use it to log in; a locked keyring gives E_SECRET_MISSING', async () => {
    const dir = tempDir('lockstep-kc-ws-');
    const config = writeConfig(dir, dbUrl);
    const stored = await inKeyringSession(home, unlock, [CLI, 'secret', 'set-db-password', '--config', config, '--json'], dbPassword);
    assert.equal(stored.code, 0, stored.stderr + stored.stdout);
    const account = `db:postgres://${role}@127.0.0.1:${new URL(dbUrl).port || 5432}/${role}`;
    assert.deepEqual(JSON.parse(stored.stdout), { stored: true, account });

    // Read back through keytar itself, in a fresh session on the same keyring.
    const readBack = await inKeyringSession(home, unlock, ['-e', `require('keytar').getPassword('Lockstep', ${JSON.stringify(account)}).then((p) => process.stdout.write(String(p)))`]);
    assert.equal(readBack.stdout, dbPassword);

    // The secret is in no file under the workstation folder or the log, and the keyring file does not hold it in clear.
    for (const f of walk(dir)) assert.ok(!fs.readFileSync(f).includes(dbPassword), `${f} must not contain the password`);
    for (const f of walk(home)) assert.ok(!fs.readFileSync(f).includes(dbPassword), `${f} must not contain the password in clear`);

    if (pgAdminUrl) {
      const migrated = await inKeyringSession(home, unlock, [CLI, 'db', 'migrate', '--config', config, '--json']);
      assert.equal(migrated.code, 0, migrated.stdout + migrated.stderr);
      const status = await inKeyringSession(home, unlock, [CLI, 'status', '--config', config, '--json']);
      assert.equal(status.code, 0, status.stdout + status.stderr);
      assert.equal((JSON.parse(status.stdout) as { decision: string }).decision, 'ask-release');
    }

    // Wrong unlock password: the keyring stays locked; libsecret answers null, Lockstep answers with a code.
    const locked = await inKeyringSession(home, 'not-the-password', [CLI, 'status', '--config', config, '--json']);
    assert.equal(locked.code, 1);
    const err = (JSON.parse(locked.stdout) as { error: { code: string; message: string } }).error;
    assert.equal(err.code, 'E_SECRET_MISSING');
    assert.match(err.message, /keychain is locked/);
  });

  // Needs a password-protected PostgreSQL role; without PostgreSQL the runner names the suite as not run.
  if (pgAdminUrl) test('a wrong password in the keychain: E_DB_AUTH, not a crash', async () => {
    const dir = tempDir('lockstep-kc-wrong-');
    const config = writeConfig(dir, dbUrl);
    const otherHome = tempDir('lockstep-keyring2-');
    const stored = await inKeyringSession(otherHome, unlock, [CLI, 'secret', 'set-db-password', '--config', config], 'wrong-password');
    assert.equal(stored.code, 0, stored.stderr);
    const r = await inKeyringSession(otherHome, unlock, [CLI, 'status', '--config', config, '--json']);
    assert.equal(r.code, 1);
    assert.equal((JSON.parse(r.stdout) as { error: { code: string } }).error.code, 'E_DB_AUTH');
    assert.ok(!r.stdout.includes('wrong-password') && !r.stderr.includes('wrong-password'));
    fs.rmSync(otherHome, { recursive: true, force: true });
  });
});

function walk(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? walk(p) : e.isFile() ? [p] : [];
  });
}
