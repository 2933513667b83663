/**
 * One row per release whose package the fleet carries (S17): what file it is, how it was cut into chunks, and whether
 * the upload finished. The release row keeps the vendor-signed manifest; this row is bookkeeping only — every byte a
 * workstation installs is checked against the signed manifest, never against what this table claims.
 */
import type { Knex } from 'knex';

export const name = '20261122_0005_release_packages';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('lockstep_release_packages', (t) => {
    t.integer('release_id').unsigned().notNullable().primary().references('id').inTable('lockstep_releases');
    t.string('file_name', 200).notNullable();
    t.bigInteger('size').notNullable();
    t.string('sha512', 100).notNullable();
    t.integer('chunk_size').notNullable();
    t.integer('chunk_count').notNullable();
    t.string('store', 16).notNullable(); // database | http | share
    t.string('state', 16).notNullable(); // uploading | complete
    t.text('catalog').nullable(); // the vendor-signed catalog seen at release time (its security floor)
    t.string('uploader', 191).nullable(); // workstation holding the upload claim
    t.datetime('upload_until').nullable(); // the claim expires, so a crashed uploader does not block the release
    t.string('started_by', 255).notNullable();
    t.datetime('started_at').notNullable();
    t.datetime('completed_at').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('lockstep_release_packages');
}
