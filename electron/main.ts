/**
 * Lockstep's own demo host: the Electron app `npm start` runs, built on the same public API a vendor's app uses
 * (electron/index.ts = lockstep/electron). Its main window is the demo's home page; Lockstep's windows, menu items,
 * gate and events come from the API.
 *
 * Configuration: LOCKSTEP_CONFIG or --config=FILE, else lockstep.machine.json beside the executable (IT's file, S22),
 * else the embedded default — a SQLite shared database in the user-data folder and the local demo feed with its demo
 * licence, served from 127.0.0.1 — so a newcomer can click through the whole loop with `npm start`.
 */
import { app } from 'electron';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { platformOf } from '../kernel/catalogSchema';
import { createDemoFeed, writeDemoWorkstation } from './shell/demoSite';
import { serveFolder, ServedFolder } from './shell/feedServer';
import { fatal, preloadPath, userDataDir } from './adapters/appEnv';
import { WindowManager } from './adapters/windows';
import { installMenu } from './menu';
import { Lockstep, registerScheme, start } from './index';

// Before ready. Started elevated as the privileged helper, this process only installs and exits (lockstep/electron).
registerScheme();

function configFile(): string | null {
  const arg = process.argv.find((a) => a.startsWith('--config='));
  const candidates = [arg?.slice('--config='.length), process.env['LOCKSTEP_CONFIG'], app.isPackaged ? path.join(path.dirname(process.execPath), 'lockstep.machine.json') : undefined];
  return candidates.find((f): f is string => Boolean(f) && fs.existsSync(f!)) ?? null;
}

/** The embedded default: demo feed + SQLite in user data; returns the config file and the feed server to stop at quit. */
async function embeddedDefault(): Promise<{ file: string; server: ServedFolder }> {
  const root = path.join(userDataDir(), 'lockstep-demo');
  const feed = await createDemoFeed(root, { platform: platformOf(process.platform) });
  const server = await serveFolder(feed.feedDir);
  const file = writeDemoWorkstation({ dir: path.join(root, 'workstation'), id: os.hostname().toLowerCase(), hostName: os.hostname(), installed: '1.0.0', dbUrl: `sqlite:${path.join(root, 'shared.db')}`, feedUrl: server.url, feed, administrators: [os.userInfo().username], modules: { reports: '1.0.0' } });
  return { file, server };
}

async function main(): Promise<void> {
  const file = configFile();
  const demo = file ? null : await embeddedDefault();
  const lockstep: Lockstep = await start({ config: file ?? demo!.file, product: 'Lockstep', migrate: demo !== null });
  const windows = new WindowManager(preloadPath());
  // The main window: the health of this version is confirmed once it is ready (a version that crashes here is reverted).
  const openHome = () => windows.show('home').once('ready-to-show', () => lockstep.confirmHealthy());
  installMenu({ locale: lockstep.locale, extras: lockstep.menu() });
  lockstep.on('continue', openHome);
  lockstep.on('outdated', ({ block }) => block && windows.close('home')); // block: no more business work on the old version
  app.on('window-all-closed', () => {
    void lockstep.close().finally(() => {
      void demo?.server.close();
      app.quit();
    });
  });
  if (lockstep.action.type === 'go-on') openHome();
}

app.whenReady().then(main, (err) => fatal('Lockstep', err)).catch((err) => fatal('Lockstep could not start', err));
