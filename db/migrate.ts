/** Runs the in-code migrations; the only schema-changing entry point (CLI `db migrate`, the app at first start). */
import { Db } from './connection';
import { mapDbError } from './errors';
import { InCodeMigrationSource, MIGRATIONS } from './migrations';

const TABLE = 'lockstep_migrations';

export interface MigrateResult {
  applied: string[];
  current: string[];
}

export async function migrateLatest(db: Db): Promise<MigrateResult> {
  try {
    const [, applied] = (await db.knex.migrate.latest({ migrationSource: new InCodeMigrationSource(), tableName: TABLE })) as [number, string[]];
    return { applied, current: MIGRATIONS.map((m) => m.name) };
  } catch (err) {
    throw mapDbError(err, db.target);
  }
}

export async function migrateRollbackAll(db: Db): Promise<void> {
  try {
    await db.knex.migrate.rollback({ migrationSource: new InCodeMigrationSource(), tableName: TABLE }, true);
  } catch (err) {
    throw mapDbError(err, db.target);
  }
}

/** Names of migrations not yet applied; empty when the schema is current. */
export async function pendingMigrations(db: Db): Promise<string[]> {
  try {
    const [, pending] = (await db.knex.migrate.list({ migrationSource: new InCodeMigrationSource(), tableName: TABLE })) as [unknown[], Array<{ name?: string } | string>];
    return pending.map((p) => (typeof p === 'string' ? p : String((p as { name?: string }).name ?? p)));
  } catch (err) {
    throw mapDbError(err, db.target);
  }
}
