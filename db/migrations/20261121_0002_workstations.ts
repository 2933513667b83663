/** The workstation registry (S16) and the per-workstation "tested here, not released" marks (S14 "No"). */
import type { Knex } from 'knex';

export const name = '20261121_0002_workstations';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('lockstep_workstations', (t) => {
    t.string('workstation_id', 191).primary();
    t.string('host_name', 255).notNullable();
    t.string('os_user', 255).notNullable();
    t.string('installed_version', 64).notNullable();
    t.string('ring', 16).notNullable(); // test | regular
    t.datetime('first_seen').notNullable();
    t.datetime('last_start').notNullable();
    t.string('last_result', 400).nullable();
    t.datetime('last_result_at').nullable();
  });
  await knex.schema.createTable('lockstep_test_marks', (t) => {
    t.string('workstation_id', 191).notNullable().references('workstation_id').inTable('lockstep_workstations');
    t.string('channel', 64).notNullable();
    t.string('version_key', 191).notNullable();
    t.string('version', 64).notNullable();
    t.string('decided_by', 255).notNullable();
    t.datetime('decided_at').notNullable();
    t.primary(['workstation_id', 'channel', 'version_key']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('lockstep_test_marks');
  await knex.schema.dropTable('lockstep_workstations');
}
