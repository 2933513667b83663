/**
 * Lockstep inside a vendor's app, under plain Node: what lockstep/electron's start() returns, minus Electron. It runs
 * recover → start-up gate before the host opens any window and tells the host what to do; it shows Lockstep's own
 * windows (update, release question, outdated notice, credentials, release management) through a window port, and
 * turns the session's events into the host's: `continue`, `outdated`, `restart`, `download-ready`. Electron adds the
 * real windows, menu and notification (electron/index.ts); the tests drive this object with a recording port.
 */
import type { Knex } from 'knex';
import { LockstepError } from '../../contract/errors';
import { GateDecision, mayUseDatabase } from '../../contract/gate';
import type { WindowKind } from '../../contract/ipc';
import type { Locale } from '../../contract/messages';
import type { Shell } from './compose';
import { lockstepMenuItems, LockstepMenuItem } from './menuItems';

/** What the host does after start(). */
export type StartAction =
  /** Open the main window now. `testVersion`: this workstation runs an unreleased test version (S14). */
  | { type: 'go-on'; decision: GateDecision; testVersion: boolean }
  /** Lockstep upgraded this workstation and restarts into `version`: open nothing. */
  | { type: 'restarting'; version: string }
  /** Lockstep shows the release question (S14); open the main window on `continue`. */
  | { type: 'release-question'; decision: GateDecision }
  /** Lockstep shows the outdated notice. block: open nothing (its button quits); warn: open the main window on `continue`. */
  | { type: 'outdated'; policy: 'block' | 'warn'; decision: GateDecision };

export interface HostEvents {
  /** The user went on past Lockstep's release question or outdated warning: open the main window. */
  continue: [];
  /** A newer release appeared while the app runs. block: stop business work (database() refuses from now on). */
  outdated: [{ decision: GateDecision; block: boolean }];
  /** Lockstep is about to restart the app into `version` (after an install): save what must be saved, now. */
  restart: [{ version: string | null }];
  /** A separate download finished: *Extras → Update… → Install now* installs it (S7). */
  'download-ready': [{ version: string }];
}

export type HostEvent = keyof HostEvents;

/** Lockstep's own windows; the host's windows are its own business. */
export type LockstepWindow = Exclude<WindowKind, 'home'>;

export interface WindowPort {
  show(kind: LockstepWindow, o?: { parent?: LockstepWindow; onReady?: () => void }): void;
  close(kind: LockstepWindow): void;
}

export class LockstepHost {
  private readonly listeners: { [E in HostEvent]: Set<(...args: HostEvents[E]) => void> } = { continue: new Set(), outdated: new Set(), restart: new Set(), 'download-ready': new Set() };
  private action: StartAction | null = null;
  private healthy = false;
  private closed = false;

  constructor(
    private readonly shell: Shell,
    private readonly windows: WindowPort,
  ) {
    const { session } = shell;
    session.onState((s) => {
      if (s.credentials) windows.show('credentials', { parent: 'update' });
      else windows.close('credentials');
    });
    session.onEvent((e) => {
      if (e.type === 'open-window' && e.kind !== 'home') windows.show(e.kind);
      if (e.type === 'continue') {
        windows.close('release');
        windows.close('outdated');
        this.emit('continue');
      }
      if (e.type === 'background-ready') this.emit('download-ready', { version: e.version });
      if (e.type === 'outdated') {
        windows.show('outdated');
        this.emit('outdated', { decision: e.decision, block: !e.mayUseDatabase });
      }
    });
  }

  get locale(): Locale {
    return this.shell.session.locale;
  }

  /** Recover → gate; call once, after app ready, before opening any window of the host. */
  async start(): Promise<StartAction> {
    if (this.action) throw new LockstepError('E_INVALID_STATE', 'start() runs once per app start.');
    const gate = await this.shell.session.start();
    const d = gate.decision;
    if (gate.restartInto) this.action = { type: 'restarting', version: gate.restartInto };
    else if (d.type === 'ask-release') this.action = { type: 'release-question', decision: d };
    else if (d.type === 'outdated') this.action = { type: 'outdated', policy: d.policy, decision: d };
    else this.action = { type: 'go-on', decision: d, testVersion: gate.testVersion };
    if (this.action.type === 'release-question') this.windows.show('release');
    if (this.action.type === 'outdated') {
      // Under block the host opens no window of its own this run: the notice is the first window, and confirms.
      const block = this.action.policy === 'block';
      this.windows.show('outdated', block ? { onReady: () => this.confirmHealthy() } : {});
    }
    return this.action;
  }

  /** The host's first window is ready: the running version counts as healthy (an install is kept, not reverted). */
  confirmHealthy(): boolean {
    if (!this.action) throw new LockstepError('E_INVALID_STATE', 'Call confirmHealthy() after start(), once the first window is ready.');
    if (this.healthy) return false;
    this.healthy = true;
    return this.shell.session.confirmHealthy();
  }

  /** The items for the host's *Extras* menu. */
  menuItems(): LockstepMenuItem[] {
    return lockstepMenuItems({ locale: this.locale, isAdmin: this.shell.workstation.identity.isAdmin, openUpdate: () => this.open('update'), openAdmin: () => this.open('admin') });
  }

  /** Opens one of Lockstep's windows (the menu items do); release management only for administrators. */
  open(kind: 'update' | 'admin'): void {
    this.shell.session.openWindow(kind);
  }

  /** The host's data layer calls this at every use of the shared database; never throws. */
  async noteDatabaseAccess(): Promise<GateDecision | null> {
    return this.shell.session.noteDatabaseAccess();
  }

  /** Whether the host may use the shared database now (the gate, and any outdated notice since, decide). */
  mayUseDatabase(): boolean {
    const gate = this.shell.session.snapshot().gate;
    if (!this.action || this.action.type === 'restarting' || !gate) return false;
    // The gate's own rule: besides `block`, a test installation whose version needs a migration first stays off it.
    return mayUseDatabase(gate);
  }

  /** The shared database (knex) for the host's own tables; refused before the gate let the app go on and under block. */
  database(): Knex {
    if (!this.mayUseDatabase()) {
      const gate = this.shell.session.snapshot().gate;
      throw new LockstepError('E_INVALID_STATE', gate ? `This workstation may not use the shared database: it runs ${gate.installed}.` : 'The shared database is available after start().', { decision: gate?.type ?? null });
    }
    return this.shell.workstation.db.knex;
  }

  on<E extends HostEvent>(event: E, listener: (...args: HostEvents[E]) => void): () => void {
    const set = this.listeners[event] as Set<(...args: HostEvents[E]) => void> | undefined;
    if (!set) throw new LockstepError('E_USAGE', `Unknown event "${String(event)}"; the events are ${Object.keys(this.listeners).join(', ')}.`, { option: String(event) });
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Called right before the app restarts into an installed version. */
  beforeRestart(): void {
    const s = this.shell.session.snapshot();
    const version = s.update.type === 'restart-requested' ? s.update.version : s.gate?.type === 'upgrade' ? s.gate.released : null;
    this.emit('restart', { version });
  }

  private emit<E extends HostEvent>(event: E, ...args: HostEvents[E]): void {
    for (const l of this.listeners[event] as Set<(...a: HostEvents[E]) => void>) l(...args);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.shell.close();
  }
}
