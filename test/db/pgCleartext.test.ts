/**
 * A server (or anything posing as one) that answers the startup message with AuthenticationCleartextPassword must not
 * receive the password: not over plain TCP, and not over TLS whose certificate nobody verified (sslmode=require).
 * The fake server is a real TCP server on 127.0.0.1 speaking the PostgreSQL startup protocol; it records every byte it
 * receives (after decryption, on the TLS path), and the test asserts the password is not among them.
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { after, describe, test } from 'node:test';
import { openDatabase } from '../../db/connection';
import { parseDbUrl } from '../../kernel/dbUrl';
import { LockstepError } from '../../contract/errors';
import { tempDir } from '../helpers/backends';
import { selfSignedCertificate } from '../feed/tlsCert';

const PASSWORD = 'Kl4rtext-Geheimnis-7731';
const SSL_REQUEST_CODE = 80877103;

interface FakeServer {
  port: number;
  /** Every byte each connection sent, in clear (decrypted on the TLS path). */
  received(): Buffer;
  close(): Promise<void>;
}

/** AuthenticationCleartextPassword: 'R', length 8, auth code 3. */
const TERMINATE = Buffer.from([0x58, 0, 0, 0, 4]);
const ASK_CLEARTEXT = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3]);

async function fakeServer(tlsIdentity: { key: string; cert: string } | null): Promise<FakeServer> {
  const chunks: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const speak = (sock: net.Socket | tls.TLSSocket): void => {
    // The first message after any TLS upgrade is the startup message; answer it with the clear-text request.
    let answered = false;
    sock.on('data', (d: Buffer) => {
      chunks.push(Buffer.from(d));
      if (!answered) {
        answered = true;
        sock.write(ASK_CLEARTEXT);
      }
    });
    sock.on('error', () => undefined);
  };
  const server = net.createServer((raw) => {
    sockets.add(raw);
    raw.on('close', () => sockets.delete(raw));
    raw.on('error', () => undefined);
    raw.once('data', (first: Buffer) => {
      chunks.push(Buffer.from(first));
      const isSslRequest = first.length >= 8 && first.readInt32BE(4) === SSL_REQUEST_CODE;
      if (!isSslRequest) {
        raw.write(ASK_CLEARTEXT);
        speak(raw);
        return;
      }
      if (!tlsIdentity) {
        raw.write('N');
        return;
      }
      raw.write('S');
      const secure = new tls.TLSSocket(raw, { isServer: true, key: tlsIdentity.key, cert: tlsIdentity.cert });
      speak(secure);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    received: () => Buffer.concat(chunks),
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function connectError(url: string): Promise<LockstepError> {
  try {
    const db = await openDatabase(parseDbUrl(url), { password: PASSWORD, connectTimeoutMs: 5_000 });
    await db.close();
  } catch (err) {
    assert.ok(err instanceof LockstepError, `a coded error, got ${String(err)}`);
    return err;
  }
  assert.fail('the connection to the fake server must not succeed');
}

describe('a server asking for a clear-text password', () => {
  const servers: FakeServer[] = [];
  after(async () => {
    for (const s of servers) await s.close();
  });

  test('over plain TCP: refused with E_DB_TLS, the password never leaves', async () => {
    const server = await fakeServer(null);
    servers.push(server);
    const err = await connectError(`postgres://alice@127.0.0.1:${server.port}/app?sslmode=disable`);
    assert.equal(err.code, 'E_DB_TLS');
    assert.match(err.message, /clear text/);
    assert.match(err.message, /not sent/);
    const got = server.received();
    assert.ok(got.includes(Buffer.from('alice')), 'the startup message arrived (the fake server did its part)');
    assert.ok(!got.includes(Buffer.from(PASSWORD)), 'the password bytes were never received');
    // After the startup message, at most a Terminate ('X'): no PasswordMessage ('p') of any content.
    const afterStartup = got.subarray(got.readInt32BE(0));
    assert.ok(afterStartup.length === 0 || afterStartup.equals(TERMINATE), `after the startup message only Terminate, got ${afterStartup.toString('hex')}`);
  });

  test('over TLS nobody verified (sslmode=require): refused, the password never leaves', async () => {
    const dir = tempDir('lockstep-fakepg-');
    const cert = selfSignedCertificate(dir, 'fake-postgres', 'IP:127.0.0.1');
    const server = await fakeServer(cert);
    servers.push(server);
    const err = await connectError(`postgres://alice@127.0.0.1:${server.port}/app?sslmode=require`);
    assert.equal(err.code, 'E_DB_TLS');
    assert.match(err.message, /clear text/);
    const got = server.received();
    assert.ok(got.includes(Buffer.from('alice')), 'the startup message arrived over TLS');
    assert.ok(!got.includes(Buffer.from(PASSWORD)), 'the password bytes were never received');
  });
});
