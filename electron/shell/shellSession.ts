/**
 * What the windows can do, in one object that runs under plain Node: the shell's state (update lifecycle + installing +
 * gate + credentials request) as whole snapshots, and one method per IPC channel. Electron only adds windows around
 * it (main.ts); the browser tests drive this same object through the same handler table (electron/ipc.ts).
 *
 *   start() ─ recover an interrupted install → start-up gate (S14) → resume a separate download (S7) → check at
 *             start when the setting says so (S1); confirmHealthy() follows once the host's first window is ready
 *   download(now)        → download → install → restart-requested → relaunch
 *   download(background) → download (notification when ready) → *Install now* → install → restart-requested
 *
 * While the app runs, the release watcher (fleet/releaseWatcher.ts) looks for a newer release at every database access
 * the app reports (noteDatabaseAccess) and every fleet.checkIntervalMs; a newer one turns the gate state into the
 * outdated notice (pushed to the windows, `outdated` event → main.ts shows the notice window). Under `block` the app
 * may no longer use the database; under `warn` the notice can be dismissed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError, toLockstepError } from '../../contract/errors';
import type { AdminOverview, DownloadRequest, ShellSnapshot, WindowKind } from '../../contract/ipc';
import type { Locale } from '../../contract/messages';
import { GateDecision, mayUseDatabase } from '../../contract/gate';
import type { CheckResult, UpdateState } from '../../contract/update';
import type { FleetSummary } from '../../contract/fleet';
import { fleetCsv } from '../../engine/fleet/fleetCsv';
import { storedReleaseNotes } from '../../engine/fleet/storedNotes';
import { loadUserSettings, saveUserSettings, UserSettings } from '../../kernel/config';
import { FeedContext } from '../../engine/feed/download';
import type { OutdatedNotice } from '../../engine/fleet/releaseWatcher';
import { installDownloaded } from '../../engine/installDownloaded';
import { ModuleInstaller } from '../../engine/moduleInstall';
import type { ModuleHandover } from '../../installer/moduleHandover';
import { parseStartTime } from '../../engine/schedule';
import { GateResult } from '../../engine/startupGate';
import { UpdateService } from '../../engine/updateService';
import { Workstation } from '../../engine/workstation';
import { PackageKind } from '../../installer/journal';
import { CredentialsBroker } from './credentials';
import { NotesRenderer } from './notes';
import { workstationGrace } from '../../engine/grace';

/** The part of the installer (installer/installer.ts) the shell uses. */
export interface InstallerPort {
  install(input: { packagePath: string; sha512: string; kind: PackageKind; version: string; manifest: { text: string; signature: string }; modules?: ModuleHandover }): Promise<{ from: string | null; to: string; elevation: string }>;
  recoverInstall(): Promise<unknown>;
  confirmHealthy(): boolean;
}

export type ShellEvent =
  | { type: 'open-window'; kind: WindowKind }
  /** The gate let the app go on (warn, test version, release question answered): open the main window. */
  | { type: 'continue' }
  /** A separate download finished: the notification (S7). */
  | { type: 'background-ready'; version: string }
  /** A newer release appeared while the app runs: show the outdated notice (under block: stop business work). */
  | { type: 'outdated'; decision: OutdatedNotice; mayUseDatabase: boolean }
  | { type: 'relaunch' };

/** The release watcher as the shell uses it (engine/fleet/releaseWatcher.ts). */
export interface ReleaseWatcherPort {
  start(): void;
  stop(): void;
  noteDatabaseAccess(): Promise<OutdatedNotice | null>;
  onOutdated(listener: (n: OutdatedNotice) => void): () => void;
}

export interface SessionDeps {
  workstation: Workstation;
  updates: UpdateService;
  /** The feed the updates come from: its trusted keys and platform decide what may be installed. */
  feed: FeedContext;
  installer: InstallerPort;
  broker: CredentialsBroker;
  settingsFile: string;
  systemLocale: Locale;
  product: string;
  renderNotes: NotesRenderer;
  installedVersion: () => string;
  /** Watches for a newer release while the app runs; started once the gate let the app go on. */
  watcher?: ReleaseWatcherPort;
  /** Installs the ticked module packages together with the app and carries the others across (S6). */
  modules?: ModuleInstaller;
  now?: () => Date;
}

