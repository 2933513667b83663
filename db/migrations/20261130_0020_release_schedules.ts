/**
 * A release set for a chosen time: the release row and its package are in the ledger already; this row says when the
 * pointer moves, who decided it, and how it ended. `base_revision` is the pointer revision the administrator saw when
 * scheduling: the move at the due time compares-and-sets against it, so a schedule never overrides a release made
 * meanwhile. At most one pending schedule per channel (checked under the channel's pointer lock).
 */
import type { Knex } from 'knex';

export const name = '20261130_0020_release_schedules';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('lockstep_release_schedules', (t) => {
    t.increments('id').primary();
    t.integer('release_id').unsigned().notNullable().references('id').inTable('lockstep_releases');
    t.string('channel', 64).notNullable();
    t.string('version', 64).notNullable();
    t.datetime('due_at').notNullable(); // compared with the database server's clock only
    t.integer('base_revision').notNullable();
    t.boolean('with_package').notNullable();
    t.string('state', 16).notNullable(); // pending | applied | cancelled | superseded
    t.string('scheduled_by', 255).notNullable();
    t.string('scheduled_from', 255).notNullable();
    t.datetime('scheduled_at').notNullable();
    t.string('ended_by', 255).nullable();
    t.string('ended_from', 255).nullable();
    t.datetime('ended_at').nullable();
    t.index(['channel', 'state'], 'lockstep_release_schedules_channel_state');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('lockstep_release_schedules');
}
