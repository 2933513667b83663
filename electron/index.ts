/**
 * `lockstep/electron`: Lockstep in a vendor's Electron main process.
 *
 *   registerScheme();                                     // before app ready: Lockstep's windows load from lockstep://
 *   app.whenReady().then(async () => {
 *     const lockstep = await start({ config: 'lockstep.machine.json' });   // recover → start-up gate, before any window
 *     Menu.setApplicationMenu(Menu.buildFromTemplate([{ label: 'Extras', submenu: lockstep.menu() }]));
 *     if (lockstep.action.type === 'go-on') openMainWindow(); else lockstep.on('continue', openMainWindow);
 *     // openMainWindow: win.once('ready-to-show', () => lockstep.confirmHealthy())
 *   });
 *
 * Lockstep's windows (update, release question, outdated notice, credentials, release management) are its own,
 * sandboxed, served from its package; the host's windows never get Lockstep's IPC. Everything with behaviour lies
 * below in plain Node (shell/host.ts, shell/compose.ts); this file only adds Electron.
 */
import { app, CustomScheme, MenuItemConstructorOptions, protocol } from 'electron';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Knex } from 'knex';
import { LockstepError } from '../contract/errors';
import type { GateDecision } from '../contract/gate';
import type { Locale } from '../contract/messages';
import { MachineConfig } from '../kernel/config';
import { checkOptions, resolveConfig } from '../engine/api/options';
import { KeytarSecretStore } from '../engine/secrets';
import { StartOptions, StartOptionsSchema } from './shell/startOptions';
import { privilegedArgs, runPrivilegedCli } from '../installer/privilegedApply';
import { composeShell } from './shell/compose';
import { HostEvent, HostEvents, LockstepHost, StartAction } from './shell/host';
import { readyText } from './shell/menuItems';
import { defaultSettingsFile } from './shell/shellSession';
import { logDir, preloadPath, relaunchApp, systemLocale, systemProxyFor, userDataDir, webRoot } from './adapters/appEnv';
import { pushSnapshots, registerIpc } from './adapters/ipcMain';
import { APP_ORIGIN, LOCKSTEP_SCHEME, serveWindows } from './adapters/protocol';
import { notifyReady, showProgress } from './adapters/taskbar';
import { WindowManager } from './adapters/windows';

export type { StartAction, HostEvents, HostEvent } from './shell/host';
export type { StartOptions } from './shell/startOptions';
export type { GateDecision, OutdatedPolicy } from '../contract/gate';
export type { Locale } from '../contract/messages';
export { LockstepError, isLockstepError } from '../contract/errors';
export type { ErrorCode, ErrorInfo } from '../contract/errors';
export type { ClientMigration, SchemaClaim } from '../kernel/schemaClaim';

let schemeRegistered = false;
let startedOnce = false;

/**
 * Registers Lockstep's lockstep:// scheme as privileged; must run before app ready. Electron keeps only the last
 * registerSchemesAsPrivileged call, so a host with privileged schemes of its own passes them here.
 */
/**
 * The privileged helper is this same app started elevated with one fixed first argument (sudo/pkexec/osascript/UAC:
 * `<exe> --lockstep-privileged-apply --request FILE`). Such a process only installs and exits: registerScheme() runs
 * the helper instead of registering anything, and start() never resolves, so the host's windows never open.
 */
const helperArgs = privilegedArgs(process.argv);

export function registerScheme(hostSchemes: CustomScheme[] = []): void {
  if (helperArgs) {
    void runPrivilegedCli(helperArgs).then((code) => app.exit(code));
    return;
  }
  if (app.isReady()) throw new LockstepError('E_USAGE', 'registerScheme() must run before the app is ready: call it at the top of the main script.', { option: 'registerScheme' });
  if (hostSchemes.some((s) => s.scheme === LOCKSTEP_SCHEME)) throw new LockstepError('E_USAGE', `The scheme "${LOCKSTEP_SCHEME}" is Lockstep's own.`, { option: 'hostSchemes' });
  protocol.registerSchemesAsPrivileged([{ scheme: LOCKSTEP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: false, corsEnabled: false } }, ...hostSchemes]);
  schemeRegistered = true;
}


/** Lockstep, started: what to do now, the menu items, and the calls the host makes. */
export interface Lockstep {
  /** What start() decided; see StartAction. */
  readonly action: StartAction;
  /** The language of Lockstep's windows (the user's setting, else the system's). */
  readonly locale: Locale;
  /** *Update…* (and *Release management…* for administrators) for the host's *Extras* menu. */
  menu(): MenuItemConstructorOptions[];
  /** Call when the host's first window is ready ('ready-to-show'): a version that never gets there is reverted at the next start. */
  confirmHealthy(): boolean;
  /** Call at every use of the shared database: a newer release is noticed there (S14). Never throws. */
  noteDatabaseAccess(): Promise<GateDecision | null>;
  /** Whether the host may use the shared database now. */
  mayUseDatabase(): boolean;
  /** The shared database (knex) for the host's own tables; throws E_INVALID_STATE where the gate forbids it. */
  database(): Knex;
  /** `continue`, `outdated`, `restart`, `download-ready`; returns the unsubscribe. */
  on<E extends HostEvent>(event: E, listener: (...args: HostEvents[E]) => void): () => void;
  /** Stops watching, cancels transfers, closes the database. Call before quitting. */
  close(): Promise<void>;
}