export class ShellSession {
  private settings: UserSettings;
  private gate: GateResult | null = null;
  /** When the gate decided (monotonic): a grace period's time left counts from here, not from the wall clock. */
  private gateAt = 0;
  private notesHtml: Record<string, string> = {};
  /** Notes of the version the release question is about, from the signed catalogs in the shared database. */
  private storedNotesHtml: Record<string, string> = {};
  private readonly listeners = new Set<(s: ShellSnapshot) => void>();
  private readonly eventListeners = new Set<(e: ShellEvent) => void>();
  private lastUpdate: UpdateState;
  private watching = false;

  constructor(private readonly deps: SessionDeps) {
    const loaded = loadUserSettings(deps.settingsFile);
    if (loaded.warning) deps.workstation.log.warn('settings.broken', { message: loaded.warning });
    this.settings = loaded.settings;
    this.lastUpdate = deps.updates.getState();
    deps.updates.onState((s) => this.onUpdateState(s));
    deps.broker.onChange(() => this.emit());
    deps.watcher?.onOutdated((n) => this.outdatedWhileRunning(n));
  }

  get locale(): Locale {
    return this.settings.locale ?? this.deps.systemLocale;
  }

  snapshot(): ShellSnapshot {
    const { identity } = this.deps.workstation;
    return {
      locale: this.locale,
      app: { installed: this.deps.installedVersion(), product: this.deps.product, hostName: identity.hostName, osUser: identity.osUser, isAdmin: identity.isAdmin, testVersion: this.gate?.testVersion ?? false },
      settings: { checkAtStart: this.settings.checkAtStart },
      update: this.deps.updates.getState(),
      notesHtml: { ...this.storedNotesHtml, ...this.notesHtml },
      gate: this.gate?.decision ?? null,
      credentials: this.deps.broker.current(),
    };
  }

