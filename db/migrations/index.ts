/**
 * The in-code migration source: the packaged app bundles its migrations as code, so knex never scans a folder.
 * Add a migration by adding a file and one line here; names are timestamped and never change once released.
 */
import type { Knex } from 'knex';
import * as releases from './20261121_0001_releases';
import * as workstations from './20261121_0002_workstations';
import * as events from './20261121_0003_events';
import * as chunks from './20261121_0004_package_chunks';
import * as packages from './20261122_0005_release_packages';
import * as leases from './20261122_0006_transfer_leases';
import * as clientSchema from './20261130_0007_client_schema';
import * as contentBlocks from './20261130_0010_content_blocks';
import * as packageLayout from './20261130_0011_package_layout';
import * as releaseSchedules from './20261130_0020_release_schedules';
import * as releaseModules from './20261130_0021_release_modules';
import * as fleetView from './20261130_0030_fleet_view';

export interface Migration {
  name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

export const MIGRATIONS: readonly Migration[] = [releases, workstations, events, chunks, packages, leases, clientSchema, contentBlocks, packageLayout, releaseSchedules, releaseModules, fleetView];

export class InCodeMigrationSource implements Knex.MigrationSource<Migration> {
  constructor(private readonly migrations: readonly Migration[] = MIGRATIONS) {}
  async getMigrations(): Promise<Migration[]> {
    return [...this.migrations];
  }
  getMigrationName(migration: Migration): string {
    return migration.name;
  }
  async getMigration(migration: Migration): Promise<Knex.Migration> {
    return { up: migration.up, down: migration.down };
  }
}
