/**
 * The fleet view: the coded error of a workstation's last result in a column of its own (the result text stays for
 * people; the code is what the fleet view counts and filters on), and who retired a workstation when. A retired
 * workstation is left out of the fleet's numbers until it starts again (a start after `retired_at` brings it back).
 */
import type { Knex } from 'knex';

export const name = '20261130_0030_fleet_view';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('lockstep_workstations', (t) => {
    t.string('last_result_code', 64).nullable();
    t.datetime('retired_at').nullable();
    t.string('retired_by', 255).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('lockstep_workstations', (t) => {
    t.dropColumn('retired_by');
    t.dropColumn('retired_at');
    t.dropColumn('last_result_code');
  });
}
