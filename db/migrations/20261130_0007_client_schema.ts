/**
 * The client's own database schema (the line-of-business app's tables, not Lockstep's): its current level with who
 * set it, when and through which release, the history of every move, and the migration lease. The lease is one row
 * whose token only ever counts up (the fencing token): every write made under the lease checks it inside the
 * transaction, so a holder that lost its lease can no longer write.
 */
import type { Knex } from 'knex';

export const name = '20261130_0007_client_schema';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('lockstep_schema_level', (t) => {
    t.integer('id').primary(); // always 1: one client database per shared database
    t.integer('level').notNullable();
    t.string('channel', 64).nullable();
    t.string('version', 64).nullable(); // the release that brought it here
    t.string('set_by', 255).notNullable();
    t.string('set_from', 255).notNullable();
    t.datetime('set_at').notNullable();
  });
  await knex.schema.createTable('lockstep_schema_history', (t) => {
    t.increments('id').primary();
    t.integer('from_level').notNullable();
    t.integer('to_level').notNullable();
    t.text('migrations').notNullable(); // JSON array of the migration names run, in order
    t.string('channel', 64).nullable();
    t.string('version', 64).nullable();
    t.string('done_by', 255).notNullable();
    t.string('done_from', 255).notNullable();
    t.datetime('done_at').notNullable();
    t.string('backup', 1024).nullable(); // where the backup taken before it lies, if any
  });
  await knex.schema.createTable('lockstep_schema_lease', (t) => {
    t.integer('id').primary(); // always 1
    t.bigInteger('token').notNullable(); // the fencing token: +1 on every take
    t.string('holder', 255).nullable();
    t.string('holder_from', 255).nullable();
    t.string('version', 64).nullable();
    t.datetime('acquired_at').nullable();
    t.datetime('expires_at').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('lockstep_schema_lease');
  await knex.schema.dropTable('lockstep_schema_history');
  await knex.schema.dropTable('lockstep_schema_level');
}
