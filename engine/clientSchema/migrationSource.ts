/**
 * The installed version's ClientMigrationSource: for every level, the packaged file the signed claim names (verified
 * and compiled by packagedMigrations.ts), else a migration the host registered in code (lockstep/electron start({
 * schema: { migrations } }) or openLockstep). All steps of a request are loaded — and every file verified — before
 * the first is handed out, so a request either yields the whole verified chain or runs nothing.
 */
import { LockstepError } from '../../contract/errors';
import type { ClientMigration, ClientMigrationSource, SchemaClaim } from '../../kernel/schemaClaim';
import { loadPackagedMigration, packagedFileFor } from './packagedMigrations';

/** Checks the host's list: a name and a level from 1 each, an up function, no level or name twice. */
export function checkRegistered(migrations: readonly ClientMigration[]): Map<number, ClientMigration> {
  const byLevel = new Map<number, ClientMigration>();
  const names = new Set<string>();
  for (const [i, m] of migrations.entries()) {
    const where = `schema.migrations[${i}]`;
    if (typeof m?.name !== 'string' || !m.name.trim()) throw new LockstepError('E_USAGE', `${where} needs a name.`, { option: where });
    if (!Number.isInteger(m.level) || m.level < 1) throw new LockstepError('E_USAGE', `${where} (${m.name}) needs a level: a whole number from 1, the level it brings the database to.`, { option: where });
    if (typeof m.up !== 'function') throw new LockstepError('E_USAGE', `${where} (${m.name}) needs an up(knex) function.`, { option: where });
    if (byLevel.has(m.level)) throw new LockstepError('E_USAGE', `${where} (${m.name}) brings level ${m.level}, as ${byLevel.get(m.level)!.name} does; one migration per level.`, { option: where });
    if (names.has(m.name)) throw new LockstepError('E_USAGE', `${where}: the name ${m.name} is used twice.`, { option: where });
    byLevel.set(m.level, m);
    names.add(m.name);
  }
  return byLevel;
}

export class InstalledMigrationSource implements ClientMigrationSource {
  private readonly registered: Map<number, ClientMigration>;

  constructor(
    private readonly claim: SchemaClaim | null,
    /** Where the claim's folder lies: the packaged app's resources, or the install folder of a portable package. */
    private readonly resourcesDir: string,
    registered: readonly ClientMigration[] = [],
  ) {
    this.registered = checkRegistered(registered);
  }

  async stepsBetween(from: number, to: number): Promise<ClientMigration[]> {
    const steps: ClientMigration[] = [];
    for (let level = from + 1; level <= to; level++) {
      const file = packagedFileFor(this.claim, level);
      const step = file ? loadPackagedMigration(this.resourcesDir, this.claim!.migrations!.folder, file) : this.registered.get(level);
      if (!step) throw new LockstepError('E_SCHEMA_MIGRATION_MISSING', `This installation carries no migration to schema level ${level} (from ${from} to ${to}); ask the vendor for a version that brings it.`, { from, to, level });
      steps.push(step);
    }
    return steps;
  }
}
