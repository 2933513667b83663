/**
 * No SQL Server can run on these machines, so every migration and the gate's main query are compiled with knex's
 * mssql dialect and the T-SQL is checked for the types SQL Server needs. The live suite runs against a real server
 * when LOCKSTEP_TEST_MSSQL_URL is set (test/helpers/backends.ts).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import knexFactory, { Knex } from 'knex';
import { MIGRATIONS } from '../../db/migrations';
import { heartbeatBindings, heartbeatSql, snapshotBindings, snapshotSql } from '../../db/gateQueries';
import { serverNow, serverNowPlus } from '../../db/serverTime';
import { MAX_CATALOG_CHARS, cappedTextSql, textLengthSql } from '../../db/textCap';

const mssql = knexFactory({ client: 'mssql' });

/** Runs a migration's `up` against a knex whose schema builders are collected instead of executed. */
async function compileMigration(up: (k: Knex) => Promise<void>): Promise<string> {
  const collected: Array<{ toString(): string }> = [];
  const schemaProxy = new Proxy(
    {},
    {
      get(_t, method: string) {
        return (...args: unknown[]) => {
          const builder = (mssql.schema as unknown as Record<string, (...a: unknown[]) => { toString(): string }>)[method]!(...args);
          collected.push(builder);
          return Promise.resolve();
        };
      },
    },
  );
  const k = new Proxy(mssql, { get: (t, p) => (p === 'schema' ? schemaProxy : (t as unknown as Record<string | symbol, unknown>)[p]) }) as Knex;
  await up(k);
  return collected.map((b) => b.toString()).join(';\n');
}

