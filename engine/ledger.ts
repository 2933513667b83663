/**
 * Release ledger operations (S15) with the administrator check: release, re-release, withdraw, mark test-only, list.
 * Decisions (is this a downgrade? which release do we fall back to?) are made here from a read of the pointer; the
 * store applies them with a compare-and-set, and a conflict means "read again and decide again".
 */
import { LockstepError, isLockstepError } from '../contract/errors';
import { BlockStore, PruneResult } from '../db/blockStore';
import { FleetStore } from '../db/fleetStore';
import { VersionRef } from '../db/releaseStore';
import { ApplyResult } from '../db/scheduleStore';
import { CurrentPointer, Release, ReleaseSchedule } from '../db/types';
import { Identity, actorOf } from './identity';
import { InstalledVersionSource } from '../kernel/installation';
import { Logger } from '../kernel/log';
import { SchemaSetup, setupFor } from './schema/setup';
import { DEFAULT_MIGRATION_SETTINGS, MigrationSettings } from './schema/settings';
import { SchemaMoveDone, SchemaRelease } from './schema/schemaRelease';
import { storedClaim } from './schema/storedClaim';
import { SchemaClaim, describeWorks, worksOn } from '../kernel/schemaClaim';
import { resolveReleaseTime } from './releaseTime';
import { Version, compareVersions, parseVersion, versionSortKey } from '../kernel/version';

const MAX_ATTEMPTS = 8;

export interface LedgerOptions {
  channel: string;
  /** The vendor's security floor: no release pointer may move below it (S15). */
  securityFloor?: Version | null;
  /** Carries the package into the shared store before the pointer flips (S14 "Yes", S17); the fleet fills it. */
  packages?: ReleasePackages;
  /**
   * Opens the shared database as the admin login (S31): the workstation login cannot change releases, the pointer or
   * packages, so release, withdraw and test marks run through this session when the configuration names an admin
   * login. Absent: they run through the workstation's own connection (one login for everything, or SQLite).
   */
  admin?: () => Promise<AdminSession>;
  /**
   * The installed version's schema claim and migrations (engine/schema/setup.ts): "release for all" of the installed
   * version runs them. Absent: releases never migrate the client's database.
   */
  schema?: SchemaSetup;
  /** The version the schema setup belongs to (the installed one). */
  installed?: InstalledVersionSource;
  /** The vendor keys this workstation trusts: a stored release's schema claim counts only from its verified manifest. */
  trustedKeys?: readonly string[];
  /** Backup before a migration and the migration lease (engine/schema/migrationRun.ts). */
  migration?: MigrationSettings;
}

/** The ledger's writes as the admin login; closed after each operation (administrators release rarely). */
export interface AdminSession {
  fleet: FleetStore;
  packages?: ReleasePackages;
  close(): Promise<void>;
}

/**
 * The seam through which "release for all" carries the package (engine/fleet/publisher.ts). `publish`
 * resolves true once the package of `ref` is complete in the site's package store, false when this workstation has no
 * package for it (the release then only moves the pointer, and older workstations get the outdated notice).
 */
export interface ReleasePackages {
  publish(ref: VersionRef): Promise<boolean>;
}

export class Ledger {
  constructor(
    private readonly fleet: FleetStore,
    private readonly identity: Identity,
    private readonly log: Logger,
    private readonly options: LedgerOptions,
  ) {}

  get channel(): string {
    return this.options.channel;
  }

  private requireAdmin(action: string): void {
    if (!this.identity.isAdmin) {
      this.log.warn('ledger.denied', { action, user: this.identity.osUser });
      throw new LockstepError('E_NOT_ADMIN', `Only an administrator may ${action}; ${this.identity.osUser} is not listed in "administrators".`, { user: this.identity.osUser });
    }
  }

  ref(version: Version | string): VersionRef {
    const v = typeof version === 'string' ? parseVersion(version) : version;
    return { channel: this.options.channel, version: v.raw, versionKey: versionSortKey(v) };
  }

  private checkFloor(v: Version): void {
    const floor = this.options.securityFloor;
    if (floor && compareVersions(v, floor) < 0) {
      throw new LockstepError('E_BELOW_SECURITY_FLOOR', `Version ${v.raw} is below the vendor's security floor ${floor.raw} and cannot be released.`, {
        version: v.raw,
        floor: floor.raw,
      });
    }
  }