function configFromEnvironment(): string {
  const arg = process.argv.find((a) => a.startsWith('--config='))?.slice('--config='.length);
  const beside = app.isPackaged ? path.join(path.dirname(process.execPath), 'lockstep.machine.json') : undefined;
  const found = [arg, process.env['LOCKSTEP_CONFIG'], beside].find((f): f is string => Boolean(f) && fs.existsSync(f!));
  if (found) return found;
  throw new LockstepError('E_CONFIG_INVALID', `No machine configuration: pass start({ config }), or set LOCKSTEP_CONFIG, or put lockstep.machine.json beside the executable${beside ? ` (${beside})` : ''}.`, { option: 'config' });
}

/** S12: the system proxy applies to the feed unless IT configured one explicitly. */
async function withSystemProxy(config: MachineConfig): Promise<MachineConfig> {
  if (!config.feed || config.feed.proxy) return config;
  const proxy = await systemProxyFor(config.feed.url);
  return proxy ? { ...config, feed: { ...config.feed, proxy: { url: proxy } } } : config;
}

/** Recover → start-up gate, before the host opens any window; call once, after app ready. */
export async function start(options: StartOptions = {}): Promise<Lockstep> {
  if (helperArgs) return new Promise<Lockstep>(() => undefined); // the helper process: it exits when the install ends
  const o = checkOptions('lockstep/electron start()', StartOptionsSchema, options);
  if (!schemeRegistered) throw new LockstepError('E_USAGE', 'Call registerScheme() at the top of the main script, before the app is ready, then start().', { option: 'registerScheme' });
  if (!app.isReady()) throw new LockstepError('E_USAGE', 'Call start() once the app is ready: app.whenReady().then(() => start(…)).', { option: 'start' });
  if (startedOnce) throw new LockstepError('E_USAGE', 'start() runs once per app start; keep the Lockstep it returned.', { option: 'start' });
  startedOnce = true;
  const resolved = resolveConfig(o.config ?? configFromEnvironment(), userDataDir());
  const config = o.systemProxy === false ? resolved : await withSystemProxy(resolved);
  serveWindows(webRoot());
  let host: LockstepHost | null = null;
  const shell = await composeShell({
    config,
    host: {
      platform: process.platform, // the main process is the entry point: it chooses the platform, here
      defaultLogDir: o.logDir ?? logDir(),
      secrets: o.secrets ?? new KeytarSecretStore(),
      ...(app.isPackaged ? { electronApp: { resourcesPath: process.resourcesPath, execPath: process.execPath } } : {}),
    },
    settingsFile: o.settingsFile ?? defaultSettingsFile(userDataDir()),
    systemLocale: o.locale ?? systemLocale(),
    product: o.product ?? app.getName(),
    relaunch: () => {
      host?.beforeRestart();
      (o.relaunch ?? relaunchApp)();
    },
    senders: { origin: APP_ORIGIN },
    migrate: o.migrate ?? false,
    ...(o.schema ? { schema: o.schema } : {}),
  });
  registerIpc(shell.handlers);
  const windows = new WindowManager(preloadPath());
  pushSnapshots(windows, (cb) => shell.session.onState(cb));
  shell.session.onState((s) => showProgress(windows, s));
  host = new LockstepHost(shell, {
    show: (kind, w = {}) => {
      const win = windows.show(kind, w.parent);
      if (w.onReady) win.once('ready-to-show', w.onReady);
    },
    close: (kind) => windows.close(kind),
  });
  const started = host;
  started.on('download-ready', ({ version }) => notifyReady(o.product ?? app.getName(), readyText(started.locale, version)));
  let action: StartAction;
  try {
    action = await started.start();
  } catch (err) {
    await started.close();
    throw err;
  }
  return {
    action,
    get locale() {
      return started.locale;
    },
    menu: () => started.menuItems().map((i) => ({ id: i.id, label: i.label, ...(i.accelerator ? { accelerator: i.accelerator } : {}), click: () => i.click() })),
    confirmHealthy: () => started.confirmHealthy(),
    noteDatabaseAccess: () => started.noteDatabaseAccess(),
    mayUseDatabase: () => started.mayUseDatabase(),
    database: () => started.database(),
    on: (event, listener) => started.on(event, listener),
    close: () => started.close(),
  };
}
