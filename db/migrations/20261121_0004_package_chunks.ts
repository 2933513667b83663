/** Room for the release packages (S17): chunks written while a release is `uploading`, each with its own hash. */
import type { Knex } from 'knex';

export const name = '20261121_0004_package_chunks';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('lockstep_release_chunks', (t) => {
    t.integer('release_id').unsigned().notNullable().references('id').inTable('lockstep_releases');
    t.integer('seq').notNullable();
    t.binary('bytes').notNullable(); // varbinary(max) | bytea | blob
    t.integer('size').notNullable();
    t.string('sha256', 64).notNullable();
    t.primary(['release_id', 'seq']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('lockstep_release_chunks');
}
