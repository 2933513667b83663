/**
 * What the database URL and the machine config decide about the link, before any server is involved: the TLS mode
 * and its node-postgres / tedious options, secrets anywhere in the URL refused as E_CONFIG_SECRET (never echoed), and a
 * server without password authentication that needs no keyring (database.passwordFromKeychain: false).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { knexConfigFor } from '../../db/connection';
import { effectiveSslMode, isLoopbackHost } from '../../kernel/dbSslMode';
import { parseDbUrl, redactUrl } from '../../kernel/dbUrl';
import { LockstepError } from '../../contract/errors';
import { loadMachineConfig } from '../../kernel/config';
import { MemoryLogger } from '../../kernel/log';
import { SecretStore } from '../../engine/secrets';
import { openWorkstation } from '../../engine/workstation';
import { tempDir } from '../helpers/backends';

type PgConnection = { ssl: false | { rejectUnauthorized: boolean; ca?: string; checkServerIdentity?: unknown } };
type MssqlConnection = { options: { encrypt: boolean; trustServerCertificate: boolean; cryptoCredentialsDetails?: { ca: string } } };

function pgSsl(url: string, caFile?: string): PgConnection['ssl'] {
  return (knexConfigFor(parseDbUrl(url), { caFile }).connection as PgConnection).ssl;
}

function thrown(fn: () => unknown): LockstepError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof LockstepError, String(err));
    return err;
  }
  assert.fail('expected a coded error');
}

describe('TLS mode of the PostgreSQL link', () => {
  test('a server on another machine defaults to verify-full: chain and host name checked', () => {
    for (const host of ['db.corp.example', '10.0.0.5', '[fd00::5]', '127.example.com']) {
      assert.equal(effectiveSslMode(host.replace(/^\[|\]$/g, ''), undefined), 'verify-full', host);
      const ssl = pgSsl(`postgres://app@${host}:5432/lockstep`);
      assert.ok(ssl, host);
      assert.equal(ssl.rejectUnauthorized, true, host);
      assert.equal(ssl.checkServerIdentity, undefined, `${host}: Node's own host name check stays`);
    }
  });

  test('loopback defaults to no TLS unless the URL asks', () => {
    for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '::1']) assert.equal(isLoopbackHost(host), true, host);
    assert.equal(pgSsl('postgres://app@127.0.0.1/lockstep'), false);
    assert.equal(pgSsl('postgres://app@[::1]/lockstep'), false);
    assert.ok(pgSsl('postgres://app@127.0.0.1/lockstep?sslmode=verify-full'));
  });

  test('each mode maps to the right node-postgres options; the CA comes from the file the config names', () => {
    const dir = tempDir('lockstep-dblink-');
    const caFile = path.join(dir, 'ca.pem');
    fs.writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n');
    const base = 'postgres://app@db.corp.example/lockstep?sslmode=';
    assert.equal(pgSsl(`${base}disable`, caFile), false);
    assert.deepEqual(pgSsl(`${base}require`, caFile), { rejectUnauthorized: false });
    const full = pgSsl(`${base}verify-full`, caFile);
    assert.ok(full);
    assert.deepEqual([full.rejectUnauthorized, full.ca, full.checkServerIdentity], [true, fs.readFileSync(caFile, 'utf8'), undefined]);
    const ca = pgSsl(`${base}verify-ca`, caFile);
    assert.ok(ca && typeof ca.checkServerIdentity === 'function');
    assert.deepEqual([ca.rejectUnauthorized, ca.ca, (ca.checkServerIdentity as () => unknown)()], [true, fs.readFileSync(caFile, 'utf8'), undefined]);
    const missing = thrown(() => pgSsl(`${base}verify-full`, path.join(dir, 'absent.pem')));
    assert.equal(missing.code, 'E_CONFIG_INVALID');
    assert.match(missing.message, /database\.caFile/);
  });

  test('a mode that could silently fall back to clear text (prefer, allow) or a typo is refused', () => {
    for (const mode of ['prefer', 'allow', 'verify_full', 'VERIFY-FULL', '']) {
      assert.equal(thrown(() => parseDbUrl(`postgres://app@db.corp.example/lockstep?sslmode=${mode}`)).code, 'E_DB_URL_INVALID', mode);
    }
  });

  test('SQL Server: encrypted and verified by default, the CA file passed to tedious', () => {
    const dir = tempDir('lockstep-dblink-');
    const caFile = path.join(dir, 'ca.pem');
    fs.writeFileSync(caFile, 'CA');
    const opts = (url: string, ca?: string): MssqlConnection['options'] => (knexConfigFor(parseDbUrl(url), { caFile: ca }).connection as MssqlConnection).options;
    assert.deepEqual(opts('mssql://app@sql.corp.example/lockstep'), { encrypt: true, trustServerCertificate: false });
    assert.deepEqual(opts('mssql://app@sql.corp.example/lockstep', caFile), { encrypt: true, trustServerCertificate: false, cryptoCredentialsDetails: { ca: 'CA' } });
  });
});

describe('a password anywhere in the database URL', () => {
  const SECRET = 'Qu3ryS3cret';
  const urls = [
    `postgres://app@db.corp.example/lockstep?password=${SECRET}`,
    `postgres://app@db.corp.example/lockstep?sslmode=verify-full&PASSWORD=${SECRET}`,
    `postgres://app@db.corp.example/lockstep?pass%77ord=${SECRET}`,
    `postgres://app@db.corp.example/lockstep?sslpassword=${SECRET}`,
    `mssql://app@sql.corp.example/lockstep?Pwd=${SECRET}`,
    `Server=sql.corp.example;Database=lockstep;User Id=app;Password=${SECRET};`,
    `postgres://app:${SECRET}@db.corp.example/lockstep`,
  ];

  test('is refused in the machine config with E_CONFIG_SECRET, and the secret is not echoed', () => {
    const dir = tempDir('lockstep-dblink-');
    for (const url of urls) {
      const file = path.join(dir, 'lockstep.machine.json');
      fs.writeFileSync(file, JSON.stringify({ installDir: 'app', database: { url } }));
      const err = thrown(() => loadMachineConfig(file));
      assert.equal(err.code, 'E_CONFIG_SECRET', url);
      assert.ok(!JSON.stringify(err.toInfo()).includes(SECRET), `${url}: not echoed`);
      assert.ok(!redactUrl(url).includes(SECRET), `${url}: redacted for logs`);
    }
  });

  test('URLs without one still load (no false alarm on names that merely contain the letters)', () => {
    const dir = tempDir('lockstep-dblink-');
    for (const url of ['postgres://passport@db.corp.example/passwords?sslmode=verify-full', 'sqlite:data/pass=1.db', 'mssql://app@sql.corp.example/lockstep?encrypt=true']) {
      const file = path.join(dir, 'lockstep.machine.json');
      fs.writeFileSync(file, JSON.stringify({ installDir: 'app', database: { url } }));
      assert.equal(loadMachineConfig(file).database.url, url);
    }
  });
});

/** A keychain that must not be touched: any call is recorded and fails like a machine without a keyring service. */
class UntouchableKeychain implements SecretStore {
  readonly calls: string[] = [];
  private refuse(what: string): never {
    this.calls.push(what);
    throw new LockstepError('E_KEYRING_UNAVAILABLE', 'no keyring service on this machine');
  }
  async get(account: string): Promise<string | null> {
    return this.refuse(`get ${account}`);
  }
  async set(account: string): Promise<void> {
    return this.refuse(`set ${account}`);
  }
  async delete(account: string): Promise<boolean> {
    return this.refuse(`delete ${account}`);
  }
}

