/**
 * node-postgres answers a server's AuthenticationCleartextPassword request by sending the password as it is. Any
 * server — or anything that poses as one on the network — can ask for that, so Lockstep sends a clear-text password
 * only over TLS whose certificate was verified (sslmode verify-ca or verify-full); otherwise the connection ends before
 * a single byte of the password leaves. MD5 and SCRAM logins are unaffected: they never put the password on the wire.
 *
 * The seam is pg's own handler for that message, reached through a knex dialect whose driver hands out this client.
 */
import { createRequire } from 'node:module';
import { TLSSocket } from 'node:tls';
import pg from 'pg';
import type { Knex } from 'knex';
import { LockstepError } from '../contract/errors';

type PgClientInternals = {
  connection: { stream: unknown; emit(event: 'error', err: Error): boolean; end(): void };
  host: string;
  port: number;
  _handleAuthCleartextPassword(msg: unknown): void;
};

/** True only for a TLS channel whose certificate chain (and host name, where asked) Node verified. */
function verifiedTls(stream: unknown): boolean {
  return stream instanceof TLSSocket && stream.encrypted && stream.authorized;
}

const PgClient = pg.Client as unknown as new (config: unknown) => PgClientInternals;

class CleartextGuardedClient extends PgClient {
  override _handleAuthCleartextPassword(msg: unknown): void {
    if (verifiedTls(this.connection.stream)) {
      super._handleAuthCleartextPassword(msg);
      return;
    }
    const err = new LockstepError(
      'E_DB_TLS',
      `The database server ${this.host}:${this.port} asked for the password in clear text over a connection without a verified certificate; it was not sent. Use sslmode=verify-full (with database.caFile) or have the server use scram-sha-256.`,
      { host: this.host, port: this.port },
    );
    this.connection.emit('error', err);
    this.connection.end();
  }
}

if (typeof (pg.Client.prototype as unknown as Partial<PgClientInternals>)._handleAuthCleartextPassword !== 'function') {
  // A pg upgrade that renamed the handler would silently bring back clear-text passwords: refuse to load instead.
  throw new Error('node-postgres no longer has _handleAuthCleartextPassword: db/pgClient.ts must be adapted');
}

/** pg with the guarded client in place of its own; everything else (types, defaults) is pg's. */
const guardedPg: typeof pg = Object.create(pg, { Client: { value: CleartextGuardedClient, enumerable: true } });

// knex exports no typed handle on its PostgreSQL dialect class; it is the same class `client: 'pg'` selects.
const knexPgDialect = createRequire(require.resolve('knex'))('./lib/dialects/postgres') as new (config: Knex.Config) => { _driver(): unknown };

/** The knex `client` for PostgreSQL: knex's own dialect, driving the guarded client. */
export class GuardedPgDialect extends knexPgDialect {
  override _driver(): typeof pg {
    return guardedPg;
  }
}
