/**
 * check → (plan) → download, for *Extras → Update…* and the CLI (S1–S7). Every transition goes through setState, which
 * logs and emits whole snapshots (the renderer never assembles state from loose events). Public methods check the
 * current state first, so a second click cannot start a second download.
 */
import { CancellationToken } from 'builder-util-runtime';
import { LockstepError, toLockstepError } from '../contract/errors';
import { CheckResult, DownloadedModule, DownloadedStep, OfferedVersion, UpdateState } from '../contract/update';
import { fetchCatalog } from './catalog';
import { Catalog, License } from '../kernel/catalogSchema';
import { DownloadedVersion, FeedContext, downloadModule, downloadVersion } from './feed/download';
import { Logger } from '../kernel/log';
import { evaluateOffer } from './offer';
import { DownloadScheduler, ScheduleRecord, ScheduleStore, ScheduledModule, ScheduledStep } from './schedule';
import { Version } from '../kernel/version';

export interface UpdateServiceDeps {
  feed: FeedContext;
  channel: string;
  installed: () => Version;
  /** Loads and verifies the licence (E_REGISTRATION_MISSING / E_LICENSE). */
  license: () => License;
  modules: () => Record<string, string>;
  log: Logger;
  now?: () => Date;
  /** Each verified catalog's security floor (null: the vendor states none), remembered where moves back are judged. */
  recordFloor?: (stated: string | null) => void;
}

type Listener = (state: UpdateState) => void;

export class UpdateService {
  private state: UpdateState = UpdateState.idle();
  private readonly listeners = new Set<Listener>();
  private lastCatalog: Catalog | null = null;
  /** The offer the user chose from: cancelling a schedule returns to it. */
  private lastResult: CheckResult | null = null;
  private cancellation: CancellationToken | null = null;
  /** A scheduled download's transfer is running (cancelScheduled stops it, and its cancel ends in idle). */
  private scheduledTransfer = false;
  readonly scheduler: DownloadScheduler;

  /** The feed this service checks and downloads from (the shell's module installer shares its cache). */
  get feed(): FeedContext {
    return this.deps.feed;
  }

  constructor(private readonly deps: UpdateServiceDeps) {
    this.scheduler = new DownloadScheduler(new ScheduleStore(deps.feed.cacheDir), (record) => this.runScheduled(record));
  }

  getState(): UpdateState {
    return this.state;
  }

