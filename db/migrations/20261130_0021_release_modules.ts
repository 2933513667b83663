/**
 * The module packages a release carries (S6 across the fleet): which version of which module went into the shared
 * database with the app release. Each module package is stored like a release package — its own ledger row on the
 * module's own channel (never a release of the app's channel), with the vendor-signed module manifest in that row and
 * its bytes in the same chunk table — so upload, resume, K transfer slots and the signed-hash check are the app's.
 */
import type { Knex } from 'knex';

export const name = '20261130_0021_release_modules';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('lockstep_release_modules', (t) => {
    t.integer('release_id').unsigned().notNullable().references('id').inTable('lockstep_releases');
    t.string('module_id', 64).notNullable();
    t.string('module_version', 64).notNullable();
    t.integer('module_release_id').unsigned().notNullable().references('id').inTable('lockstep_releases');
    t.primary(['release_id', 'module_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('lockstep_release_modules');
}
