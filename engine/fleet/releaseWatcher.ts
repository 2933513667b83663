/**
 * A workstation still running when a newer release appears (S14 "Yes": "one still running an older version gets the
 * outdated message when it next uses the database"): the watcher asks the start-up gate's own read-only evaluation at
 * the next database access the app reports, and at least every `checkIntervalMs`, and tells its listeners once per
 * release. The gate's one `decide()` judges, so a withdrawn release (the pointer moved back below this workstation)
 * and test marks count exactly as they do at start: whatever the gate would answer with `upgrade`, a running app
 * cannot do in place, so it becomes the outdated notice. Timers are injected, so tests drive it with fake timers.
 */
import { ErrorInfo } from '../../contract/errors';
import { GateDecision, OutdatedPolicySetting } from '../../contract/gate';
import { GateSnapshot } from '../../db/types';
import { graceOfRead, outdatedNotice } from '../grace';
import { Logger } from '../../kernel/log';

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

/** The gate's read-only evaluation (StartupGate.evaluate): one read, the one decide(), nothing written. */
export type GateEvaluation = () => Promise<{ decision: GateDecision; snapshot?: GateSnapshot }>;

export interface WatcherOptions {
  policy: OutdatedPolicySetting;
  checkIntervalMs: number;
  timers?: WatcherTimers;
  /**
   * Why the installed version may not use the database at the level the read found (its schema claim does not work
   * on it), else null. Such a notice blocks whatever the policy: warn would let it write into a schema it does not know.
   */
  schemaBlock?: (installed: string, snapshot: GateSnapshot) => ErrorInfo | null;
}

export class ReleaseWatcher {
  private handle: unknown = null;
  private notified: string | null = null;
  private running: Promise<OutdatedNotice | null> | null = null;
  private readonly listeners = new Set<(n: OutdatedNotice) => void>();

  constructor(
    private readonly evaluate: GateEvaluation,
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
    const { decision, snapshot } = await this.evaluate();
    if (decision.type !== 'upgrade') return null;
    const { installed, released } = decision;
    // Under "warn for N days" the deadline runs from the release time on the server's clock; once it passes, the
    // listeners hear again, now with block.
    const levelBlock = snapshot && this.o.schemaBlock ? this.o.schemaBlock(installed, snapshot) : null;
    const notice: OutdatedNotice = levelBlock
      ? { type: 'outdated', installed, released, policy: 'block', reason: levelBlock }
      : outdatedNotice(installed, released, graceOfRead(snapshot, this.o.policy), null);
    const key = `${released} ${notice.policy}`;
    if (this.notified !== key) {
      this.notified = key;
      this.log.warn('fleet.outdated-while-running', { installed, released, downgrade: decision.downgrade });
      for (const l of this.listeners) l(notice);
    }
    return notice;
  }
}
