/**
 * What a version says about the client's own database schema, signed inside its manifest: the schema levels it works
 * on and the level its migrations bring the database to (for example works 3–4, brings 4). Levels are whole numbers
 * the vendor counts up; 0 is "the client never created its tables". A manifest without a claim (signed before this
 * existed) works on every level and brings none.
 */
import type { Knex } from 'knex';
import { z } from 'zod';
import { plainName } from './plainName';

const level = z.number().int().min(0).max(1_000_000);
const sha512 = z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'is not a base64 SHA-512');

/** One migration file the package carries: it moves the database from `level - 1` to `level`. */
export const SchemaMigrationFileSchema = z.object({ name: plainName, level: level.min(1), sha512 }).strict();

export const SchemaClaimSchema = z
  .object({
    works: z.object({ min: level, max: level }).strict().refine((w) => w.min <= w.max, { message: 'min is above max' }),
    brings: level,
    /**
     * The migrations inside the package: a folder (relative to the app's resources, plain names joined by "/") and
     * every file with the level it brings and its hash. Absent where the host registers its migrations in code.
     */
    migrations: z
      .object({
        folder: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}(\/[A-Za-z0-9][A-Za-z0-9._-]{0,63}){0,7}$/).refine((f) => !f.split('/').includes('..'), { message: 'is not a plain folder' }),
        files: z.array(SchemaMigrationFileSchema).max(10_000),
      })
      .strict()
      .nullable()
      .optional(),
  })
  .strict()
  .refine((c) => c.brings >= c.works.min && c.brings <= c.works.max, { message: 'brings is outside works' });

export type SchemaClaim = z.infer<typeof SchemaClaimSchema>;
export type SchemaMigrationFile = z.infer<typeof SchemaMigrationFileSchema>;

/** A claim-less (older) manifest: works everywhere, migrates nothing. */
export const NO_SCHEMA_CLAIM = null;

/** Whether a version with `claim` may use a database at `current` (null: the database has no recorded level yet). */
export function worksOn(claim: SchemaClaim | null | undefined, current: number | null): boolean {
  if (!claim || current === null) return true;
  return current >= claim.works.min && current <= claim.works.max;
}

/** Whether releasing a version with `claim` migrates a database at `current`. */
export function migratesFrom(claim: SchemaClaim | null | undefined, current: number | null): boolean {
  return Boolean(claim) && (current ?? 0) < claim!.brings;
}

/** "3–4" or "3": the levels a claim works on, for messages. */
export function describeWorks(claim: SchemaClaim): string {
  return claim.works.min === claim.works.max ? String(claim.works.min) : `${claim.works.min}–${claim.works.max}`;
}

/**
 * One step of the client's schema, as the engine runs it: inside the single release transaction, so `up` must use
 * the transaction it is given and nothing else. Loaded from the package's verified files or registered by the host.
 */
export interface ClientMigration {
  /** Unique, stable name (the file name for packaged ones), recorded in the history. */
  name: string;
  /** The level the database has after this step. */
  level: number;
  up(tx: Knex.Transaction): Promise<void>;
}

/** Where the engine gets a version's migrations from (packaged files checked against the signed hashes, or code). */
export interface ClientMigrationSource {
  /** The steps that bring the database from `from` to `to`, in order; E_SCHEMA_MIGRATION_MISSING when one is absent. */
  stepsBetween(from: number, to: number): Promise<ClientMigration[]>;
}
