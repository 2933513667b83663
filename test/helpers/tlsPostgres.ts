/**
 * A second, throwaway PostgreSQL cluster that speaks TLS only, for the database-link tests. The shared test cluster
 * (127.0.0.1:5432) runs without TLS and must stay as it is, so this one lives in a temporary folder on a free port:
 * initdb as the postgres user, a CA and a server certificate made with openssl at test time, `hostssl` lines only, and
 * one login role with a password. stop() ends the server and removes the folder; call it from after().
 *
 * Needs root (to run the server as postgres), the PostgreSQL server binaries (Debian: postgresql) and openssl.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export interface TlsPostgres {
  port: number;
  /** PEM file of the CA that signed the server certificate (what IT names in database.caFile). */
  caFile: string;
  /** A CA that did not sign anything this server presents. */
  otherCaFile: string;
  /** The login role, its password, and the database it may use. */
  user: string;
  password: string;
  database: string;
  stop(): Promise<void>;
}

export function postgresBinDir(): string | null {
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return null;
  const versions = fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb')));
  versions.sort((a, b) => Number(b) - Number(a));
  return versions.length ? path.join(root, versions[0]!, 'bin') : null;
}

function run(cmd: string, args: string[], input?: string): string {
  const r = spawnSync(cmd, args, { input, encoding: 'utf8', timeout: 60_000 });
  if (r.error || r.status !== 0) throw new Error(`${cmd} ${args.slice(0, 4).join(' ')} failed: ${r.error?.message ?? ''} ${r.stderr}`);
  return r.stdout;
}

function asPostgres(cmd: string, args: string[], input?: string): string {
  return run('runuser', ['-u', 'postgres', '--', cmd, ...args], input);
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function makeCa(dir: string, name: string): { key: string; cert: string } {
  const key = path.join(dir, `${name}.key`);
  const cert = path.join(dir, `${name}.pem`);
  run('openssl', ['req', '-x509', ...EC, '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  return { key, cert };
}

/** A server certificate signed by `ca`, valid for exactly `subjectAltName` (e.g. "IP:127.0.0.1"). */
function makeServerCert(dir: string, ca: { key: string; cert: string }, subjectAltName: string): { key: string; cert: string } {
  const key = path.join(dir, 'server.key');
  const csr = path.join(dir, 'server.csr');
  const cert = path.join(dir, 'server.pem');
  const ext = path.join(dir, 'server.ext');
  fs.writeFileSync(ext, `subjectAltName=${subjectAltName}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
  run('openssl', ['req', ...EC, '-keyout', key, '-out', csr, '-subj', '/CN=lockstep-test-postgres']);
  run('openssl', ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext]);
  return { key, cert };
}

/**
 * Starts the cluster. `auth` is the hba method for the role over TLS: `password` (clear text, inside TLS) or
 * `scram-sha-256`. Only `hostssl` lines exist, so a connection without TLS is refused by the server itself.
 */
export async function startTlsPostgres(o: { subjectAltName: string; auth: 'password' | 'scram-sha-256' }): Promise<TlsPostgres> {
  const bin = postgresBinDir();
  if (!bin) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-tlspg-'));
  const data = path.join(dir, 'data');
  const certs = path.join(dir, 'certs');
  fs.mkdirSync(certs);
  let started = false;
  const stop = async (): Promise<void> => {
    if (started) spawnSync('runuser', ['-u', 'postgres', '--', path.join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop'], { timeout: 60_000 });
    started = false;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    const ca = makeCa(certs, 'lockstep-test-ca');
    const otherCa = makeCa(certs, 'unrelated-ca');
    const server = makeServerCert(certs, ca, o.subjectAltName);
    run('chown', ['-R', 'postgres:postgres', dir]);
    fs.chmodSync(server.key, 0o600);
    asPostgres(path.join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '--auth-local=trust', '--auth-host=reject', '-E', 'UTF8', '--no-sync']);
    const user = 'lockstep_tls';
    const password = `pw-${process.pid}-${Date.now().toString(36)}`;
    fs.writeFileSync(path.join(data, 'pg_hba.conf'), `local all postgres trust\nhostssl all ${user} 127.0.0.1/32 ${o.auth}\n`);
    const port = await freePort();
    const settings = [
      `port=${port}`,
      "listen_addresses='127.0.0.1'",
      `unix_socket_directories='${dir}'`,
      'ssl=on',
      `ssl_cert_file='${server.cert}'`,
      `ssl_key_file='${server.key}'`,
      'password_encryption=scram-sha-256',
      'max_connections=20',
      'shared_buffers=16MB',
      'fsync=off',
    ];
    fs.appendFileSync(path.join(data, 'postgresql.conf'), `\n${settings.join('\n')}\n`);
    asPostgres(path.join(bin, 'pg_ctl'), ['-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '30', 'start']);
    started = true;
    // The password travels on stdin, never on a command line.
    asPostgres(path.join(bin, 'psql'), ['-h', dir, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-q', '-f', '-'], `create role ${user} login password '${password}';\n`);
    return { port, caFile: ca.cert, otherCaFile: otherCa.cert, user, password, database: 'postgres', stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
