/** The audit log (S24): every update action, with who, when and from which workstation. */
import type { Knex } from 'knex';

export const name = '20261121_0003_events';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('lockstep_events', (t) => {
    t.bigIncrements('id').primary();
    t.datetime('at').notNullable();
    t.string('action', 64).notNullable();
    t.string('outcome', 32).notNullable(); // ok | an error code
    t.string('actor', 255).notNullable();
    t.string('workstation_id', 191).notNullable();
    t.string('channel', 64).nullable();
    t.string('version', 64).nullable();
    t.text('detail').nullable(); // JSON
    t.index(['at'], 'lockstep_events_at');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('lockstep_events');
}
