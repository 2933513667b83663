/**
 * A database's client-side schema and rows as plain data, the same on SQLite and PostgreSQL: every table that is not
 * Lockstep's (or knex's) with its columns (name, type, nullable) and all its rows ordered by id. Two dumps compare
 * with deepEqual: "the database is unchanged" means exactly that.
 */
import type { Knex } from 'knex';

export interface Dump {
  tables: Record<string, { columns: Record<string, { type: string; nullable: boolean }>; rows: unknown[] }>;
}

async function clientTables(knex: Knex): Promise<string[]> {
  const names: string[] =
    knex.client.dialect === 'postgresql'
      ? (await knex('information_schema.tables').where({ table_schema: 'public' }).select('table_name as name')).map((r: { name: string }) => r.name)
      : (await knex('sqlite_master').where({ type: 'table' }).select('name')).map((r: { name: string }) => r.name);
  return names.filter((n) => !n.startsWith('lockstep_') && !n.startsWith('knex_') && !n.startsWith('sqlite_')).sort();
}

export async function dumpClientSchema(knex: Knex): Promise<Dump> {
  const dump: Dump = { tables: {} };
  for (const table of await clientTables(knex)) {
    const info = await knex(table).columnInfo();
    const columns: Dump['tables'][string]['columns'] = {};
    for (const name of Object.keys(info).sort()) columns[name] = { type: String(info[name]!.type).toLowerCase(), nullable: Boolean(info[name]!.nullable) };
    const rows = (await knex(table).select('*').orderBy('id')).map((r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' || k === 'id' ? Number(v) : v])));
    dump.tables[table] = { columns, rows };
  }
  return dump;
}
