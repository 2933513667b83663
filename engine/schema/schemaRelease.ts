/**
 * "Release for all" when the released version brings the client's database to a new schema level. Under the
 * migration lease (one holder, expiry, fencing token): the backup first, then ONE transaction — the release store's
 * own, which locks the channel's pointer — checks the fencing token, runs the migrations from the current level to
 * the one the version brings, records the level and its history, flips the pointer and writes the audit row, and
 * checks the token again just before the commit. Any failure rolls all of it back; the lease is freed either way (a
 * crashed holder's lease expires by itself).
 *
 * Also the level check every release gets, migrating or not: a version that does not work on the database's level
 * is never released (its workstations would be blocked), checked again inside the release transaction.
 */
import type { Knex } from 'knex';
import { LockstepError, isLockstepError, toLockstepError } from '../../contract/errors';
import { FleetStore } from '../../db/fleetStore';
import { toRelease } from '../../db/mappers';
import { InTransaction, VersionRef, findRow } from '../../db/releaseStore';
import { MigrationLease, checkFence, readLevel, recordMove } from '../../db/schemaStore';
import { InstalledVersionSource } from '../../kernel/installation';
import { Logger } from '../../kernel/log';
import { ClientMigration, SchemaClaim, describeWorks, migratesFrom, worksOn } from '../../kernel/schemaClaim';
import { Version, compareVersions } from '../../kernel/version';
import { Identity, actorOf } from '../identity';
import { BackupDone, backupBeforeMigration } from './backup';
import { MigrationSettings } from './settings';
import { SchemaSetup, setupFor } from './setup';
import { storedClaim } from './storedClaim';

/** What a release did to the client's schema. */
export interface SchemaMoveDone {
  from: number;
  to: number;
  /** The migrations run, in order. */
  migrations: string[];
  backup: BackupDone | null;
}

export interface SchemaReleaseContext {
  /** The store the release writes through (the admin login's where one is configured). */
  fleet: FleetStore;
  identity: Identity;
  log: Logger;
  settings: MigrationSettings;
  setup?: SchemaSetup;
  installed?: InstalledVersionSource;
  trustedKeys?: readonly string[];
  sleep?: (ms: number) => Promise<void>;
}

const POLL_MS = 250;
const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Whether `v` is the installed version this workstation has the (verified) schema setup of. */
function isInstalled(ctx: SchemaReleaseContext, v: Version): boolean {
  if (!ctx.setup || !ctx.installed) return false;
  try {
    const installed = ctx.installed.installedVersion();
    return compareVersions(installed, v) === 0 && setupFor(ctx.setup, installed) !== null;
  } catch {
    return false;
  }
}

/** A version that does not work on `level` can be released only by migrating, and only from where it is installed. */
export function assertReleasable(version: string, claim: SchemaClaim | null, level: number | null, canMigrate: boolean): void {
  if (!claim || worksOn(claim, level)) return;
  if (migratesFrom(claim, level)) {
    if (canMigrate) return;
    throw new LockstepError('E_SCHEMA_NEEDS_INSTALL', `Version ${version} changes the database from schema level ${level ?? 0} to ${claim.brings}; release it from a workstation where it is installed, or test it against a test database.`, {
      version,
      from: level ?? 0,
      to: claim.brings,
    });
  }
  throw new LockstepError('E_SCHEMA_LEVEL', `Version ${version} works on schema levels ${describeWorks(claim)}; the database is at level ${level ?? 0}, so it cannot be released.`, {
    version,
    level: level ?? 0,
    works: describeWorks(claim),
  });
}

/** The steps must lead from `from` to `to` level by level, each name once: anything else is a broken package. */
function checkSteps(steps: ClientMigration[], from: number, to: number): void {
  const missing = () => new LockstepError('E_SCHEMA_MIGRATION_MISSING', `The migrations from schema level ${from} to ${to} are incomplete in this installation.`, { from, to });
  if (steps.length === 0 || steps.at(-1)!.level !== to) throw missing();
  let at = from;
  const names = new Set<string>();
  for (const s of steps) {
    if (!(s.level > at) || names.has(s.name)) throw missing();
    at = s.level;
    names.add(s.name);
  }
}

async function runSteps(tx: Knex.Transaction, steps: ClientMigration[], version: string): Promise<void> {
  for (const step of steps) {
    try {
      await step.up(tx);
    } catch (err) {
      throw new LockstepError('E_SCHEMA_MIGRATION_FAILED', `The migration ${step.name} (to schema level ${step.level}) of version ${version} failed: ${(err as Error).message ?? String(err)}`.slice(0, 1000), {
        migration: step.name,
        level: step.level,
        version,
      }, { cause: err });
    }
  }
}

export class SchemaRelease {
  constructor(private readonly ctx: SchemaReleaseContext) {}

  /** The claim of `v` as known before the transaction: the installed setup's, else the stored manifest's. */
  private async claimOf(ref: VersionRef, installedHere: boolean): Promise<SchemaClaim | null> {
    if (installedHere) return this.ctx.setup!.claim;
    if (!this.ctx.trustedKeys) return null;
    const stored = await this.ctx.fleet.releases.find(ref);
    return stored ? storedClaim(stored, this.ctx.trustedKeys) : null;
  }

  /** Inside the transaction: the claim again (the package may have been uploaded since) against the level then. */
  private async claimInTx(tx: Knex.Transaction, ref: VersionRef, installedHere: boolean): Promise<SchemaClaim | null> {
    if (installedHere) return this.ctx.setup!.claim;
    if (!this.ctx.trustedKeys) return null;
    const row = await findRow(tx, ref);
    return row ? storedClaim(toRelease(row), this.ctx.trustedKeys) : null;
  }