const pgUrl = process.env['LOCKSTEP_TEST_PG_URL'];

describe('a server without password authentication', { skip: pgUrl ? false : 'LOCKSTEP_TEST_PG_URL is not set' }, () => {
  async function open(passwordFromKeychain: boolean | undefined): Promise<{ keychain: UntouchableKeychain; error: LockstepError | null }> {
    const dir = tempDir('lockstep-nokeyring-');
    const configFile = path.join(dir, 'lockstep.machine.json');
    const database = passwordFromKeychain === undefined ? { url: pgUrl } : { url: pgUrl, passwordFromKeychain };
    fs.writeFileSync(configFile, JSON.stringify({ installDir: 'app', database, workstation: { id: 'no-keyring' } }));
    const keychain = new UntouchableKeychain();
    try {
      const ws = await openWorkstation(configFile, { host: { platform: 'linux', defaultLogDir: path.join(dir, 'logs'), secrets: keychain }, logger: new MemoryLogger() });
      await ws.db.knex.raw('select 1 as one');
      await ws.close();
      return { keychain, error: null };
    } catch (err) {
      assert.ok(err instanceof LockstepError, String(err));
      return { keychain, error: err };
    }
  }

  test('passwordFromKeychain: false opens the database without ever touching the keychain', async () => {
    const { keychain, error } = await open(false);
    assert.equal(error, null);
    assert.deepEqual(keychain.calls, []);
  });

  test('by default a URL naming a user reads the keychain (so the switch above is what spares it)', async () => {
    const { keychain, error } = await open(undefined);
    assert.equal(error?.code, 'E_KEYRING_UNAVAILABLE');
    assert.equal(keychain.calls.length, 1);
    assert.match(keychain.calls[0]!, /^get db:postgres:\/\//);
  });
});