  /** Retries the read-decide-write cycle while other writers move the pointer under us. */
  private async withRetry<T>(fleet: FleetStore, what: string, attempt: (current: CurrentPointer | null) => Promise<T>, retry = true): Promise<T> {
    for (let i = 1; ; i++) {
      const current = await fleet.releases.current(this.options.channel);
      try {
        return await attempt(current);
      } catch (err) {
        if (!isLockstepError(err, 'E_RELEASE_CONFLICT') || !retry || i >= MAX_ATTEMPTS) throw err;
        this.log.info('ledger.retry', { what, attempt: i });
      }
    }
  }

  /** Runs a ledger write as the admin login when one is configured, otherwise through the workstation's connection. */
  private async asAdmin<T>(work: (fleet: FleetStore, packages: ReleasePackages | undefined) => Promise<T>): Promise<T> {
    if (!this.options.admin) return work(this.fleet, this.options.packages);
    const session = await this.options.admin();
    try {
      return await work(session.fleet, session.packages);
    } finally {
      await session.close().catch((err: Error) => this.log.warn('ledger.admin-close-failed', { message: err.message }));
    }
  }

  /**
   * Makes `version` the released version for all workstations. Moving to an earlier version than the current one is a
   * deliberate downgrade and needs `rerelease: true` (S15).
   */
  async release(versionText: string, options: { rerelease?: boolean; expectedRevision?: number } = {}): Promise<Release & { schemaMove?: SchemaMoveDone }> {
    this.requireAdmin('release a version');
    const v = parseVersion(versionText);
    this.checkFloor(v);
    const ref = this.ref(v);
    let withPackage: boolean | undefined; // published once, even when a pointer conflict makes us decide again
    // The client's schema: the level check on every release, and for a migrating one the lease, backup and migrations.
    const { result, move } = await this.asAdmin((fleet, packages) => this.schemaRelease(fleet).around(v, ref, (inTransaction) => this.withRetry(fleet, 'release', async (current) => {
      const currentRelease = current?.release ?? null;
      if (currentRelease && compareVersions(v, currentRelease.version) === 0) {
        throw new LockstepError('E_ALREADY_RELEASED', `Version ${currentRelease.version} is already the released version.`, { version: currentRelease.version });
      }
      // An answer to the gate's question was based on what the gate read: if the pointer moved since, the question
      // itself is stale and the administrator must see the new situation (no silent retry).
      if (options.expectedRevision !== undefined && (current?.revision ?? 0) !== options.expectedRevision) {
        throw new LockstepError('E_RELEASE_CONFLICT', `The released version changed to ${currentRelease?.version ?? 'none'} while the question was open; decide again.`, {
          released: currentRelease?.version ?? null,
        });
      }
      const down = currentRelease !== null && compareVersions(v, currentRelease.version) < 0;
      if (down && !options.rerelease) {
        throw new LockstepError('E_DOWNGRADE', `Version ${v.raw} is older than the released ${currentRelease.version}; re-releasing it moves every workstation back and must be asked for explicitly (--rerelease).`, {
          version: v.raw,
          released: currentRelease.version,
        });
      }
      const expected = options.expectedRevision ?? current?.revision ?? 0;
      // Upload first (the row stays `uploading`, invisible as a release), then ONE transaction flips it (S19).
      withPackage ??= packages ? await packages.publish(ref) : false;
      return fleet.releases.release(ref, actorOf(this.identity), { expectedRevision: expected, action: down ? 'rerelease' : 'release' }, { requirePackage: withPackage, inTransaction });
    }, options.expectedRevision === undefined)));
    this.log.info('ledger.release', { version: result.version, channel: this.channel, by: this.identity.osUser, from: this.identity.workstationId });
    return move ? { ...result, schemaMove: move } : result;
  }

  private schemaRelease(fleet: FleetStore): SchemaRelease {
    const o = this.options;
    return new SchemaRelease({
      fleet, identity: this.identity, log: this.log, settings: o.migration ?? DEFAULT_MIGRATION_SETTINGS,
      ...(o.schema ? { setup: o.schema } : {}), ...(o.installed ? { installed: o.installed } : {}), ...(o.trustedKeys ? { trustedKeys: o.trustedKeys } : {}),
    });
  }

