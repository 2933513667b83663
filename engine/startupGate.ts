/**
 * The start-up gate (S14): on every start, before the app touches business data. One read of everything the decision
 * needs, the decision (gateDecision.ts), one heartbeat write; then, for `upgrade`, the upgrade itself through the
 * Upgrader seam, which the fleet fills with "package from the shared database → verify → install → restart".
 */
import { ErrorInfo, LockstepError, isLockstepError, toLockstepError } from '../contract/errors';
import { GateDecision, OutdatedPolicySetting, ScheduledInfo, mayUseDatabase } from '../contract/gate';
import { FleetStore } from '../db/fleetStore';
import { GateArgs, HeartbeatArgs } from '../db/gateQueries';
import { GateSnapshot, Release } from '../db/types';
import { decide, decideWithSchema } from './gateDecision';
import { graceOfRead, outdatedNotice } from './grace';
import { Identity, actorOf } from './identity';
import { InstalledVersionSource } from '../kernel/installation';
import { Ledger } from './ledger';
import { SchemaSetup } from './schema/setup';
import { worksOn } from '../kernel/schemaClaim';
import { Logger } from '../kernel/log';
import { Version, compareVersions, parseVersion, versionSortKey } from '../kernel/version';

export interface UpgradeTarget {
  version: Version;
  release: Release;
  downgrade: boolean;
  /** The version this workstation runs (a move back is checked against who withdrew it). */
  installed?: Version;
}

/** What an upgrade has to say beside "upgraded" (a module the release brought no version of), for the registry row. */
export interface UpgradeOutcome {
  note?: string;
  /** The coded problem the note reports (E_MODULE_INCOMPATIBLE), counted by the fleet view. */
  code?: string;
}

/** Installs the released version on this workstation. Resolves once installed and a restart is due. */
export interface Upgrader {
  upgrade(target: UpgradeTarget): Promise<UpgradeOutcome | void>;
}

/** Until the fleet issue provides the package path, a workstation cannot upgrade by itself. */
export const unavailableUpgrader: Upgrader = {
  async upgrade(target) {
    throw new LockstepError('E_UPGRADE_UNAVAILABLE', `This workstation cannot install version ${target.version.raw} by itself.`, { version: target.version.raw });
  },
};

export interface GateOptions {
  channel: string;
  policy: OutdatedPolicySetting;
  ring: 'test' | 'regular';
  /** The installed version's schema claim (engine/schema/setup.ts); absent: it works on every schema level. */
  schema?: SchemaSetup;
}

export interface GateResult {
  decision: GateDecision;
  mayUseDatabase: boolean;
  /** Set after a successful upgrade: the app restarts into this version. */
  restartInto: string | null;
  /** Show the "test version" marker. */
  testVersion: boolean;
  /** The channel pointer revision the decision was based on (the release answer compares-and-sets against it). */
  revision: number;
  /**
   * Set when this administrator answered "yes" but another one released the same version first: who, from where and
   * when. The answer is recorded and the gate goes on as for a released version.
   */
  alreadyReleased?: AlreadyReleased;
  /** The channel's pending scheduled release ("scheduled for …"), when one is set and not yet due. */
  scheduled?: ScheduledInfo | null;
}

export interface AlreadyReleased {
  version: string;
  by: string | null;
  from: string | null;
  at: string | null;
  message: string;
}

export interface Evaluation {
  decision: GateDecision;
  installed: Version;
  snapshot: GateSnapshot;
}

export class StartupGate {
  private heartbeatInFlight: Promise<void> | null = null;
  private heartbeatDue: Version | null = null;

  constructor(
    private readonly fleet: FleetStore,
    private readonly identity: Identity,
    private readonly installedSource: InstalledVersionSource,
    private readonly ledger: Ledger,
    private readonly log: Logger,
    private readonly options: GateOptions,
    private readonly upgrader: Upgrader = unavailableUpgrader,
  ) {}

  /** Reads and decides; writes nothing (the CLI's `status`, the release watcher). */
  async evaluate(): Promise<Evaluation> {
    return this.readAndDecide(false);
  }