  onState(listener: (s: ShellSnapshot) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  onEvent(listener: (e: ShellEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  private emit(): void {
    const s = this.snapshot();
    for (const l of this.listeners) l(s);
  }

  private fire(e: ShellEvent): void {
    for (const l of this.eventListeners) l(e);
  }

  private onUpdateState(s: UpdateState): void {
    if (s.type === 'available') this.notesHtml = Object.fromEntries(s.result.versions.map((v) => [v.version, this.deps.renderNotes(v.notes)]));
    if (s.type === 'downloaded' && this.lastUpdate.type === 'downloading' && this.lastUpdate.background) this.fire({ type: 'background-ready', version: s.version });
    this.lastUpdate = s;
    this.emit();
  }

  /** Every start, before the main window: recovery, the gate, the separate download, S1 (health: confirmHealthy()). */
  async start(): Promise<GateResult> {
    const log = this.deps.workstation.log;
    try {
      await this.deps.installer.recoverInstall();
    } catch (err) {
      log.error('shell.recover-failed', { code: toLockstepError(err).code, message: (err as Error).message });
    }
    this.gate = await this.deps.workstation.gate.run();
    this.gateAt = performance.now();
    if (this.gate.restartInto) {
      this.fire({ type: 'relaunch' });
      return this.gate;
    }
    await this.notesForQuestion();
    this.deps.modules?.resumePending(); // a module placement a crash interrupted, before the new version counts as healthy
    this.deps.updates.resume();
    if (this.gate.mayUseDatabase && this.deps.watcher && !this.watching) {
      this.deps.watcher.start();
      this.watching = true;
    }
    this.emit();
    if (this.settings.checkAtStart && this.gate.mayUseDatabase) void this.check().catch(() => undefined); // shown as state
    return this.gate;
  }

  /**
   * The host calls this once its first window is ready (not at the gate: a version that crashes while opening its
   * first window never confirms, and the next start reverts it). Answers whether an install awaited the confirmation.
   */
  confirmHealthy(): boolean {
    if (!this.gate || this.gate.restartInto) throw new LockstepError('E_INVALID_STATE', 'confirmHealthy() comes after start(), once the first window is ready.');
    return this.deps.installer.confirmHealthy();
  }

  /**
   * The app's data layer calls this when it uses the shared database (S14: a workstation still running an older
   * version learns of a newer release at its next database access). Never throws into the app: a failed read is
   * logged and the interval tries again. Resolves with the outdated notice when there is one.
   */
  async noteDatabaseAccess(): Promise<GateDecision | null> {
    if (!this.deps.watcher || !this.watching) return null;
    try {
      return await this.deps.watcher.noteDatabaseAccess();
    } catch (err) {
      this.deps.workstation.log.warn('shell.watch-failed', { code: toLockstepError(err).code, message: (err as Error).message });
      return null;
    }
  }

  /** Stops watching for releases (the app quits). */
  stop(): void {
    this.deps.watcher?.stop();
    this.watching = false;
  }

  private outdatedWhileRunning(notice: OutdatedNotice): void {
    if (!this.gate) return;
    this.gate = { ...this.gate, decision: notice, mayUseDatabase: mayUseDatabase(notice), testVersion: false };
    this.gateAt = performance.now();
    this.deps.workstation.log.warn('shell.outdated-while-running', { installed: notice.installed, released: notice.released, policy: notice.policy });
    this.emit();
    this.fire({ type: 'outdated', decision: notice, mayUseDatabase: this.gate.mayUseDatabase });
  }

  async check(): Promise<CheckResult | null> {
    return this.deps.updates.check();
  }

  setCheckAtStart(enabled: boolean): void {
    this.settings = { ...this.settings, checkAtStart: enabled };
    saveUserSettings(this.deps.settingsFile, this.settings);
    this.emit();
  }

  /** Starts the download and returns; progress and the result arrive as snapshots. */
  async download(request: DownloadRequest): Promise<void> {
    const state = this.deps.updates.getState();
    const offered = state.type === 'available' ? state.result.versions.find((v) => v.version === request.version) : undefined;
    if (offered) {
      const unconfirmed = offered.modules.filter((m) => m.requiresConfirmation);
      if (unconfirmed.length && !request.confirmIncompatible) {
        throw new LockstepError('E_USAGE', `Confirm that ${unconfirmed.map((m) => m.name).join(', ')} may stop working with version ${request.version}.`, { modules: unconfirmed.map((m) => m.id) });
      }
      this.deps.workstation.log.info('shell.download', { version: request.version, when: request.when, modules: request.modules });
    }
    if (request.when.type === 'at') {
      this.deps.updates.scheduleDownload(request.version, parseStartTime(request.when.time, this.now()), request.modules);
      return;
    }
    const background = request.when.type === 'background';
    const { offered: chosen } = this.deps.updates.stepsFor(request.version); // refuse what cannot be installed before anything starts
    this.deps.updates.modulesFor(chosen, request.modules); // …and module ids that have no update for it
    const running = this.deps.updates.download(request.version, background, request.modules);
    void running.then(
      () => (background ? undefined : this.installDownloaded()),
      () => undefined, // the failure is in the state snapshot
    );
  }

  /** Cancel: a running transfer stops (its part file stays), a scheduled one is forgotten and the offer is shown again. */
  cancelDownload(): void {
    this.deps.updates.cancelDownload();
    this.deps.updates.cancelScheduled();
  }

  /** *Install now*: every downloaded step in ascending order, then the restart (the phases are update states). */
  async installDownloaded(): Promise<void> {
    const kept = this.deps.feed.keptPackage;
    await this.deps.updates.install((downloaded) => installDownloaded(downloaded, { installer: this.deps.installer, trustedKeys: this.deps.feed.trustedKeys, platform: this.deps.feed.platform, ...(this.deps.modules ? { modules: this.deps.modules } : {}), ...(kept ? { kept } : {}) }));
    this.fire({ type: 'relaunch' });
  }

  async answerRelease(answer: 'yes' | 'no', at?: string): Promise<GateDecision> {
    this.gate = await this.deps.workstation.gate.answer(answer, at);
    this.gateAt = performance.now();
    this.emit();
    return this.gate.decision;
  }

  /** Go on past the gate window; refused where the policy blocks the database. */
  continueStart(): void {
    if (!this.gate) throw new LockstepError('E_INVALID_STATE', 'The start-up gate has not run yet.');
    if (!this.gate.mayUseDatabase) throw new LockstepError('E_INVALID_STATE', `This workstation may not use the database: it runs ${this.gate.decision.installed}.`, { decision: this.gate.decision.type });
    const d = this.gate.decision;
    // Decided inside a grace period, asked after its end: the block applies now, as at the next start.
    if (d.type === 'outdated' && typeof d.msLeft === 'number' && performance.now() - this.gateAt >= d.msLeft) {
      throw new LockstepError('E_INVALID_STATE', `The grace period ended at ${d.deadline ?? 'its deadline'}: this workstation may not use the database until it runs ${d.released}.`, { decision: d.type, deadline: d.deadline ?? null });
    }
    this.fire({ type: 'continue' });
  }

  answerCredentials(answer: { account: string; password: string } | null): void {
    this.deps.broker.answer(answer);
  }

  openWindow(kind: WindowKind): void {
    if (kind === 'admin' && !this.deps.workstation.identity.isAdmin) throw new LockstepError('E_NOT_ADMIN', 'Only an administrator may manage releases.', { user: this.deps.workstation.identity.osUser });
    this.fire({ type: 'open-window', kind });
  }

  async adminOverview(): Promise<AdminOverview> {
    const { identity, fleet, ledger, config } = this.deps.workstation;
    if (!identity.isAdmin) throw new LockstepError('E_NOT_ADMIN', 'Only an administrator may see the release management.', { user: identity.osUser });
    const [workstations, releases, current, pending, serverNow] = await Promise.all([fleet.workstations.list(), ledger.list(), fleet.releases.current(config.channel), fleet.schedules.pending(config.channel), fleet.schedules.serverNow()]);
    const released = current?.release?.version ?? null;
    const scheduledFor = (id: number) => (pending && !pending.due && pending.releaseId === id ? { at: pending.dueAt, by: pending.scheduledBy } : null);
    return {
      channel: config.channel,
      released,
      workstations: workstations.map((w) => ({ workstationId: w.workstationId, hostName: w.hostName, osUser: w.osUser, installedVersion: w.installedVersion, lastStart: w.lastStart, ring: w.ring, lastResult: w.lastResult, grace: workstationGrace(w.installedVersion, current?.release ?? null, serverNow, config.outdatedPolicy) })),
      releases: releases.map((r) => ({ version: r.version, state: r.state, releasedBy: r.releasedBy, releasedFrom: r.releasedFrom, releasedAt: r.releasedAt, withdrawnAt: r.withdrawnAt, current: r.id === current?.release?.id, scheduledFor: scheduledFor(r.id) })),
    };
  }

  async withdraw(version: string): Promise<AdminOverview> {
    await this.deps.workstation.ledger.withdraw(version);
    return this.adminOverview();
  }

  async rerelease(version: string): Promise<AdminOverview> {
    await this.deps.workstation.ledger.release(version, { rerelease: true });
    return this.adminOverview();
  }

  /**
   * "Release for all?" shows the version's notes even when this session never checked the feed: from the vendor-signed
   * catalog stored with a release in the shared database, verified here, rendered and sanitized like feed notes.
   */
  private async notesForQuestion(): Promise<void> {
    const decision = this.gate?.decision;
    if (decision?.type !== 'ask-release' || !decision.canAnswer || this.notesHtml[decision.installed] || this.storedNotesHtml[decision.installed]) return;
    const { fleetParts, log } = this.deps.workstation;
    try {
      const notes = await storedReleaseNotes(fleetParts.packages, this.deps.feed.trustedKeys, decision.installed, log);
      if (notes !== null) this.storedNotesHtml = { [decision.installed]: this.deps.renderNotes(notes) };
    } catch (err) {
      log.warn('shell.stored-notes-failed', { code: toLockstepError(err).code, message: (err as Error).message });
    }
  }

  /** The fleet view for the release management window; administrators only, as the window itself. */
  async fleet(staleDays: number): Promise<FleetSummary> {
    this.requireAdminWindow();
    return this.deps.workstation.fleetView.summary(staleDays);
  }

  async fleetCsv(staleDays: number): Promise<string> {
    return fleetCsv(await this.fleet(staleDays));
  }

  async retireWorkstation(workstationId: string, staleDays: number): Promise<FleetSummary> {
    this.requireAdminWindow();
    await this.deps.workstation.fleetView.retire(workstationId);
    return this.fleet(staleDays);
  }

  private requireAdminWindow(): void {
    const { identity } = this.deps.workstation;
    if (!identity.isAdmin) throw new LockstepError('E_NOT_ADMIN', 'Only an administrator may see the release management.', { user: identity.osUser });
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }
}

/** The per-user settings file when the machine configuration names none. */
export function defaultSettingsFile(userDataDir: string): string {
  return path.join(userDataDir, 'lockstep-settings.json');
}

export function ensureDir(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}
