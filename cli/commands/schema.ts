/** schema status / schema restore-backup: the client database's schema level, its history, and the way back. */
import { LockstepError } from '../../contract/errors';
import { inspectBackup, restoreSqliteBackup } from '../../db/sqliteRestore';
import { actorOf } from '../../engine/identity';
import { storedClaim } from '../../engine/schema/storedClaim';
import { SchemaClaim, describeWorks, migratesFrom, worksOn } from '../../kernel/schemaClaim';
import { trustedKeys } from '../../kernel/trust';
import { Version, versionSortKey } from '../../kernel/version';
import { Command } from '../command';
import type { Workstation } from '../../engine/workstation';

/** The installed version's claim: the composition's (verified at load), else its stored signed manifest's. */
async function installedClaim(ws: Workstation, version: Version): Promise<{ claim: SchemaClaim | null; from: string }> {
  if (ws.schema) return { claim: ws.schema.claim, from: 'installation' };
  const stored = await ws.fleet.releases.find({ channel: ws.config.channel, versionKey: versionSortKey(version) });
  const claim = stored ? storedClaim(stored, trustedKeys(ws.config)) : null;
  return { claim, from: claim ? 'stored manifest' : 'none' };
}

export const schemaStatus: Command = {
  name: 'schema status',
  summary: "the client database's schema level, its history, and what the installed version works on and needs",
  usage: 'lockstep schema status [--config FILE] [--json]',
  async run(ctx) {
    const ws = await ctx.workstation();
    const { installed } = await ws.gate.evaluate();
    const [level, history, lease] = await Promise.all([ws.fleet.schema.level(), ws.fleet.schema.history(), ws.fleet.schema.leaseHolder()]);
    const { claim, from } = await installedClaim(ws, installed);
    const current = level?.level ?? null;
    const needs = claim && migratesFrom(claim, current) ? { from: current ?? 0, to: claim.brings } : null;
    const json = {
      level, history, lease,
      installed: { version: installed.raw, claim, claimFrom: from, worksOnCurrent: worksOn(claim, current), migration: needs },
    };
    const lines = [
      level ? `Schema level ${level.level} (set by ${level.setBy} from ${level.setFrom} at ${level.setAt}, release ${level.version ?? 'none'})` : 'No schema level recorded yet.',
      claim
        ? `Installed ${installed.raw}: works on levels ${describeWorks(claim)}, brings ${claim.brings} — ${worksOn(claim, current) ? 'works on the current level' : 'does NOT work on the current level'}${needs ? `; releasing it migrates ${needs.from} → ${needs.to}` : ''}`
        : `Installed ${installed.raw}: states no schema levels (works on every level)`,
      lease && !lease.expired ? `Migration in progress: ${lease.holder} (version ${lease.version ?? '?'}, lease until ${lease.expiresAt})` : '',
      ...history.map((h) => `${h.doneAt}  ${h.fromLevel} → ${h.toLevel}  ${h.version ?? ''}  by ${h.doneBy} from ${h.doneFrom}  ${h.migrations.join(', ')}${h.backup ? `  backup ${h.backup}` : ''}`),
    ];
    return { json, text: lines.filter(Boolean).join('\n') };
  },
};

export const schemaRestoreBackup: Command = {
  name: 'schema restore-backup',
  summary: 'restore the SQLite backup taken before a migration (every change since the backup is lost)',
  usage: 'lockstep schema restore-backup <file> --yes [--config FILE] [--json]',
  options: { yes: { type: 'boolean' } },
  positionals: [1, 1],
  async run(ctx) {
    const ws = await ctx.workstation();
    if (!ws.identity.isAdmin) throw new LockstepError('E_NOT_ADMIN', `Only an administrator may restore the database; ${ws.identity.osUser} is not listed in "administrators".`, { user: ws.identity.osUser });
    if (ws.db.target.dialect !== 'sqlite') {
      throw new LockstepError('E_USAGE', 'Lockstep restores SQLite backups only. Restore a PostgreSQL database with pg_restore (or psql for a plain dump), a SQL Server database with RESTORE DATABASE, from the backup IT\'s command made.');
    }
    const file = ctx.positionals[0]!;
    const backup = await inspectBackup(file, ws.config.channel);
    const [level, current] = await Promise.all([ws.fleet.schema.level(), ws.fleet.releases.current(ws.config.channel)]);
    const loss = `Restoring ${file} puts the whole shared database back to its state at ${backup.lastEventAt ?? 'the backup'}: schema level ${backup.level ?? 'none'}, released version ${backup.released ?? 'none'} (now: level ${level?.level ?? 'none'}, released ${current?.release?.version ?? 'none'}). Every change made since the backup is lost: business data, releases, workstation records and audit rows.`;
    if (ctx.values['yes'] !== true) throw new LockstepError('E_USAGE', `${loss} Run again with --yes to restore.`, { file });
    await restoreSqliteBackup(file, ws.db.target.file);
    await ws.fleet.audit({
      action: 'schema-restore', outcome: 'ok', actor: actorOf(ws.identity), channel: ws.config.channel, version: backup.released,
      detail: { file, level: backup.level, released: backup.released, replacedLevel: level?.level ?? null, replacedRelease: current?.release?.version ?? null },
    });
    ws.log.warn('schema.restored', { file, level: backup.level, released: backup.released, by: ws.identity.osUser });
    return { json: { restored: backup, lost: 'every change since the backup' }, text: `Restored. ${loss}` };
  },
};
