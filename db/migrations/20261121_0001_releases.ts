/** The release ledger (S15) and the per-channel pointer to the released version (S13, S19). */
import type { Knex } from 'knex';

export const name = '20261121_0001_releases';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('lockstep_releases', (t) => {
    t.increments('id').primary();
    t.string('channel', 64).notNullable();
    t.string('version', 64).notNullable(); // as the vendor wrote it
    t.string('version_key', 191).notNullable(); // sorts like the version; unique per channel
    t.string('state', 16).notNullable(); // uploading | test | released | withdrawn
    t.text('manifest').nullable(); // the vendor-signed manifest (JSON text), filled by the fleet
    t.string('manifest_signature', 200).nullable();
    t.bigInteger('package_size').nullable();
    t.string('package_sha512', 100).nullable();
    t.text('notes').nullable();
    t.string('created_by', 255).notNullable();
    t.string('created_from', 255).notNullable();
    t.datetime('created_at').notNullable();
    t.string('released_by', 255).nullable();
    t.string('released_from', 255).nullable();
    t.datetime('released_at').nullable();
    t.string('withdrawn_by', 255).nullable();
    t.string('withdrawn_from', 255).nullable();
    t.datetime('withdrawn_at').nullable();
    t.unique(['channel', 'version_key'], { indexName: 'lockstep_releases_channel_version' });
  });
  await knex.schema.createTable('lockstep_current', (t) => {
    t.string('channel', 64).primary();
    t.integer('release_id').unsigned().nullable().references('id').inTable('lockstep_releases');
    t.integer('revision').notNullable(); // compare-and-set token: every change increments it
    t.string('changed_by', 255).nullable();
    t.string('changed_from', 255).nullable();
    t.datetime('changed_at').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('lockstep_current');
  await knex.schema.dropTable('lockstep_releases');
}