  onState(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private setState(next: UpdateState): void {
    const { type } = next;
    // Progress is frequent: its snapshots are emitted but only the first one is logged.
    if (!(type === 'downloading' && this.state.type === 'downloading')) this.deps.log.info('update.state', { from: this.state.type, to: type, ...summary(next) });
    this.state = next;
    for (const l of this.listeners) l(next);
  }

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  private requireNotBusy(action: string): void {
    const busy = { checking: 'checking', downloading: 'downloading', installing: 'installing' } as Partial<Record<UpdateState['type'], string>>;
    const doing = busy[this.state.type];
    if (doing) throw new LockstepError('E_INVALID_STATE', `Cannot ${action} while ${doing}.`, { state: this.state.type });
  }

  /**
   * *Install now*: runs `install` over the downloaded files as the `installing` state; success asks for the restart,
   * a failure returns to `downloaded` with the error (the files stay, the install can be started again).
   */
  async install<T extends { from: string | null; to: string; elevation: string }>(install: (downloaded: Extract<UpdateState, { type: 'downloaded' }>) => Promise<T>): Promise<T> {
    const state = this.state;
    if (state.type === 'installing') throw new LockstepError('E_INSTALL_IN_PROGRESS', 'An install is already running.');
    if (state.type !== 'downloaded') throw new LockstepError('E_INVALID_STATE', 'Nothing has been downloaded to install.', { state: state.type });
    const downloaded = { ...state };
    delete downloaded.installError;
    this.setState(UpdateState.installing(state.version));
    try {
      const outcome = await install(downloaded);
      this.setState(UpdateState.restartRequested(outcome.to, outcome.from, outcome.elevation));
      return outcome;
    } catch (err) {
      const e = toLockstepError(err);
      this.setState({ ...downloaded, installError: e.toInfo() });
      throw e;
    }
  }

  /** *Search now*: fetch + verify the catalog and evaluate what this workstation may install. */
  async check(): Promise<CheckResult> {
    this.requireNotBusy('check');
    this.setState(UpdateState.checking());
    try {
      const license = this.deps.license();
      const { catalog, notModified, clockWarning } = await fetchCatalog(this.deps.feed, this.now());
      this.lastCatalog = catalog;
      this.deps.recordFloor?.(catalog.securityFloor ?? null);
      const result = (this.lastResult = evaluateOffer({ catalog, notModified, feedUrl: this.deps.feed.feedUrl, channel: this.deps.channel, installed: this.deps.installed(), license, modules: this.deps.modules(), platform: this.deps.feed.platform, now: this.now() }));
      if (clockWarning) result.warnings.push(clockWarning);
      this.setState(result.versions.length === 0 ? UpdateState.upToDate(result.installed, result.checkedAt, result.warnings) : UpdateState.available(result));
      return result;
    } catch (err) {
      const e = toLockstepError(err);
      this.setState(UpdateState.failed(e.toInfo(), 'check'));
      throw e;
    }
  }

  /** The steps (with signed manifests) to fetch for `version`, from the last check; refuses what is not installable. */
  stepsFor(version: string): { offered: OfferedVersion; steps: ScheduledStep[] } {
    const result = this.state.type === 'available' ? this.state.result : null;
    const offered = result?.versions.find((v) => v.version === version);
    if (!result || !offered || !this.lastCatalog) throw new LockstepError('E_INVALID_STATE', `Version ${version} is not among the versions offered by the last check; check again.`, { version });
    if (!offered.installable) throw new LockstepError(offered.reason!.code, offered.reason!.message, offered.reason!.details ?? {});
    const steps = offered.chain.map((v) => {
      const entry = this.lastCatalog!.versions.find((c) => c.version === v)!;
      return { version: v, manifest: entry.manifest };
    });
    return { offered, steps };
  }

  /**
   * The module packages to fetch with `version` (S6): the ids the user left ticked. Only a module the last check
   * offered as update-available for that version can be ticked; anything else is refused before a byte moves.
   */
  modulesFor(offered: OfferedVersion, ticked: readonly string[]): ScheduledModule[] {
    return [...new Set(ticked)].map((id) => {
      const status = offered.modules.find((m) => m.id === id);
      if (!status || status.status !== 'update-available' || !status.updateTo) {
        throw new LockstepError('E_USAGE', `Module "${id}" has no update for version ${offered.version}${status ? ` (it is ${status.status})` : ' (it is not installed)'}.`, { module: id, version: offered.version });
      }
      const entry = this.lastCatalog!.modules.find((m) => m.id === id)!.versions.find((v) => v.version === status.updateTo)!;
      return { id, version: entry.version, manifest: entry.manifest! };
    });
  }

  /** *Download and install now* (background=false) or the separate download when its time comes (background=true). */
  async download(version: string, background = false, modules: readonly string[] = []): Promise<DownloadedStep[]> {
    this.requireNotBusy('download');
    const { offered, steps } = this.stepsFor(version);
    return (await this.fetchSteps(steps, background, this.modulesFor(offered, modules))).steps;
  }

  /** *Download separately*: persist the schedule (it survives a restart) and arm its timer. */
  scheduleDownload(version: string, at: Date, modules: readonly string[] = []): ScheduleRecord {
    this.requireNotBusy('schedule a download');
    const { offered, steps } = this.stepsFor(version);
    const record = this.scheduler.schedule(steps, at, this.modulesFor(offered, modules));
    this.setState(UpdateState.scheduled(record.version, record.at));
    return record;
  }

  /**
   * Cancel of a scheduled download (S7): the timer is disarmed, schedule.json removed, and the screen returns to the
   * offer it was chosen from — or to idle when there is none (the schedule was picked up after a restart). A schedule
   * whose transfer already runs is cancelled through cancelDownload; its record is dropped when the transfer stops.
   */
  cancelScheduled(): void {
    this.scheduler.cancel();
    // Its transfer already runs: stop it too (otherwise it would finish and write the schedule back as done). The
    // state goes back to idle with E_CANCELLED once the transfer has stopped (fetchSteps).
    if (this.scheduledTransfer) this.cancellation?.cancel();
    if (this.state.type !== 'scheduled') return;
    this.setState(this.lastResult && this.lastResult.versions.length ? UpdateState.available(this.lastResult) : UpdateState.idle(this.lastResult?.checkedAt ?? null));
  }

  /** At start: pick up a pending schedule or a finished separate download ("Install now" stays on offer). */
  resume(): void {
    const record = this.scheduler.resume();
    if (!record) return;
    if (record.state === 'done' && record.done.length) this.setState(UpdateState.downloaded(record.version, record.done[record.done.length - 1]!.file, record.done, record.doneModules ?? []));
    else if (record.state === 'pending' || record.state === 'running') this.setState(UpdateState.scheduled(record.version, record.at));
  }

  cancelDownload(): void {
    this.cancellation?.cancel();
  }

  private async runScheduled(record: ScheduleRecord): Promise<void> {
    const store = this.scheduler.store;
    store.save({ ...record, state: 'running' });
    this.scheduledTransfer = true;
    try {
      const done = await this.fetchSteps(record.steps, true, record.modules ?? []);
      store.save({ ...record, state: 'done', done: done.steps, doneModules: done.modules, error: null });
    } catch (err) {
      const e = toLockstepError(err);
      // Cancelled by the user: the schedule is gone (cancelScheduled), so nothing is written back.
      if (e.code === 'E_CANCELLED') store.clear();
      else store.save({ ...record, state: 'failed', error: e.toInfo() });
    } finally {
      this.scheduledTransfer = false;
    }
  }

  private async fetchSteps(steps: ScheduledStep[], background: boolean, modules: readonly ScheduledModule[]): Promise<{ steps: DownloadedStep[]; modules: DownloadedModule[] }> {
    const done: DownloadedStep[] = [];
    const doneModules: DownloadedModule[] = [];
    this.cancellation = new CancellationToken();
    const target = steps[steps.length - 1]!.version;
    try {
      let previous: DownloadedVersion | undefined;
      for (const step of steps) {
        this.setState(UpdateState.downloading(step.version, 0, 0, 0, background));
        const got: DownloadedVersion = await downloadVersion(this.deps.feed, step.manifest, {
          // A chain's previous step is the closest base for the next one's differential download.
          ...(previous ? { previous } : {}),
          cancellationToken: this.cancellation,
          onProgress: (p) => this.setState(UpdateState.downloading(step.version, p.transferred, p.total, p.bytesPerSecond, background)),
        });
        done.push({ version: got.version, file: got.file, manifestText: got.manifestText, manifestSignature: got.manifestSignature });
        previous = got;
      }
      // Module packages belong to the target version: their progress is shown as part of it.
      for (const m of modules) {
        this.setState(UpdateState.downloading(target, 0, 0, 0, background));
        doneModules.push(
          await downloadModule(this.deps.feed, m.manifest, {
            cancellationToken: this.cancellation,
            onProgress: (p) => this.setState(UpdateState.downloading(target, p.transferred, p.total, p.bytesPerSecond, background)),
          }),
        );
      }
      this.setState(UpdateState.downloaded(target, done[done.length - 1]!.file, done, doneModules));
      return { steps: done, modules: doneModules };
    } catch (err) {
      const e = toLockstepError(err);
      // A cancelled scheduled transfer is no failure: nothing is pending any more, the screen is idle and says why.
      // The part file stays (resumableDownload keeps it) so the next download of this version resumes from it.
      if (e.code === 'E_CANCELLED' && this.scheduledTransfer) this.setState(UpdateState.idle(this.lastResult?.checkedAt ?? null, e.toInfo()));
      else this.setState(UpdateState.failed(e.toInfo(), 'download'));
      throw e;
    } finally {
      this.cancellation = null;
    }
  }
}

function summary(state: UpdateState): Record<string, unknown> {
  switch (state.type) {
    case 'available':
      return { versions: state.result.versions.map((v) => v.version), preselected: state.result.preselected };
    case 'failed':
      return { code: state.error.code, message: state.error.message };
    case 'downloading':
      return { version: state.version, background: state.background };
    case 'downloaded':
      return { version: state.version, file: state.file, modules: state.modules.map((m) => `${m.id}@${m.version}`), ...(state.installError ? { installError: state.installError.code } : {}) };
    case 'scheduled':
      return { version: state.version, at: state.at };
    case 'installing':
      return { version: state.version };
    case 'restart-requested':
      return { version: state.version, from: state.from, elevation: state.elevation };
    default:
      return {};
  }
}
