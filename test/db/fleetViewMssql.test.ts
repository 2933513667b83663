/**
 * The fleet view's migration and its statements compiled with knex's mssql dialect (no SQL Server runs here): the
 * result code, retired_at and retired_by columns with SQL Server types, the retire update on the server clock (UTC).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import knexFactory, { Knex } from 'knex';
import * as fleetView from '../../db/migrations/20261130_0030_fleet_view';
import { MIGRATIONS } from '../../db/migrations';
import { serverNow } from '../../db/serverTime';

const mssql = knexFactory({ client: 'mssql' });

async function compile(fn: (k: Knex) => Promise<void>): Promise<string> {
  const collected: Array<{ toString(): string }> = [];
  const schema = new Proxy({}, { get: (_t, method: string) => (...args: unknown[]) => {
    collected.push((mssql.schema as unknown as Record<string, (...a: unknown[]) => { toString(): string }>)[method]!(...args));
    return Promise.resolve();
  } });
  await fn(new Proxy(mssql, { get: (t, p) => (p === 'schema' ? schema : (t as unknown as Record<string | symbol, unknown>)[p]) }) as Knex);
  return collected.map((b) => b.toString()).join(';\n');
}

test('the fleet view migration compiles to T-SQL with SQL Server types', async () => {
  assert.ok(MIGRATIONS.some((m) => m.name === fleetView.name), 'registered in the in-code migration source');
  const up = await compile(fleetView.up);
  assert.match(up, /alter table \[lockstep_workstations\] add \[last_result_code\] nvarchar\(64\) null, \[retired_at\] datetime2 null, \[retired_by\] nvarchar\(255\) null/i);
  assert.doesNotMatch(up, /\b(text|blob|timestamptz|varchar\()/i);
  const down = await compile(fleetView.down);
  assert.match(down, /\[retired_by\]/);
  assert.match(down, /\[last_result_code\]/);
  const retire = mssql('lockstep_workstations').where({ workstation_id: 'ws-1' }).update({ retired_at: serverNow(mssql), retired_by: 'root' }).toSQL().toNative();
  assert.match(retire.sql, /\[retired_at\] = SYSUTCDATETIME\(\)/);
  assert.deepEqual(retire.bindings, ['root', 'ws-1']);
});
