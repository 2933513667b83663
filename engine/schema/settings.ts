/** How a migrating release protects the client's database: the backup before it and the migration lease. */
import type { MachineConfig } from '../../kernel/config';

export interface MigrationSettings {
  /** Back up before migrating (SQLite: VACUUM INTO a file beside the database; servers: `backupCommand`). */
  backup: boolean;
  /** PostgreSQL / SQL Server: the program and its arguments (no shell) IT configured; exit code 0 means done. */
  backupCommand?: readonly string[];
  backupTimeoutMs: number;
  /** How long the migration lease holds without its holder; a crashed release frees it after this. */
  leaseMs: number;
  /** How long a second administrator waits for a busy lease before E_SCHEMA_LEASE_BUSY. */
  waitMs: number;
}

export const DEFAULT_MIGRATION_SETTINGS: MigrationSettings = { backup: true, backupTimeoutMs: 60 * 60_000, leaseMs: 15 * 60_000, waitMs: 20 * 60_000 };

/** The settings from the machine configuration's database.backup (absent: back up, SQLite only). */
export function migrationSettings(config: Pick<MachineConfig, 'database'>): MigrationSettings {
  const b = config.database.backup;
  return {
    ...DEFAULT_MIGRATION_SETTINGS,
    backup: b?.beforeMigration ?? true,
    ...(b?.command ? { backupCommand: b.command } : {}),
    ...(b?.timeoutMs ? { backupTimeoutMs: b.timeoutMs } : {}),
  };
}
