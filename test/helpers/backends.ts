/**
 * The shared-database suites run once per backend: SQLite always; PostgreSQL when LOCKSTEP_TEST_PG_URL names a role
 * that may create databases (.ci/run starts one); SQL Server when LOCKSTEP_TEST_MSSQL_URL is set. Each test gets a
 * fresh, empty database of its own and drops it afterwards.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import knexFactory from 'knex';
import { Db, openDatabase } from '../../db/connection';
import { migrateLatest } from '../../db/migrate';
import { parseDbUrl } from '../../kernel/dbUrl';

export interface Backend {
  name: 'sqlite' | 'postgres' | 'mssql';
  /** Creates an empty database and returns its URL (no password in it for SQLite; tests only for servers). */
  create(): Promise<TestDatabase>;
}

export interface TestDatabase {
  url: string;
  /** The URL as a config file would hold it (user but no password); with trust auth on 127.0.0.1 it connects as is. */
  configUrl: string;
  open(): Promise<Db>;
  drop(): Promise<void>;
}

export function tempDir(prefix = 'lockstep-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

const sqlite: Backend = {
  name: 'sqlite',
  async create() {
    const dir = tempDir('lockstep-sqlite-');
    const url = `sqlite:${path.join(dir, 'shared.db')}`;
    return {
      url,
      configUrl: url,
      open: () => openDatabase(parseDbUrl(url)),
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  },
};

function serverBackend(name: 'postgres' | 'mssql', adminUrl: string): Backend {
  return {
    name,
    async create() {
      const dbName = `lockstep_t_${randomBytes(6).toString('hex')}`;
      const admin = knexFactory({ client: name === 'postgres' ? 'pg' : 'mssql', connection: adminUrl, pool: { min: 0, max: 1 } });
      try {
        await admin.raw('create database ??', [dbName]);
      } finally {
        await admin.destroy();
      }
      const u = new URL(adminUrl);
      u.pathname = `/${dbName}`;
      const url = u.toString();
      const noPw = new URL(url);
      noPw.password = '';
      return {
        url,
        configUrl: noPw.toString(),
        open: () => openDatabase(parseDbUrl(url)),
        async drop() {
          const a = knexFactory({ client: name === 'postgres' ? 'pg' : 'mssql', connection: adminUrl, pool: { min: 0, max: 1 } });
          try {
            if (name === 'postgres') await dropPostgres(a, dbName);
            else await a.raw('drop database ??', [dbName]);
          } finally {
            await a.destroy();
          }
        },
      };
    },
  };
}

/**
 * `with (force)` ends the test's own sessions, but a non-superuser role may not end a server process it does not
 * own (an autovacuum worker on the fresh database: 42501), and one may still be starting (55006): those end by
 * themselves, so try again for a few seconds.
 */
async function dropPostgres(a: ReturnType<typeof knexFactory>, dbName: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await a.raw('drop database if exists ?? with (force)', [dbName]);
      return;
    } catch (err) {
      const code = (err as { code?: string }).code;
      if ((code !== '42501' && code !== '55006') || attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

export function backends(): Backend[] {
  const list: Backend[] = [sqlite];
  const pg = process.env['LOCKSTEP_TEST_PG_URL'];
  if (pg) list.push(serverBackend('postgres', pg));
  const ms = process.env['LOCKSTEP_TEST_MSSQL_URL'];
  if (ms) list.push(serverBackend('mssql', ms));
  return list;
}

export function pgBackend(): Backend | null {
  return backends().find((b) => b.name === 'postgres') ?? null;
}

/** A fresh database with the schema applied; close and drop it with the returned cleanup. */
export async function migratedDb(backend: Backend): Promise<{ db: Db; tdb: TestDatabase; cleanup: () => Promise<void> }> {
  const tdb = await backend.create();
  const db = await tdb.open();
  await migrateLatest(db);
  return {
    db,
    tdb,
    cleanup: async () => {
      await db.close();
      await tdb.drop();
    },
  };
}
