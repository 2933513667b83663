/**
 * A hot read through a statement prepared once per connection. knex has every statement parsed and planned anew; for
 * the start-up gate's read (joins and sub-selects) that cost several times the query itself: SQLite's prepare, and
 * PostgreSQL's parse and plan of an unnamed statement. Here the statement runs on knex's own pooled connection with
 * its values bound, as any knex query would — on SQLite as a cached better-sqlite3 statement, on PostgreSQL as a
 * named statement (named after a hash of its text, so a changed text is a new statement, never a stale one). Other
 * databases go through knex.raw.
 */
import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { Db } from './connection';

interface SqliteConnection {
  prepare(sql: string): { all(...bindings: unknown[]): unknown[] };
}

interface PgConnection {
  query(config: { name: string; text: string; values: readonly unknown[] }): Promise<{ rows: unknown[] }>;
}

type Pool<C> = { acquireConnection(): Promise<C>; releaseConnection(c: C): Promise<unknown> };

const sqliteStatements = new WeakMap<object, Map<string, { all(...bindings: unknown[]): unknown[] }>>();
const pgTexts = new Map<string, { name: string; text: string }>();

async function onPooled<C, T>(knex: Knex, fn: (connection: C) => Promise<T> | T): Promise<T> {
  const pool = knex.client as Pool<C>;
  const connection = await pool.acquireConnection();
  try {
    return await fn(connection);
  } finally {
    await pool.releaseConnection(connection);
  }
}

/** Rows of `sql` (a constant text with ? placeholders) with `bindings`. */
export async function preparedRows<T>(db: Db, sql: string, bindings: readonly unknown[]): Promise<T[]> {
  if (db.dialect === 'sqlite') {
    return onPooled<SqliteConnection, T[]>(db.knex, (connection) => {
      let statements = sqliteStatements.get(connection);
      if (!statements) sqliteStatements.set(connection, (statements = new Map()));
      let statement = statements.get(sql);
      if (!statement) statements.set(sql, (statement = connection.prepare(sql)));
      return statement.all(...bindings) as T[];
    });
  }
  if (db.dialect === 'postgres') {
    let named = pgTexts.get(sql);
    if (!named) {
      // knex turns the ? placeholders into $1…$n (the text does not depend on the values bound).
      const text = db.knex.raw(sql, bindings as Knex.RawBinding[]).toSQL().toNative().sql;
      pgTexts.set(sql, (named = { name: `lockstep_${createHash('sha256').update(text).digest('hex').slice(0, 24)}`, text }));
    }
    const { name, text } = named;
    return onPooled<PgConnection, T[]>(db.knex, async (connection) => (await connection.query({ name, text, values: bindings })).rows as T[]);
  }
  const result = (await db.knex.raw(sql, bindings as Knex.RawBinding[])) as unknown;
  return (Array.isArray(result) ? result : ((result as { rows?: T[] }).rows ?? [])) as T[];
}
