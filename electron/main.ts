/**
 * The Electron main process, the composition root: config → database → services → IPC → menu → start-up gate →
 * windows. Everything with behaviour lives in electron/shell (plain Node, tested in Chromium) and the engine; this
 * file only wires Electron's parts to it.
 *
 * Configuration: LOCKSTEP_CONFIG or --config=FILE, else lockstep.machine.json beside the executable (IT's file, S22),
 * else the embedded default — a SQLite shared database in the user-data folder and the local demo feed with its demo
 * licence, served from 127.0.0.1 — so a newcomer can click through the whole loop with `npm start`.
 */
import { app } from 'electron';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { WindowKind } from '../contract/ipc';
import { loadMachineConfig, MachineConfig } from '../kernel/config';

import { KeytarSecretStore } from '../engine/secrets';
import { composeShell, Shell } from './shell/compose';
import { createDemoFeed, writeDemoWorkstation } from './shell/demoSite';
import { serveFolder, ServedFolder } from './shell/feedServer';
import { defaultSettingsFile } from './shell/shellSession';
import { fatal, logDir, preloadPath, relaunchApp, systemLocale, systemProxyFor, userDataDir, webRoot } from './adapters/appEnv';
import { pushSnapshots, registerIpc } from './adapters/ipcMain';
import { APP_ORIGIN, registerAppScheme, serveWindows } from './adapters/protocol';
import { notifyReady, showProgress } from './adapters/taskbar';
import { WindowManager } from './adapters/windows';
import { installMenu, readyText } from './menu';
import { privilegedArgs, runPrivilegedCli } from '../installer/privilegedApply';
import { platformOf } from '../kernel/catalogSchema';

function configFile(): string | null {
  const arg = process.argv.find((a) => a.startsWith('--config='));
  const candidates = [arg?.slice('--config='.length), process.env['LOCKSTEP_CONFIG'], app.isPackaged ? path.join(path.dirname(process.execPath), 'lockstep.machine.json') : undefined];
  return candidates.find((f): f is string => Boolean(f) && fs.existsSync(f!)) ?? null;
}

/** The embedded default: demo feed + SQLite in user data; returns the config and the feed server to stop at quit. */
async function embeddedDefault(): Promise<{ config: MachineConfig; server: ServedFolder }> {
  const root = path.join(userDataDir(), 'lockstep-demo');
  const feed = await createDemoFeed(root, { platform: platformOf(process.platform) });
  const server = await serveFolder(feed.feedDir);
  const file = writeDemoWorkstation({ dir: path.join(root, 'workstation'), id: os.hostname().toLowerCase(), hostName: os.hostname(), installed: '1.0.0', dbUrl: `sqlite:${path.join(root, 'shared.db')}`, feedUrl: server.url, feed, administrators: [os.userInfo().username], modules: { reports: '1.0.0' } });
  return { config: loadMachineConfig(file), server };
}

/** S12: the system proxy applies to the feed unless IT configured one explicitly (the loopback demo feed goes direct). */
async function withSystemProxy(config: MachineConfig): Promise<MachineConfig> {
  if (!config.feed || config.feed.proxy) return config;
  const proxy = await systemProxyFor(config.feed.url);
  return proxy ? { ...config, feed: { ...config.feed, proxy: { url: proxy } } } : config;
}

async function start(): Promise<void> {
  serveWindows(webRoot());
  const file = configFile();
  const demo = file ? null : await embeddedDefault();
  const config = await withSystemProxy(demo ? demo.config : loadMachineConfig(file!));
  const shell: Shell = await composeShell({
    config,
    host: {
      platform: process.platform, // chosen here, once, for everything below
      defaultLogDir: logDir(),
      secrets: new KeytarSecretStore(),
      ...(app.isPackaged ? { electronApp: { resourcesPath: process.resourcesPath, execPath: process.execPath } } : {}),
    },
    settingsFile: defaultSettingsFile(userDataDir()),
    systemLocale: systemLocale(),
    relaunch: relaunchApp,
    senders: { origin: APP_ORIGIN },
    migrate: demo !== null,
  });
  registerIpc(shell.handlers);
  const windows = new WindowManager(preloadPath());
  pushSnapshots(windows, (cb) => shell.session.onState(cb));
  shell.session.onState((s) => {
    showProgress(windows, s);
    if (s.credentials) windows.show('credentials', 'update');
    else windows.close('credentials');
  });
  const isAdmin = shell.workstation.identity.isAdmin;
  installMenu({ locale: shell.session.locale, isAdmin, openUpdate: () => windows.show('update'), openAdmin: () => isAdmin && windows.show('admin') });
  shell.session.onEvent((e) => {
    if (e.type === 'open-window') windows.show(e.kind as WindowKind);
    if (e.type === 'continue') {
      windows.show('home');
      windows.close('release');
      windows.close('outdated');
    }
    if (e.type === 'background-ready') notifyReady('Lockstep', readyText(shell.session.locale, e.version));
    if (e.type === 'outdated') {
      windows.show('outdated'); // a newer release appeared while running (the watcher, S14)
      if (!e.mayUseDatabase) windows.close('home'); // block: no more business work on the old version
    }
  });
  app.on('window-all-closed', () => {
    void shell.close().finally(() => {
      void demo?.server.close();
      app.quit();
    });
  });

  // The gate runs before any window that touches business data opens (S14).
  const gate = await shell.session.start();
  if (gate.restartInto) return; // upgraded by itself: relaunching into the released version
  switch (gate.decision.type) {
    case 'ask-release':
      windows.show('release');
      break;
    case 'outdated':
      windows.show('outdated'); // under block its only button quits; the main window never opens
      break;
    default:
      windows.show('home');
  }
}

// Started elevated as the privileged helper (sudo, pkexec, osascript, UAC): run it and exit, no window, no database.
const helperArgs = privilegedArgs(process.argv);
if (helperArgs) {
  void runPrivilegedCli(helperArgs).then((code) => app.exit(code));
} else {
  registerAppScheme();
  app.whenReady().then(start, (err) => fatal('Lockstep', err)).catch((err) => fatal('Lockstep could not start', err));
}