  /**
   * One read, then the decision. `materialize`: a due scheduled release seen here moves the pointer (once, by
   * compare-and-set); only the start itself does that, so a plain read never writes.
   */
  private async readAndDecide(materialize: boolean): Promise<Evaluation> {
    const installed = this.installedSource.installedVersion();
    const read = await this.fleet.workstations.gateSnapshot(this.options.channel, this.identity.workstationId, versionSortKey(installed));
    const snapshot = await this.followSchedule(read, installed, materialize);
    return { decision: this.decideFrom(installed, snapshot), installed, snapshot };
  }

  private decideFrom(installed: Version, snapshot: GateSnapshot): GateDecision {
    const current = snapshot.current?.release ?? null;
    const facts = {
      installed,
      released: current ? parseStoredVersion(current) : null,
      installedState: snapshot.installedState,
      testMarked: snapshot.testMarked,
      isAdmin: this.identity.isAdmin,
      policy: typeof this.options.policy === 'string' ? this.options.policy : 'warn',
    };
    const decision = this.options.schema ? decideWithSchema(facts, { claim: this.options.schema.claim, level: snapshot.schemaLevel ?? null }) : decide(facts);
    const scheduled = scheduledInfo(snapshot);
    if (decision.type === 'ask-release' && scheduled && compareVersions(scheduled.version, installed) === 0) return { ...decision, scheduled };
    return decision;
  }

  /**
   * A scheduled release whose time has come (by the server's clock): the gate that sees it first moves the pointer
   * (`materialize`, exactly once: scheduleStore.applyDue) and reads again. Read-only evaluations, and logins that may
   * not move the pointer (S31), follow the due schedule as if the pointer had moved — as long as nobody moved the
   * pointer since it was scheduled — so every workstation follows after the time, whoever materializes it.
   */
  private async followSchedule(snapshot: GateSnapshot, installed: Version, materialize: boolean): Promise<GateSnapshot> {
    const due = snapshot.schedule?.due ? snapshot.schedule : null;
    if (!due) return snapshot;
    if (materialize) {
      try {
        const applied = await this.ledger.applyDueSchedule();
        this.log.info('gate.schedule-due', { version: due.version, at: due.dueAt, outcome: applied.outcome });
        const fresh = await this.fleet.workstations.gateSnapshot(this.options.channel, this.identity.workstationId, versionSortKey(installed));
        if (!fresh.schedule?.due) return fresh;
        snapshot = fresh;
      } catch (err) {
        this.log.warn('gate.schedule-not-applied', { version: due.version, code: toLockstepError(err).code });
      }
    }
    const revision = snapshot.current?.revision ?? 0;
    if (revision !== due.baseRevision) return { ...snapshot, schedule: null }; // released or withdrawn meanwhile
    const release = await this.fleet.schedules.scheduledRelease(due);
    if (!release) return snapshot;
    const followed: Release = { ...release, state: 'released', releasedBy: due.scheduledBy, releasedFrom: due.scheduledFrom, releasedAt: due.dueAt };
    return { ...snapshot, current: { channel: this.options.channel, revision, release: followed }, schedule: null };
  }

  /** The outdated notice for I < R, with the grace period of "warn for N days" measured on the server's clock. */
  outdatedFor(decision: { installed: string; released: string }, snapshot: GateSnapshot, reason: ErrorInfo | null): Extract<GateDecision, { type: 'outdated' }> {
    return outdatedNotice(decision.installed, decision.released, graceOfRead(snapshot, this.options.policy), reason);
  }

