/**
 * What the composition root hands the gate and the ledger about the client's own database schema: the installed
 * version's claim (already verified: from its signed manifest, or registered by the host) and where its migrations
 * come from. Absent or `claim: null`: the installed version says nothing about the schema and works on every level.
 */
import { LockstepError } from '../../contract/errors';
import type { ClientMigrationSource, SchemaClaim } from '../../kernel/schemaClaim';
import { Version, compareVersions } from '../../kernel/version';

export interface SchemaSetup {
  /** The installed version's verified schema claim; null for a version signed without one. */
  claim: SchemaClaim | null;
  /** The installed version's migrations (packaged files checked against their signed hashes, or host code). */
  migrations: ClientMigrationSource;
  /**
   * The version the claim and migrations were read for. A long-lived process that installs another version keeps
   * this setup until it restarts: it must not lend that version's claim or migrations to the new one.
   */
  version?: string;
}

/** The setup when it was read for `installed` (or says for no version in particular), else null. */
export function setupFor(setup: SchemaSetup | null | undefined, installed: Version | null): SchemaSetup | null {
  if (!setup || !installed) return null;
  return setup.version === undefined || compareVersions(setup.version, installed) === 0 ? setup : null;
}

/** A migration source with no steps: any request for one is E_SCHEMA_MIGRATION_MISSING. */
export const NO_MIGRATIONS: ClientMigrationSource = {
  async stepsBetween(from, to) {
    if (from >= to) return [];
    throw new LockstepError('E_SCHEMA_MIGRATION_MISSING', `This installation carries no migrations from schema level ${from} to ${to}.`, { from, to });
  },
};
