/**
 * The database server's clock, for every timestamp the fleet shares (leases, heartbeats, release stamps, audit rows).
 * A workstation's own clock may run days off; the server's is one clock for everyone, so a lease written by a
 * workstation two days fast still expires after the normal lease time, and the registry never shows starts in the
 * future.
 *
 * Each dialect keeps timestamps its own way: PostgreSQL `timestamptz` (an instant), SQL Server `datetime2` holding UTC
 * (the driver writes and reads UTC), SQLite text in JavaScript's ISO form (`2026-11-30T18:42:05.123Z`), compared as
 * text. The SQLite expression produces exactly that form so that old and new rows compare correctly. (SQLite has no
 * server: its "now" is the clock of the machine that runs the statement, which is the one machine sharing the file.)
 */
import type { Knex } from 'knex';

import { DbDialect } from '../kernel/dbUrl';

type Dialect = DbDialect;

/** knex's own name for the client behind a handle or a transaction. */
export function dialectOf(q: Knex | Knex.Transaction): Dialect {
  const name = (q as unknown as { client: { dialect: string } }).client.dialect;
  if (name === 'postgresql') return 'postgres';
  if (name === 'mssql') return 'mssql';
  if (name === 'sqlite3' || name === 'better-sqlite3') return 'sqlite';
  throw new Error(`No server clock for the "${name}" database client.`);
}

/** The server's current time as SQL text without bindings (for the gate's prepared statements). */
export function serverNowSql(dialect: Dialect): string {
  switch (dialect) {
    case 'postgres':
      return 'current_timestamp';
    case 'mssql':
      return 'SYSUTCDATETIME()'; // datetime2 columns hold UTC; CURRENT_TIMESTAMP would be the server's local time
    case 'sqlite':
      return "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";
  }
}

export function serverNow(q: Knex | Knex.Transaction): Knex.Raw {
  return q.raw(serverNowSql(dialectOf(q)));
}

/** The server's time `ms` milliseconds from now (negative: in the past); the offset travels as a binding. */
export function serverNowPlus(q: Knex | Knex.Transaction, ms: number): Knex.Raw {
  const offsetMs = Math.trunc(ms);
  switch (dialectOf(q)) {
    case 'postgres':
      return q.raw('current_timestamp + make_interval(secs => ?)', [offsetMs / 1000]);
    case 'mssql':
      return q.raw('DATEADD(millisecond, ?, SYSUTCDATETIME())', [offsetMs]);
    case 'sqlite':
      return q.raw("strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)", [`${(offsetMs / 1000).toFixed(3)} seconds`]);
  }
}