  /**
   * The whole gate: one read, the decision, and for `upgrade` the upgrade. The heartbeat is written after the decision
   * without making the user wait for it (heartbeatLater); an upgrade waits for it, since the result it records lands in
   * the heartbeat's row.
   */
  async run(): Promise<GateResult> {
    const { decision, installed, snapshot } = await this.readAndDecide(true);
    this.log.info('gate.decision', { ...decision, workstation: this.identity.workstationId });
    this.heartbeatLater(installed);
    const revision = snapshot.current?.revision ?? 0;
    const scheduled = scheduledInfo(snapshot);
    if (decision.type !== 'upgrade') return { ...this.result(decision, revision, null), scheduled };

    await this.settled();
    const release = snapshot.current!.release!;
    try {
      const outcome = await this.upgrader.upgrade({ version: parseStoredVersion(release), release, downgrade: decision.downgrade, installed });
      // An upgrade that kept an incompatible module is a success the fleet view still counts by its code.
      await this.recordResult(`upgraded ${decision.installed} → ${decision.released}${outcome?.note ? `; ${outcome.note}` : ''}`, outcome?.code ?? null);
      this.log.info('gate.upgraded', { from: decision.installed, to: decision.released, downgrade: decision.downgrade });
      return this.result(decision, revision, decision.released);
    } catch (err) {
      const e = toLockstepError(err);
      await this.recordResult(`${e.code}: upgrade to ${decision.released} failed`, e.code);
      this.log.error('gate.upgrade-failed', { to: decision.released, code: e.code, message: e.message });
      // Staying on a version that does not work on the database's schema level is never a mere warning.
      const outdated: GateDecision = worksOn(this.options.schema?.claim, snapshot.schemaLevel ?? null)
        ? this.outdatedFor(decision, snapshot, e.toInfo())
        : { type: 'outdated', installed: decision.installed, released: decision.released, policy: 'block', reason: e.toInfo() };
      return { ...this.result(outdated, revision, null), scheduled };
    }
  }

  /**
   * Writes this start's heartbeat in the background. Nothing decided reads it (the decision rests on the release
   * ledger and the test marks), so a process that dies before it lands loses only this start's registry update: its
   * last start time, host, user, installed version and ring stay as the previous start left them, and a workstation's
   * very first start leaves no row until the next start writes it. Starts in quick succession coalesce: at most one
   * write in flight and one queued, which carries the latest start's values.
   */
  private heartbeatLater(installed: Version): void {
    this.heartbeatDue = installed;
    if (this.heartbeatInFlight) return;
    this.heartbeatInFlight = (async () => {
      await new Promise<void>((resolve) => setImmediate(resolve)); // even building the statement waits for the caller
      for (let due = this.heartbeatDue; due; due = this.heartbeatDue) {
        this.heartbeatDue = null;
        try {
          await this.fleet.workstations.heartbeat(this.gateArgs(due), this.heartbeatArgs(due));
        } catch (err) {
          this.log.warn('gate.heartbeat-failed', { code: toLockstepError(err).code, message: (err as Error).message });
        }
      }
    })().finally(() => (this.heartbeatInFlight = null));
  }

  /** Resolves once the heartbeats started so far are written (or failed and were logged); before closing the database. */
  async settled(): Promise<void> {
    while (this.heartbeatInFlight) await this.heartbeatInFlight;
  }

  private gateArgs(installed: Version): GateArgs {
    return { channel: this.options.channel, workstationId: this.identity.workstationId, installedKey: versionSortKey(installed) };
  }

  private heartbeatArgs(installed: Version): HeartbeatArgs {
    return { hostName: this.identity.hostName, osUser: this.identity.osUser, installedVersion: installed.raw, ring: this.options.ring };
  }

  /**
   * Answers "Release version I for all workstations?". Yes: I becomes the released version (compare-and-set against
   * what the question was based on). No: this workstation is recorded as a test workstation for I.
   */
  /**
   * The heartbeat write and the read in one go, then the decision (no upgrade attempted). Everything that records
   * something for this workstation starts here, so its registry row exists first.
   */
  async heartbeat(): Promise<Evaluation> {
    const installed = this.installedSource.installedVersion();
    await this.settled();
    const snapshot = await this.fleet.workstations.gateStart(this.gateArgs(installed), this.heartbeatArgs(installed));
    const followed = await this.followSchedule(snapshot, installed, true);
    return { decision: this.decideFrom(installed, followed), installed, snapshot: followed };
  }

