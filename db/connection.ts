/**
 * Opens the shared database through knex, from a parsed URL. Every query in Lockstep goes through this handle with
 * bindings. SQLite runs in WAL mode with a busy timeout, because several workstation processes share one file.
 */
import knexFactory, { Knex } from 'knex';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mapDbError } from './errors';
import { GuardedPgDialect } from './pgClient';
import { effectiveSslMode } from '../kernel/dbSslMode';
import { pgSslOptions, readCaFile } from './tls';
import { DbDialect, DbTarget } from '../kernel/dbUrl';

export interface Db {
  readonly knex: Knex;
  readonly dialect: DbDialect;
  readonly target: DbTarget;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** The password from the OS keychain; never from a file. */
  password?: string | null;
  /** How long to wait for a connection before E_DB_UNREACHABLE. */
  connectTimeoutMs?: number;
  poolMax?: number;
  /** CA certificates (PEM file) that verify the server's certificate; from the machine config (database.caFile). */
  caFile?: string;
}

/**
 * knex prints pool and deprecation warnings to the console by itself; the CLI's stdout must stay one JSON document,
 * and every failure reaches the caller as a coded error anyway, so knex's own console output is dropped.
 */
const quietKnexLog = { warn: () => undefined, error: () => undefined, deprecate: () => undefined, debug: () => undefined };

export function knexConfigFor(target: DbTarget, options: OpenOptions = {}): Knex.Config {
  return { ...dialectConfig(target, options), log: quietKnexLog };
}

function dialectConfig(target: DbTarget, options: OpenOptions): Knex.Config {
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  switch (target.dialect) {
    case 'sqlite':
      return {
        client: 'better-sqlite3',
        useNullAsDefault: true,
        connection: { filename: target.file },
        pool: {
          min: 1,
          max: 1,
          afterCreate(conn: { pragma(sql: string): unknown }, done: (err: Error | null, conn: unknown) => void) {
            try {
              conn.pragma('journal_mode = WAL');
              conn.pragma('synchronous = NORMAL');
              conn.pragma('busy_timeout = 15000');
              conn.pragma('foreign_keys = ON');
              done(null, conn);
            } catch (err) {
              done(err as Error, conn);
            }
          },
        },
      };
    case 'postgres':
      return {
        client: GuardedPgDialect as unknown as typeof Knex.Client,
        connection: {
          host: target.host,
          port: target.port,
          database: target.database,
          user: target.user ?? undefined,
          password: options.password ?? target.password ?? undefined,
          connectionTimeoutMillis: connectTimeoutMs,
          application_name: 'lockstep',
          ssl: pgSslOptions(effectiveSslMode(target.host, target.options['sslmode']), readCaFile(options.caFile)),
        },
        pool: { min: 0, max: options.poolMax ?? 4 },
        acquireConnectionTimeout: connectTimeoutMs + 2_000,
      };
    case 'mssql':
      return {
        client: 'mssql',
        connection: {
          server: target.host,
          port: target.port,
          database: target.database,
          user: target.user ?? undefined,
          password: options.password ?? target.password ?? undefined,
          connectionTimeout: connectTimeoutMs,
          // Encrypted and verified unless the URL says otherwise in so many words.
          options: {
            encrypt: target.options['encrypt'] !== 'false',
            trustServerCertificate: target.options['trustServerCertificate'] === 'true',
            ...mssqlCa(readCaFile(options.caFile)),
          },
        },
        pool: { min: 0, max: options.poolMax ?? 4 },
        acquireConnectionTimeout: connectTimeoutMs + 2_000,
      };
  }
}

function mssqlCa(ca: string | undefined): { cryptoCredentialsDetails?: { ca: string } } {
  return ca ? { cryptoCredentialsDetails: { ca } } : {};
}

export async function openDatabase(target: DbTarget, options: OpenOptions = {}): Promise<Db> {
  if (target.dialect === 'sqlite' && target.file !== ':memory:') {
    // better-sqlite3 creates the file but not its folder; a missing folder is a configuration error worth naming.
    if (!fs.existsSync(path.dirname(target.file))) {
      throw mapDbError(Object.assign(new Error(`folder ${path.dirname(target.file)} does not exist`), { code: 'SQLITE_CANTOPEN' }), target);
    }
  }
  const knex = knexFactory(knexConfigFor(target, options));
  const db: Db = { knex, dialect: target.dialect, target, close: () => knex.destroy() };
  try {
    await knex.raw('select 1 as one');
  } catch (err) {
    await knex.destroy().catch(() => undefined);
    throw mapDbError(err, target);
  }
  return db;
}
