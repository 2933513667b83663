/**
 * A workstation still running when a newer release appears (S14 "Yes": "one still running an older version gets the
 * outdated message when it next uses the database"): the watcher reads the channel's pointer at the next database
 * access the app reports, and at least every `checkIntervalMs`, and tells its listeners once per newer release.
 * Timers are injected, so tests drive it with fake timers.
 */
import { FleetStore } from '../../db/fleetStore';
import { GateDecision, OutdatedPolicy } from '../../contract/gate';
import { Logger } from '../../kernel/log';
import { Version, compareVersions } from '../../kernel/version';

export type OutdatedNotice = Extract<GateDecision, { type: 'outdated' }>;

export interface WatcherTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const realTimers: WatcherTimers = {
  setInterval: (fn, ms) => {
    const h = setInterval(fn, ms);
    h.unref?.();
    return h;
  },
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

export interface WatcherOptions {
  channel: string;
  policy: OutdatedPolicy;
  checkIntervalMs: number;
  installed: () => Version;
  timers?: WatcherTimers;
}

export class ReleaseWatcher {
  private handle: unknown = null;
  private notified: string | null = null;
  private running: Promise<OutdatedNotice | null> | null = null;
  private readonly listeners = new Set<(n: OutdatedNotice) => void>();

  constructor(
    private readonly fleet: FleetStore,
    private readonly log: Logger,
    private readonly o: WatcherOptions,
  ) {}

  onOutdated(listener: (n: OutdatedNotice) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (this.handle !== null) return;
    this.handle = (this.o.timers ?? realTimers).setInterval(() => void this.check().catch((err) => this.log.warn('fleet.watch-failed', { message: (err as Error).message })), this.o.checkIntervalMs);
  }

  stop(): void {
    if (this.handle !== null) (this.o.timers ?? realTimers).clearInterval(this.handle);
    this.handle = null;
  }

  /** The app calls this when it uses the database; concurrent calls share one read. */
  noteDatabaseAccess(): Promise<OutdatedNotice | null> {
    return this.check();
  }

  check(): Promise<OutdatedNotice | null> {
    this.running ??= this.read().finally(() => (this.running = null));
    return this.running;
  }

  private async read(): Promise<OutdatedNotice | null> {
    const current = await this.fleet.releases.current(this.o.channel);
    const released = current?.release?.version;
    const installed = this.o.installed();
    if (!released || compareVersions(installed, released) >= 0) return null;
    const notice: OutdatedNotice = { type: 'outdated', installed: installed.raw, released, policy: this.o.policy, reason: null };
    if (this.notified !== released) {
      this.notified = released;
      this.log.warn('fleet.outdated-while-running', { installed: installed.raw, released });
      for (const l of this.listeners) l(notice);
    }
    return notice;
  }
}