  /** Withdraws a release; when it is the current one, the pointer falls back to the newest earlier release above the floor. */
  async withdraw(versionText: string): Promise<{ withdrawn: Release; current: Release | null }> {
    this.requireAdmin('withdraw a release');
    const v = parseVersion(versionText);
    const ref = this.ref(v);
    const result = await this.asAdmin((fleet) => this.withRetry(fleet, 'withdraw', async (current) => {
      const isCurrent = current?.release ? compareVersions(current.release.version, v) === 0 : false;
      const fallback = isCurrent ? await this.fallbackBelow(v) : null;
      if (fallback) await this.checkFallbackLevel(fleet, fallback, v);
      return fleet.releases.withdraw(ref, fallback ? { versionKey: fallback.versionKey } : null, actorOf(this.identity), current?.revision ?? 0);
    }));
    this.log.info('ledger.withdraw', { version: v.raw, nowCurrent: result.current?.version ?? null, by: this.identity.osUser });
    return result;
  }

  /** `version`'s schema claim: this installation's when it runs that version, else the one its stored signed manifest states. */
  private claimFor(version: string, stored: Release | null): SchemaClaim | null {
    const installed = this.options.installed ? tryInstalled(this.options.installed) : null;
    const setup = installed && compareVersions(installed, version) === 0 ? setupFor(this.options.schema, installed) : null;
    if (setup) return setup.claim;
    return stored && this.options.trustedKeys ? storedClaim(stored, this.options.trustedKeys) : null;
  }

  /**
   * After a release migrated the client's database, moving back is allowed only to a version that works on its
   * level: anything else would put every workstation on a version that cannot use the database.
   */
  private async checkFallbackLevel(fleet: FleetStore, fallback: Release, withdrawing: Version): Promise<void> {
    const claim = this.claimFor(fallback.version, fallback);
    const level = (await fleet.schema.level())?.level ?? null;
    if (worksOn(claim, level)) return;
    throw new LockstepError(
      'E_SCHEMA_LEVEL',
      `Withdrawing ${withdrawing.raw} would move every workstation back to ${fallback.version}, which works on schema levels ${describeWorks(claim!)}; the database is at level ${level}. Release a newer version that works on level ${level} instead, or restore the backup taken before the migration (lockstep schema restore-backup).`,
      { version: fallback.version, level, works: describeWorks(claim!), withdrawing: withdrawing.raw },
    );
  }

  /**
   * Deletes the stored package of a withdrawn or superseded release and frees the blocks no other release uses
   * (blockStore.ts prune: one transaction, audited as `prune`). A superseded release still `released` is withdrawn
   * with it, so no later withdraw falls back to a version whose package is gone.
   */
  async prune(versionText: string): Promise<PruneResult> {
    this.requireAdmin('prune a release');
    const ref = this.ref(parseVersion(versionText));
    const result = await this.asAdmin((fleet) => new BlockStore(fleet.db).prune(ref, actorOf(this.identity)));
    this.log.info('ledger.prune', { version: result.version, blocksFreed: result.blocksFreed, bytesFreed: result.bytesFreed, blocksKept: result.blocksKept, chunksFreed: result.chunksFreed, by: this.identity.osUser });
    return result;
  }

  private async fallbackBelow(v: Version): Promise<Release | null> {
    const floor = this.options.securityFloor;
    const candidates = (await this.fleet.releases.list(this.channel)).filter((r) => {
      if (r.state !== 'released') return false;
      const rv = tryParse(r.version);
      return rv !== null && compareVersions(rv, v) < 0 && (!floor || compareVersions(rv, floor) >= 0);
    });
    candidates.sort((a, b) => compareVersions(a.version, b.version));
    return candidates.at(-1) ?? null;
  }

  /** Records `version` as installed here for testing only (S14 "No"); the question is not asked again for it here. */
  async markTest(versionText: string): Promise<{ release: Release; alreadyMarked: boolean }> {
    this.requireAdmin('mark a version as test-only');
    const v = parseVersion(versionText);
    const result = await this.asAdmin((fleet) => fleet.releases.markTest(this.ref(v), actorOf(this.identity)));
    this.log.info('ledger.mark-test', { version: v.raw, workstation: this.identity.workstationId, alreadyMarked: result.alreadyMarked });
    return result;
  }

