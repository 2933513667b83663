/**
 * The client's own schema for the schema tests: a customer list that goes level 1 (customers) → 2 (an e-mail
 * column) → 3 (orders, with a backfill), the claims of its versions 1.0 / 1.1 / 2.0 / 2.1, an in-code migration
 * source, a dump of the whole database (schema and every row) to compare before and after, and signed manifests
 * stored the way the publisher stores them.
 */
import * as fs from 'node:fs';
import type { Knex } from 'knex';
import { Db } from '../../db/connection';
import { FleetStore } from '../../db/fleetStore';
import { Identity } from '../../engine/identity';
import { Ledger } from '../../engine/ledger';
import { StartupGate, Upgrader } from '../../engine/startupGate';
import { DEFAULT_MIGRATION_SETTINGS, MigrationSettings } from '../../engine/schema/settings';
import { FixedVersionSource } from '../../kernel/installation';
import { Logger, MemoryLogger } from '../../kernel/log';
import { ClientMigration, ClientMigrationSource, SchemaClaim } from '../../kernel/schemaClaim';
import { Signer, canonicalJson, signDocument } from '../../kernel/signing';
import { OutdatedPolicy } from '../../contract/gate';
import { parseVersion } from '../../kernel/version';
import { LockstepError } from '../../contract/errors';

export const CLAIMS: Record<string, SchemaClaim> = {
  '1.0.0': { works: { min: 1, max: 1 }, brings: 1 },
  '1.1.0': { works: { min: 1, max: 2 }, brings: 2 },
  '2.0.0': { works: { min: 3, max: 3 }, brings: 3 },
  '2.1.0': { works: { min: 3, max: 3 }, brings: 3 },
};

export const m1: ClientMigration = {
  name: '001-customers',
  level: 1,
  async up(tx) {
    await tx.schema.createTable('app_customers', (t) => {
      t.increments('id').primary();
      t.string('name', 100).notNullable();
    });
  },
};

export const m2: ClientMigration = {
  name: '002-customer-email',
  level: 2,
  async up(tx) {
    await tx.schema.alterTable('app_customers', (t) => t.string('email', 200).nullable());
    await tx('app_customers').update({ email: tx.raw("lower(name) || '@example.test'") });
  },
};

export const m3: ClientMigration = {
  name: '003-orders',
  level: 3,
  async up(tx) {
    await tx.schema.createTable('app_orders', (t) => {
      t.increments('id').primary();
      t.integer('customer_id').notNullable();
      t.string('item', 100).notNullable();
    });
    const orders = (await tx('app_customers').select('id')).map((c: { id: number }) => ({ customer_id: c.id, item: 'first order' }));
    if (orders.length) await tx('app_orders').insert(orders);
  },
};

/** Level 3 that does half its work, then fails. */
export const m3Failing: ClientMigration = {
  name: '003-orders-broken',
  level: 3,
  async up(tx) {
    await m3.up(tx);
    await tx('app_customers').update({ name: 'overwritten' });
    throw new Error('column "orderz" does not exist');
  },
};

export function sourceOf(steps: ClientMigration[], onStep?: (step: ClientMigration) => Promise<void> | void): ClientMigrationSource {
  return {
    async stepsBetween(from, to) {
      const picked = steps.filter((s) => s.level > from && s.level <= to);
      if (from < to && picked.at(-1)?.level !== to) throw new LockstepError('E_SCHEMA_MIGRATION_MISSING', `no migrations ${from}→${to}`, { from, to });
      return onStep ? picked.map((s) => ({ ...s, up: async (tx: Knex.Transaction) => { await onStep(s); await s.up(tx); } })) : picked;
    },
  };
}

export const ALL_STEPS = [m1, m2, m3];

export interface SchemaEngineOptions {
  steps?: ClientMigration[];
  source?: ClientMigrationSource;
  policy?: OutdatedPolicy;
  settings?: Partial<MigrationSettings>;
  trustedKeys?: readonly string[];
  upgrader?: Upgrader;
  claim?: SchemaClaim | null;
  log?: Logger;
}

/** A workstation running `installed`, with that version's claim and migrations, as the composition root builds it. */
export function schemaEngine(fleet: FleetStore, who: Identity, installed: string, o: SchemaEngineOptions = {}) {
  const log = o.log ?? new MemoryLogger();
  const schema = { claim: o.claim === undefined ? (CLAIMS[installed] ?? null) : o.claim, migrations: o.source ?? sourceOf(o.steps ?? ALL_STEPS) };
  const source = new FixedVersionSource(parseVersion(installed));
  const settings = { ...DEFAULT_MIGRATION_SETTINGS, backup: false, ...o.settings };
  const ledger = new Ledger(fleet, who, log, { channel: 'stable', schema, installed: source, migration: settings, ...(o.trustedKeys ? { trustedKeys: o.trustedKeys } : {}) });
  const gate = new StartupGate(fleet, who, source, ledger, log, { channel: 'stable', policy: o.policy ?? 'block', ring: 'regular', schema }, o.upgrader);
  return { ledger, gate, log };
}

/** The whole database as comparable data: every table's columns and indexes, and every row, ordered. */
export async function dumpDatabase(db: Db, skip: readonly string[] = ['lockstep_events', 'lockstep_schema_lease', 'lockstep_workstations']): Promise<Record<string, unknown>> {
  const k = db.knex;
  const out: Record<string, unknown> = {};
  let tables: string[];
  if (db.dialect === 'sqlite') {
    const rows: Array<{ type: string; name: string; sql: string | null }> = await k.raw("select type, name, sql from sqlite_master where name not like 'sqlite_%' order by type, name");
    out['schema'] = rows.filter((r) => !skip.includes(r.name));
    tables = rows.filter((r) => r.type === 'table').map((r) => r.name);
  } else {
    const cols = await k('information_schema.columns').where({ table_schema: 'public' }).select('table_name', 'column_name', 'data_type', 'is_nullable', 'column_default').orderBy(['table_name', 'column_name']);
    const idx = await k('pg_indexes').where({ schemaname: 'public' }).select('tablename', 'indexname', 'indexdef').orderBy(['tablename', 'indexname']);
    out['schema'] = { cols, idx };
    tables = [...new Set((cols as Array<{ table_name: string }>).map((c) => c.table_name))];
  }
  for (const t of tables.filter((t) => !skip.includes(t)).sort()) out[t] = await k(t).select('*').orderByRaw('1');
  return JSON.parse(JSON.stringify(out)) as Record<string, unknown>;
}

/** Stores a signed manifest for `version` in its ledger row, as the publisher does when it uploads the package. */
export async function storeSignedManifest(db: Db, version: string, claim: SchemaClaim | null, signer: Signer, tamper?: (signed: Record<string, unknown>) => void): Promise<void> {
  const signed: Record<string, unknown> = {
    type: 'lockstep-manifest', product: 'Customer List', version, channel: 'stable', releaseDate: '2026-11-30T00:00:00.000Z',
    files: [{ name: `customer-list-${version}.AppImage`, platform: 'linux', kind: 'installer', size: 1, sha512: `${'A'.repeat(86)}==` }],
    ...(claim ? { schema: claim } : {}),
  };
  const doc = signDocument(signed, signer);
  if (tamper) tamper(signed);
  await db.knex('lockstep_releases').where({ channel: 'stable', version }).update({ manifest: canonicalJson(signed), manifest_signature: doc.signature });
}

export function fileMode(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

/** Bounded wait for a condition another party (a process, a timer on the server) makes true. */
export async function until(what: string, check: () => boolean | Promise<boolean>, limitMs = 30_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
