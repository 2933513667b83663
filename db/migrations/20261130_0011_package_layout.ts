/**
 * How a package sits in the shared database: `chunks` (fixed-size chunks per release, every package stored before
 * content-defined blocks existed — still read as before) or `blocks` (the release's block list over shared blocks).
 */
import type { Knex } from 'knex';

export const name = '20261130_0011_package_layout';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('lockstep_release_packages', (t) => {
    t.string('layout', 16).notNullable().defaultTo('chunks');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('lockstep_release_packages', (t) => {
    t.dropColumn('layout');
  });
}
