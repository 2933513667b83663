/**
 * The `schema` option of both public entries (lockstep/electron start(), openLockstep()): migrations the host
 * registers in code, and where its packaged migrations folder lies. Checked like every option (E_USAGE naming it);
 * the claim itself is never an option — it comes only from the version's signed manifest.
 */
import { z } from 'zod';
import type { ClientMigration } from '../../kernel/schemaClaim';

const migration = z.custom<ClientMigration>(
  (v) => typeof v === 'object' && v !== null && typeof (v as ClientMigration).name === 'string' && Number.isInteger((v as ClientMigration).level) && (v as ClientMigration).level >= 1 && typeof (v as ClientMigration).up === 'function',
  { message: 'must be a migration { name, level (from 1), up(knex) }' },
);

export const SchemaOptionSchema = z
  .object({
    /** Migrations in code, each bringing the database to `level`; used where the package carries no file for that level. */
    migrations: z.array(migration).optional(),
    /** The folder the signed claim's migrations folder is relative to. Default: the packaged app's resources, else the install folder. */
    resourcesDir: z.string().trim().min(1).optional(),
  })
  .strict();
