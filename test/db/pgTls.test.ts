/**
 * The link to a real PostgreSQL that speaks TLS only, with a CA and a server certificate made by openssl at test time
 * (test/helpers/tlsPostgres.ts: a second, throwaway cluster; the shared one stays untouched). The certificate is valid
 * for IP:127.0.0.1 only, so connecting by the name "localhost" is the wrong-host-name case. The role logs in with
 * `password` (clear text inside TLS): allowed over a verified certificate, refused over unverified TLS.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { openDatabase } from '../../db/connection';
import { parseDbUrl } from '../../kernel/dbUrl';
import { LockstepError } from '../../contract/errors';
import { openWorkstation } from '../../engine/workstation';
import { MemoryLogger } from '../../kernel/log';
import { tempDir } from '../helpers/backends';
import { TlsPostgres, startTlsPostgres } from '../helpers/tlsPostgres';
import { MemorySecrets } from '../feed/fixture';

describe('PostgreSQL over TLS (a throwaway cluster with a test CA)', () => {
  let pg: TlsPostgres;
  before(async () => {
    pg = await startTlsPostgres({ subjectAltName: 'IP:127.0.0.1', auth: 'password' });
  });
  after(async () => {
    await pg?.stop();
  });

  const url = (host: string, query: string): string => `postgres://${pg.user}@${host}:${pg.port}/${pg.database}?${query}`;

  async function connect(u: string, caFile?: string): Promise<{ ssl: boolean; user: string }> {
    const db = await openDatabase(parseDbUrl(u), { password: pg.password, caFile, connectTimeoutMs: 10_000 });
    try {
      const r = await db.knex.raw('select s.ssl, current_user as "user" from pg_stat_ssl s where s.pid = pg_backend_pid()');
      return (r as { rows: Array<{ ssl: boolean; user: string }> }).rows[0]!;
    } finally {
      await db.close();
    }
  }

  async function refusal(u: string, caFile?: string): Promise<LockstepError> {
    try {
      await connect(u, caFile);
    } catch (err) {
      assert.ok(err instanceof LockstepError, `a coded error, got ${String(err)}`);
      return err;
    }
    assert.fail(`${u} must be refused`);
  }

  test('verify-full with the CA from the machine config: connected, encrypted, logged in', async () => {
    assert.deepEqual(await connect(url('127.0.0.1', 'sslmode=verify-full'), pg.caFile), { ssl: true, user: pg.user });
  });

  test('verify-full with a host name the certificate does not name: refused (E_DB_TLS)', async () => {
    const err = await refusal(url('localhost', 'sslmode=verify-full'), pg.caFile);
    assert.equal(err.code, 'E_DB_TLS');
    assert.match(err.message, /ERR_TLS_CERT_ALTNAME_INVALID/);
  });

  test('verify-ca checks the chain only: the same wrong host name connects', async () => {
    assert.deepEqual(await connect(url('localhost', 'sslmode=verify-ca'), pg.caFile), { ssl: true, user: pg.user });
  });

  test('verify-full and verify-ca without the right CA: refused (E_DB_TLS), never "trust anything"', async () => {
    // Refused by the certificate check itself, in the handshake: not merely by the clear-text guard afterwards.
    for (const mode of ['verify-full', 'verify-ca']) {
      for (const [caFile, what] of [[undefined, 'system CAs only'], [pg.otherCaFile, 'an unrelated CA']] as const) {
        const err = await refusal(url('127.0.0.1', `sslmode=${mode}`), caFile);
        assert.equal(err.code, 'E_DB_TLS', `${mode}, ${what}`);
        assert.match(err.message, /failed the TLS check: (SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/, `${mode}, ${what}`);
      }
    }
  });

  test('require (encrypted, nobody checked who answers): the clear-text password is not sent (E_DB_TLS)', async () => {
    const err = await refusal(url('127.0.0.1', 'sslmode=require'), pg.caFile);
    assert.equal(err.code, 'E_DB_TLS');
    assert.match(err.message, /clear text/);
  });

  test('loopback without sslmode goes without TLS, which this TLS-only server refuses (E_DB_AUTH)', async () => {
    const err = await refusal(`postgres://${pg.user}@127.0.0.1:${pg.port}/${pg.database}`, pg.caFile);
    assert.equal(err.code, 'E_DB_AUTH');
  });

  test('through the machine config: database.caFile relative to the config file, password from the keychain', async () => {
    const dir = tempDir('lockstep-tlscfg-');
    fs.mkdirSync(path.join(dir, 'certs'));
    fs.copyFileSync(pg.caFile, path.join(dir, 'certs', 'db-ca.pem'));
    const configFile = path.join(dir, 'lockstep.machine.json');
    fs.writeFileSync(configFile, JSON.stringify({ installDir: 'app', database: { url: url('127.0.0.1', 'sslmode=verify-full'), caFile: 'certs/db-ca.pem' }, workstation: { id: 'tls-ws' } }));
    const secrets = new MemorySecrets();
    await secrets.set(`db:postgres://${pg.user}@127.0.0.1:${pg.port}/${pg.database}`, pg.password);
    const ws = await openWorkstation(configFile, { host: { platform: 'linux', defaultLogDir: path.join(dir, 'logs'), secrets }, logger: new MemoryLogger() });
    try {
      const r = await ws.db.knex.raw('select ssl from pg_stat_ssl where pid = pg_backend_pid()');
      assert.equal((r as { rows: Array<{ ssl: boolean }> }).rows[0]!.ssl, true);
      assert.equal(ws.config.database.caFile, path.join(dir, 'certs', 'db-ca.pem'));
    } finally {
      await ws.close();
    }
  });
});
