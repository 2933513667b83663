/**
 * The start-up gate (S14): on every start, before the app touches business data. One read of everything the decision
 * needs, the decision (gateDecision.ts), one heartbeat write; then, for `upgrade`, the upgrade itself through the
 * Upgrader seam, which the fleet fills with "package from the shared database → verify → install → restart".
 */
import { LockstepError, isLockstepError, toLockstepError } from '../contract/errors';
import { GateDecision, OutdatedPolicy, mayUseDatabase } from '../contract/gate';
import { FleetStore } from '../db/fleetStore';
import { GateSnapshot, Release } from '../db/types';
import { decide } from './gateDecision';
import { Identity, actorOf } from './identity';
import { InstalledVersionSource } from '../kernel/installation';
import { Ledger } from './ledger';
import { Logger } from '../kernel/log';
import { Version, compareVersions, parseVersion, versionSortKey } from '../kernel/version';

export interface UpgradeTarget {
  version: Version;
  release: Release;
  downgrade: boolean;
  /** The version this workstation runs (a move back is checked against who withdrew it). */
  installed?: Version;
}

/** Installs the released version on this workstation. Resolves once installed and a restart is due. */
export interface Upgrader {
  upgrade(target: UpgradeTarget): Promise<void>;
}

/** Until the fleet issue provides the package path, a workstation cannot upgrade by itself. */
export const unavailableUpgrader: Upgrader = {
  async upgrade(target) {
    throw new LockstepError('E_UPGRADE_UNAVAILABLE', `This workstation cannot install version ${target.version.raw} by itself.`, { version: target.version.raw });
  },
};

export interface GateOptions {
  channel: string;
  policy: OutdatedPolicy;
  ring: 'test' | 'regular';
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
  constructor(
    private readonly fleet: FleetStore,
    private readonly identity: Identity,
    private readonly installedSource: InstalledVersionSource,
    private readonly ledger: Ledger,
    private readonly log: Logger,
    private readonly options: GateOptions,
    private readonly upgrader: Upgrader = unavailableUpgrader,
  ) {}

  /** Reads and decides; writes nothing (the CLI's `status`). */
  async evaluate(): Promise<Evaluation> {
    const installed = this.installedSource.installedVersion();
    const snapshot = await this.fleet.workstations.gateSnapshot(this.options.channel, this.identity.workstationId, versionSortKey(installed));
    return { decision: this.decideFrom(installed, snapshot), installed, snapshot };
  }

  private decideFrom(installed: Version, snapshot: GateSnapshot): GateDecision {
    const current = snapshot.current?.release ?? null;
    return decide({
      installed,
      released: current ? parseStoredVersion(current) : null,
      installedState: snapshot.installedState,
      testMarked: snapshot.testMarked,
      isAdmin: this.identity.isAdmin,
      policy: this.options.policy,
    });
  }

  /** The whole gate: heartbeat + read (one round trip where the database allows), decide, and for `upgrade` try it. */
  async run(): Promise<GateResult> {
    const { decision, installed, snapshot } = await this.heartbeat();
    this.log.info('gate.decision', { ...decision, workstation: this.identity.workstationId });
    const revision = snapshot.current?.revision ?? 0;
    if (decision.type !== 'upgrade') return this.result(decision, revision, null);

    const release = snapshot.current!.release!;
    try {
      await this.upgrader.upgrade({ version: parseStoredVersion(release), release, downgrade: decision.downgrade, installed });
      await this.recordResult(`upgraded ${decision.installed} → ${decision.released}`);
      this.log.info('gate.upgraded', { from: decision.installed, to: decision.released, downgrade: decision.downgrade });
      return this.result(decision, revision, decision.released);
    } catch (err) {
      const e = toLockstepError(err);
      await this.recordResult(`${e.code}: upgrade to ${decision.released} failed`, e.code);
      this.log.error('gate.upgrade-failed', { to: decision.released, code: e.code, message: e.message });
      const outdated: GateDecision = { type: 'outdated', installed: decision.installed, released: decision.released, policy: this.options.policy, reason: e.toInfo() };
      return this.result(outdated, revision, null);
    }
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
    const snapshot = await this.fleet.workstations.gateStart(
      { channel: this.options.channel, workstationId: this.identity.workstationId, installedKey: versionSortKey(installed) },
      { hostName: this.identity.hostName, osUser: this.identity.osUser, installedVersion: installed.raw, ring: this.options.ring },
    );
    return { decision: this.decideFrom(installed, snapshot), installed, snapshot };
  }

  async answer(answer: 'yes' | 'no'): Promise<GateResult> {
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
    if (answer === 'yes') {
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