  /** `at` with "yes": release at that time (Ledger.schedule); the package goes into the database now. */
  async answer(answer: 'yes' | 'no', at?: string): Promise<GateResult> {
    const { decision, snapshot } = await this.heartbeat();
    // Another administrator's "yes" may have landed between the question and this answer: not an error for this one.
    const releasedMeanwhile = answer === 'yes' && this.identity.isAdmin && decision.type !== 'ask-release' ? this.releasedAs(snapshot.current?.release ?? null, decision.installed) : null;
    if (releasedMeanwhile) return this.lostRelease(releasedMeanwhile, 'E_NO_QUESTION');
    if (decision.type !== 'ask-release') {
      throw new LockstepError('E_NO_QUESTION', `There is no release question to answer: the gate decided "${decision.type}".`, { decision: decision.type });
    }
    if (!this.identity.isAdmin) {
      throw new LockstepError('E_NOT_ADMIN', `Version ${decision.installed} is a test installation awaiting release by an administrator.`, { user: this.identity.osUser });
    }
    if (answer === 'yes' && at !== undefined) {
      await this.ledger.schedule(decision.installed, at);
    } else if (answer === 'yes') {
      try {
        await this.ledger.release(decision.installed, { expectedRevision: snapshot.current?.revision ?? 0 });
      } catch (err) {
        // Two administrators answered at once and the other one's compare-and-set won: when it released this very
        // version, the question is answered the way this one wanted; any other version is a new situation to decide.
        if (!isLockstepError(err, 'E_ALREADY_RELEASED') && !isLockstepError(err, 'E_RELEASE_CONFLICT')) throw err;
        const winner = this.releasedAs((await this.fleet.releases.current(this.options.channel))?.release ?? null, decision.installed);
        if (!winner) throw err;
        return this.lostRelease(winner, err.code);
      }
    } else {
      await this.ledger.markTest(decision.installed);
    }
    return this.run();
  }

  /** The current release when it is `version`, else null. */
  private releasedAs(current: Release | null, version: string): Release | null {
    return current && current.state === 'released' && compareVersions(current.version, version) === 0 ? current : null;
  }

  /**
   * This administrator's "yes" came second: record the answer (the audit trail shows both administrators said yes),
   * say who released the version and when, and go on as for a released version.
   */
  private async lostRelease(winner: Release, lostWith: string): Promise<GateResult> {
    const message = `Version ${winner.version} was already released for all workstations by ${winner.releasedBy ?? 'another administrator'}${winner.releasedFrom ? ` (${winner.releasedFrom})` : ''}${winner.releasedAt ? ` at ${winner.releasedAt}` : ''}; your answer "yes" is recorded.`;
    await this.fleet.audit({
      action: 'release-answer',
      outcome: 'already-released',
      actor: actorOf(this.identity),
      channel: winner.channel,
      version: winner.version,
      detail: { answer: 'yes', releasedBy: winner.releasedBy, releasedFrom: winner.releasedFrom, releasedAt: winner.releasedAt, lostWith },
    });
    this.log.info('gate.already-released', { version: winner.version, releasedBy: winner.releasedBy, releasedAt: winner.releasedAt, by: this.identity.osUser });
    const result = await this.run();
    return { ...result, alreadyReleased: { version: winner.version, by: winner.releasedBy, from: winner.releasedFrom, at: winner.releasedAt, message } };
  }

  private async recordResult(text: string, code: string | null = null): Promise<void> {
    try {
      await this.fleet.workstations.recordResult(this.identity.workstationId, text, code);
    } catch (err) {
      this.log.warn('gate.record-result-failed', { message: (err as Error).message });
    }
  }

  private result(decision: GateDecision, revision: number, restartInto: string | null): GateResult {
    return { decision, mayUseDatabase: restartInto === null && mayUseDatabase(decision), restartInto, testVersion: decision.type === 'test-workstation', revision };
  }
}

/** The pending schedule as the UI shows it ("scheduled for …"); null once due or when none. */
function scheduledInfo(snapshot: GateSnapshot): ScheduledInfo | null {
  const s = snapshot.schedule;
  return s && !s.due ? { version: s.version, at: s.dueAt, by: s.scheduledBy } : null;
}

/** A version text in the shared database that does not parse is corruption (or tampering), never a guess. */
function parseStoredVersion(release: Release): Version {
  try {
    return parseVersion(release.version);
  } catch {
    throw new LockstepError('E_DB_CORRUPT', `The released version "${release.version}" in the shared database (release ${release.id}) is not a version number; an administrator must withdraw it.`, {
      releaseId: release.id,
      version: release.version,
    });
  }
}