describe('T-SQL for SQL Server (mssql dialect)', () => {
  test('every migration compiles to T-SQL with SQL Server types', async () => {
    const sql: Record<string, string> = {};
    for (const m of MIGRATIONS) sql[m.name] = await compileMigration(m.up);
    const all = Object.values(sql).join('\n');
    // Text is Unicode (nvarchar), binary package chunks are varbinary(max), timestamps datetime2, ids identity.
    assert.match(sql['20261121_0001_releases']!, /\[version\] nvarchar\(64\) not null/);
    assert.match(sql['20261121_0001_releases']!, /\[manifest\] nvarchar\(max\)/);
    assert.match(sql['20261121_0001_releases']!, /\[created_at\] datetime2 not null/);
    assert.match(sql['20261121_0001_releases']!, /\[id\] int identity\(1,1\) not null primary key/);
    assert.match(sql['20261121_0001_releases']!, /\[package_size\] bigint/);
    assert.match(sql["20261121_0001_releases"]!, /CREATE UNIQUE INDEX \[lockstep_releases_channel_version\] ON \[lockstep_releases\] \(\[channel\], \[version_key\]\)/);
    assert.match(sql['20261121_0004_package_chunks']!, /\[bytes\] varbinary\(max\) not null/);
    assert.match(sql['20261121_0003_events']!, /\[id\] bigint identity\(1,1\) not null primary key/);
    assert.match(sql['20261121_0002_workstations']!, /\[host_name\] nvarchar\(255\) not null/);
    // The fleet: package bookkeeping and transfer leases.
    const packages = sql['20261122_0005_release_packages']!;
    assert.match(packages, /\[size\] bigint not null/);
    assert.match(packages, /\[catalog\] nvarchar\(max\) null/);
    assert.match(packages, /\[upload_until\] datetime2 null/);
    assert.match(packages, /PRIMARY KEY \(\[release_id\]\)/);
    assert.match(packages, /FOREIGN KEY \(\[release_id\]\) REFERENCES \[lockstep_releases\] \(\[id\]\)/);
    const leases = sql['20261122_0006_transfer_leases']!;
    assert.match(leases, /\[expires_at\] datetime2 null/);
    assert.match(leases, /PRIMARY KEY \(\[pool\], \[slot\]\)/);
    // Shared content-defined blocks keyed by their hash; each release's list refers to them with a foreign key.
    const blocks = sql['20261130_0010_content_blocks']!;
    assert.match(blocks, /CREATE TABLE \[lockstep_blocks\] \(\[sha256\] nvarchar\(64\) not null, \[size\] int not null, \[bytes\] varbinary\(max\) not null, CONSTRAINT \[lockstep_blocks_pkey\] PRIMARY KEY \(\[sha256\]\)\)/);
    assert.match(blocks, /\[byte_offset\] bigint not null/);
    assert.match(blocks, /FOREIGN KEY \(\[sha256\]\) REFERENCES \[lockstep_blocks\] \(\[sha256\]\)/);
    assert.match(blocks, /PRIMARY KEY \(\[release_id\], \[seq\]\)/);
    assert.match(blocks, /CREATE INDEX \[lockstep_release_blocks_sha256\] ON \[lockstep_release_blocks\] \(\[sha256\]\)/);
    assert.match(sql['20261130_0011_package_layout']!, /ALTER TABLE \[lockstep_release_packages\] ADD \[layout\] nvarchar\(16\) not null CONSTRAINT \[\w+\] DEFAULT 'chunks'/);
    assert.doesNotMatch(all, /\b(text|blob|bytea|timestamptz|varchar\()/i, 'no types SQL Server lacks, no non-Unicode text');
    assert.match(all, /foreign key \(\[release_id\]\) references \[lockstep_releases\] \(\[id\]\)/i);
  });

  test('lease expiry and catalog size checks compile to T-SQL on the server clock (UTC)', () => {
    const take = mssql('lockstep_transfer_leases')
      .where({ pool: 'p', slot: 0 })
      .andWhere((q) => q.whereNull('holder').orWhere('expires_at', '<', serverNow(mssql)))
      .update({ holder: 'h', acquired_at: serverNow(mssql), expires_at: serverNowPlus(mssql, 120_000) })
      .toSQL()
      .toNative();
    assert.match(take.sql, /\[expires_at\] < SYSUTCDATETIME\(\)/);
    assert.match(take.sql, /\[acquired_at\] = SYSUTCDATETIME\(\)/);
    assert.match(take.sql, /\[expires_at\] = DATEADD\(millisecond, @p\d+, SYSUTCDATETIME\(\)\)/);
    assert.ok(take.bindings.includes(120_000), 'the lease time travels as a binding');
    const catalogs = mssql('lockstep_release_packages')
      .whereNotNull('catalog')
      .select('release_id', mssql.raw(textLengthSql('mssql', 'catalog', 'chars')), mssql.raw(cappedTextSql('mssql', 'catalog', MAX_CATALOG_CHARS, '', 'catalog')))
      .toSQL()
      .toNative();
    assert.match(catalogs.sql, /\(DATALENGTH\(catalog\) \/ 2\) as chars, case when \(DATALENGTH\(catalog\) \/ 2\) > 4194304 then N'' else catalog end as catalog/);
  });

  test('scheduled releases and carried modules: the tables compile to T-SQL, and the gate judges "due" on the server clock (UTC)', async () => {
    const schedules = await compileMigration(MIGRATIONS.find((m) => m.name === '20261130_0020_release_schedules')!.up);
    assert.match(schedules, /\[due_at\] datetime2 not null/);
    assert.match(schedules, /\[with_package\] bit not null/);
    assert.match(schedules, /FOREIGN KEY \(\[release_id\]\) REFERENCES \[lockstep_releases\] \(\[id\]\)/);
    assert.match(schedules, /CREATE INDEX \[lockstep_release_schedules_channel_state\]/);
    const carried = await compileMigration(MIGRATIONS.find((m) => m.name === '20261130_0021_release_modules')!.up);
    assert.match(carried, /\[module_version\] nvarchar\(64\) not null/);
    assert.match(carried, /PRIMARY KEY \(\[release_id\], \[module_id\]\)/);
    assert.match(carried, /FOREIGN KEY \(\[module_release_id\]\) REFERENCES \[lockstep_releases\] \(\[id\]\)/);
    const read = mssql.raw(snapshotSql('mssql'), snapshotBindings({ channel: 'stable', workstationId: 'ws', installedKey: 'key' }) as string[]).toSQL().toNative();
    assert.match(read.sql, /left join lockstep_release_schedules sc on sc\.channel = @p6 and sc\.state = 'pending'/);
    assert.match(read.sql, /case when sc\.due_at <= SYSUTCDATETIME\(\) then 1 else 0 end as schedule_due, SYSUTCDATETIME\(\) as server_now/);
  });

  test("the gate's read and heartbeat compile to parameterised T-SQL", () => {
    const args = { channel: 'stable', workstationId: `ws'; drop table x;--`, installedKey: 'key' };
    const read = mssql.raw(snapshotSql('mssql'), snapshotBindings(args) as string[]).toSQL().toNative();
    assert.match(read.sql, /from \(select 1 as one\) o\s+left join lockstep_current c on c\.channel = @p5/);
    assert.equal(read.bindings.length, 7);
    const hb = mssql.raw(heartbeatSql('mssql'), heartbeatBindings(args, { hostName: 'h', osUser: 'u', installedVersion: '1.0', ring: 'regular' }) as string[]).toSQL().toNative();
    assert.match(hb.sql, /^update lockstep_workstations set host_name = @p0/);
    // Start times come from the server's UTC clock, never from the workstation.
    assert.match(hb.sql, /last_start = SYSUTCDATETIME\(\),/);
    assert.equal(hb.bindings.length, 10);
    // An oversized stored manifest never travels: the length is checked on the server.
    assert.match(read.sql, /case when \(DATALENGTH\(r\.manifest\) \/ 2\) > 1048576 then N'lockstep:oversized-manifest' else r\.manifest end as manifest/);
    for (const q of [read, hb]) {
      assert.ok(!q.sql.includes('drop table'), 'values travel as bindings, never in the text');
      assert.ok(!/\?/.test(q.sql), 'every placeholder was bound');
    }
  });

  test('the client schema tables, the migration lease and its fencing check compile to T-SQL on the server clock', async () => {
    const sql = await compileMigration(MIGRATIONS.find((m) => m.name === '20261130_0007_client_schema')!.up);
    assert.match(sql, /CREATE TABLE \[lockstep_schema_level\] \(\[id\] int, \[level\] int not null/);
    assert.match(sql, /\[set_at\] datetime2 not null/);
    assert.match(sql, /\[migrations\] nvarchar\(max\) not null/);
    assert.match(sql, /\[token\] bigint not null/);
    assert.match(sql, /\[expires_at\] datetime2 null/);
    assert.doesNotMatch(sql, /\b(text|blob|timestamptz|varchar\()/i);
    const take = mssql('lockstep_schema_lease')
      .where({ id: 1 })
      .andWhere((q) => q.whereNull('holder').orWhereNull('expires_at').orWhere('expires_at', '<=', serverNow(mssql)))
      .update({ holder: 'h', expires_at: serverNowPlus(mssql, 900_000), token: mssql.raw('token + 1') })
      .toSQL()
      .toNative();
    assert.match(take.sql, /\[token\] = token \+ 1/);
    assert.match(take.sql, /\[expires_at\] <= SYSUTCDATETIME\(\)/);
    const fence = mssql('lockstep_schema_lease').where({ id: 1, token: 7, holder: 'h' }).andWhere('expires_at', '>', serverNow(mssql)).update({ token: 7 }).toSQL().toNative();
    assert.match(fence.sql, /where \[id\] = @p\d+ and \[token\] = @p\d+ and \[holder\] = @p\d+ and \[expires_at\] > SYSUTCDATETIME\(\)/);
    const read = mssql.raw(snapshotSql('mssql'), snapshotBindings({ channel: 'c', workstationId: 'w', installedKey: 'k' }) as string[]).toSQL().toNative();
    assert.match(read.sql, /\(select l\.level from lockstep_schema_level l where l\.id = 1\) as schema_level/);
    assert.equal(read.bindings.length, 7, 'the level costs the gate no binding (7: pointer, installed state, test mark, pending schedule) and no extra round trip');
  });
});
