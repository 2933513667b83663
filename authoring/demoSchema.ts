/**
 * A demo version's schema claim and the migration files its package carries: the files of a vendor's migrations folder
 * up to the level the version brings go into the package under `migrations/` (the app's resources), and the claim
 * signed into its manifest names each of them with its hash — as a vendor's build does with `feed add --migrations`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { levelOfMigrationFile } from '../kernel/migrationFileName';
import type { SchemaClaim } from '../kernel/schemaClaim';
import { buildSchemaClaim } from './schemaClaimWriter';

export interface DemoSchema {
  /** "1-2" or "3". */
  works: string;
  brings: number;
  /** A folder of migration files (NNNN_name.js); absent: the claim names no files (the host registers code). */
  migrationsDir?: string;
}

/** Where a demo package carries its migrations, relative to its top (the install folder). */
export const DEMO_MIGRATIONS_FOLDER = 'migrations';

/** The example client's migrations (examples/customer-list/migrations), which `lockstep demo`'s versions carry. */
export function exampleMigrationsDir(): string {
  // build/authoring → the package's top, where examples/ lies beside build/.
  return path.resolve(__dirname, '..', '..', 'examples', 'customer-list', 'migrations');
}

/** Adds the version's migration files to `packageFiles` and returns the claim to sign. */
export function packSchema(schema: DemoSchema, packageFiles: Record<string, Buffer | string>, staging: string): SchemaClaim {
  if (!schema.migrationsDir) return buildSchemaClaim({ works: schema.works, brings: schema.brings });
  const dir = fs.mkdtempSync(path.join(staging, 'migrations-'));
  for (const name of fs.readdirSync(schema.migrationsDir)) {
    const level = levelOfMigrationFile(name);
    if (level === null || level > schema.brings) continue; // later levels belong to later versions
    const bytes = fs.readFileSync(path.join(schema.migrationsDir, name));
    fs.writeFileSync(path.join(dir, name), bytes);
    packageFiles[`${DEMO_MIGRATIONS_FOLDER}/${name}`] = bytes;
  }
  return buildSchemaClaim({ works: schema.works, brings: schema.brings, migrationsDir: dir, folder: DEMO_MIGRATIONS_FOLDER });
}