  /**
   * Sets `version` to become the released version at `atText` (a clock time such as 22:00, or an ISO time; see
   * releaseTime.ts). The release row and its package go into the shared database now, through the same publish path
   * as an immediate release; the pointer moves at that time (scheduleStore.ts applyDue).
   */
  async schedule(versionText: string, atText: string, options: { rerelease?: boolean } = {}): Promise<ReleaseSchedule> {
    this.requireAdmin('schedule a release');
    const v = parseVersion(versionText);
    this.checkFloor(v);
    const ref = this.ref(v);
    const result = await this.asAdmin(async (fleet, packages) => {
      await this.checkSchedulableLevel(fleet, v, ref);
      const dueAt = resolveReleaseTime(atText, await fleet.schedules.serverNow());
      const currentRelease = (await fleet.releases.current(this.options.channel))?.release ?? null;
      if (currentRelease && compareVersions(v, currentRelease.version) === 0) {
        throw new LockstepError('E_ALREADY_RELEASED', `Version ${currentRelease.version} is already the released version.`, { version: currentRelease.version });
      }
      if (currentRelease && compareVersions(v, currentRelease.version) < 0 && !options.rerelease) {
        throw new LockstepError('E_DOWNGRADE', `Version ${v.raw} is older than the released ${currentRelease.version}; re-releasing it moves every workstation back and must be asked for explicitly (--rerelease).`, {
          version: v.raw,
          released: currentRelease.version,
        });
      }
      const withPackage = packages ? await packages.publish(ref) : false;
      return fleet.schedules.schedule(ref, actorOf(this.identity), dueAt, { withPackage });
    });
    this.log.info('ledger.schedule', { version: result.version, at: result.dueAt, channel: this.channel, by: this.identity.osUser });
    return result;
  }

  /**
   * The pointer of a scheduled release moves on whichever workstation sees the time first, without the migrations
   * that only the installation of that version carries: so only a version that works on the database's current
   * schema level may be scheduled; one that migrates is released now, from a workstation where it is installed.
   */
  private async checkSchedulableLevel(fleet: FleetStore, v: Version, ref: VersionRef): Promise<void> {
    const claim = this.claimFor(v.raw, await fleet.releases.find(ref));
    const level = (await fleet.schema.level())?.level ?? null;
    if (worksOn(claim, level)) return;
    throw new LockstepError(
      'E_SCHEMA_LEVEL',
      `Version ${v.raw} works on schema levels ${describeWorks(claim!)}; the database is at level ${level}. A release that migrates the database cannot be scheduled: release it now from a workstation where it is installed (its migrations run in the release's own transaction).`,
      { version: v.raw, level, works: describeWorks(claim!) },
    );
  }

  /** Cancels the pending scheduled release of `version` before its time (audited). */
  async cancelSchedule(versionText: string): Promise<ReleaseSchedule> {
    this.requireAdmin('cancel a scheduled release');
    const ref = this.ref(parseVersion(versionText));
    const result = await this.asAdmin((fleet) => fleet.schedules.cancel(ref, actorOf(this.identity)));
    this.log.info('ledger.cancel-schedule', { version: result.version, at: result.dueAt, by: this.identity.osUser });
    return result;
  }

  /**
   * Moves the pointer to the channel's due scheduled release, exactly once whoever calls (scheduleStore.applyDue).
   * An administrator with an admin login (S31) moves it through that login; everyone else through their own, which
   * a least-privilege workstation login is refused (the gate then follows the due schedule without moving it).
   */
  async applyDueSchedule(): Promise<ApplyResult> {
    const apply = (fleet: FleetStore) => fleet.schedules.applyDue(this.options.channel, actorOf(this.identity));
    return this.identity.isAdmin && this.options.admin ? this.asAdmin((fleet) => apply(fleet)) : apply(this.fleet);
  }

  /** Every ledger row of the channel, newest version first; rows whose version text is malformed sort last. */
  async list(): Promise<Release[]> {
    const rows = await this.fleet.releases.list(this.channel);
    return rows.sort((a, b) => {
      const av = tryParse(a.version);
      const bv = tryParse(b.version);
      if (!av || !bv) return av ? -1 : bv ? 1 : 0;
      return compareVersions(bv, av);
    });
  }
}

function tryInstalled(source: InstalledVersionSource): Version | null {
  try {
    return source.installedVersion();
  } catch {
    return null;
  }
}

function tryParse(text: string): Version | null {
  try {
    return parseVersion(text);
  } catch {
    return null;
  }
}
