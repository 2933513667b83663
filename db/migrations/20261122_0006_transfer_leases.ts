/**
 * Bounded package transfers (S19): K slots per pool; a workstation transfers only while it holds one. Each lease
 * expires unless renewed, so a crashed workstation frees its slot by itself.
 */
import type { Knex } from 'knex';

export const name = '20261122_0006_transfer_leases';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('lockstep_transfer_leases', (t) => {
    t.string('pool', 64).notNullable();
    t.integer('slot').notNullable();
    t.string('holder', 191).nullable();
    t.string('token', 64).nullable();
    t.datetime('acquired_at').nullable();
    t.datetime('expires_at').nullable();
    t.primary(['pool', 'slot']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('lockstep_transfer_leases');
}