  /**
   * Runs `release` (the ledger's read-decide-flip, which hands `inTransaction` to the release store) with the
   * schema's checks, and for a migrating release under the lease with the backup and the migrations.
   */
  async around<T>(v: Version, ref: VersionRef, release: (inTransaction: InTransaction) => Promise<T>): Promise<{ result: T; move: SchemaMoveDone | null }> {
    const installedHere = isInstalled(this.ctx, v);
    const claim = await this.claimOf(ref, installedHere);
    const level = (await this.ctx.fleet.schema.level())?.level ?? null;
    assertReleasable(v.raw, claim, level, installedHere);
    const checkOnly: InTransaction = async (tx) => {
      assertReleasable(v.raw, await this.claimInTx(tx, ref, installedHere), await readLevel(tx), false);
      return null;
    };
    if (!installedHere || !claim || !migratesFrom(claim, level)) return { result: await release(checkOnly), move: null };

    const lease = await this.acquireLease(v);
    try {
      // Another administrator may have migrated and released while this one waited for the lease.
      const levelNow = (await this.ctx.fleet.schema.level())?.level ?? null;
      const current = (await this.ctx.fleet.releases.current(ref.channel))?.release ?? null;
      if (!migratesFrom(claim, levelNow) || (current && compareVersions(current.version, v) === 0)) return { result: await release(checkOnly), move: null };
      return await this.migrateAndRelease(v, ref, claim, levelNow, lease, release);
    } catch (err) {
      await this.auditFailure(v, ref, err);
      throw err;
    } finally {
      await this.ctx.fleet.schema.releaseLease(lease).catch((err: Error) => this.ctx.log.warn('schema.lease-free-failed', { message: err.message }));
    }
  }

  private async migrateAndRelease<T>(v: Version, ref: VersionRef, claim: SchemaClaim, from: number | null, lease: MigrationLease, release: (inTransaction: InTransaction) => Promise<T>): Promise<{ result: T; move: SchemaMoveDone }> {
    const start = from ?? 0;
    const steps = await this.ctx.setup!.migrations.stepsBetween(start, claim.brings);
    checkSteps(steps, start, claim.brings);
    const backup = await backupBeforeMigration(this.ctx.fleet.db, this.ctx.settings, v.raw);
    if (backup) this.ctx.log.info('schema.backup', { version: v.raw, file: backup.file, how: backup.how });
    const names = steps.map((s) => s.name);
    const actor = actorOf(this.ctx.identity);
    const inTransaction: InTransaction = async (tx) => {
      await checkFence(tx, lease);
      if ((await readLevel(tx)) !== from) {
        throw new LockstepError('E_RELEASE_CONFLICT', 'The database schema level changed while this release was prepared; decide again.', { expected: from });
      }
      await runSteps(tx, steps, v.raw);
      await recordMove(tx, { from: start, to: claim.brings, migrations: names, channel: ref.channel, version: v.raw, backup: backup?.file ?? null }, actor);
      // The last word before the commit: the lease may have expired while the migrations ran.
      await checkFence(tx, lease);
      return { schema: { from: start, to: claim.brings, migrations: names, backup: backup?.file ?? null, fencingToken: lease.token } };
    };
    const result = await release(inTransaction);
    this.ctx.log.info('schema.migrated', { version: v.raw, from: start, to: claim.brings, migrations: names });
    return { result, move: { from: start, to: claim.brings, migrations: names, backup } };
  }

  /** Waits (bounded) while another administrator holds the lease; a crashed holder's lease expires meanwhile. */
  private async acquireLease(v: Version): Promise<MigrationLease> {
    const { settings } = this.ctx;
    const sleep = this.ctx.sleep ?? defaultSleep;
    const actor = actorOf(this.ctx.identity);
    const deadline = Date.now() + settings.waitMs;
    for (let attempt = 0; ; attempt++) {
      // Read first: on SQLite a write would queue behind the holder's open transaction for the whole busy timeout.
      const busy = await this.ctx.fleet.schema.leaseHolder();
      const lease = busy && !busy.expired ? null : await this.ctx.fleet.schema.tryAcquireLease(actor, v.raw, settings.leaseMs);
      if (lease) return lease;
      if (attempt === 0) this.ctx.log.info('schema.lease-wait', { version: v.raw, holder: busy?.holder ?? null });
      if (Date.now() >= deadline) {
        const holder = await this.ctx.fleet.schema.leaseHolder();
        throw new LockstepError('E_SCHEMA_LEASE_BUSY', `Another administrator (${holder?.holder ?? 'unknown'}) is migrating the database for version ${holder?.version ?? '?'}.`, {
          holder: holder?.holder ?? 'unknown',
          version: holder?.version ?? null,
        });
      }
      await sleep(Math.min(POLL_MS, Math.max(1, deadline - Date.now())));
    }
  }

  /** A failed migrating release leaves one audit row (outside the rolled-back transaction). */
  private async auditFailure(v: Version, ref: VersionRef, err: unknown): Promise<void> {
    if (isLockstepError(err, 'E_ALREADY_RELEASED') || isLockstepError(err, 'E_RELEASE_CONFLICT')) return;
    const e = toLockstepError(err);
    try {
      await this.ctx.fleet.audit({
        action: 'release',
        outcome: 'failed',
        actor: actorOf(this.ctx.identity),
        channel: ref.channel,
        version: v.raw,
        detail: { code: e.code, migration: typeof e.details['migration'] === 'string' ? e.details['migration'] : null, message: e.message.slice(0, 400) },
      });
    } catch (auditErr) {
      this.ctx.log.warn('schema.audit-failed', { message: (auditErr as Error).message });
    }
    this.ctx.log.error('schema.release-failed', { version: v.raw, code: e.code, message: e.message });
  }
}
