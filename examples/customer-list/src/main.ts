/**
 * Customer List: the vendor's Electron main process. Lockstep comes in through its public API only: the scheme before
 * ready, start() before any window, its menu items under Extras, confirmHealthy() once the main window is ready.
 */
import { app, BrowserWindow, ipcMain, Menu } from 'electron';
import * as path from 'node:path';
import { registerScheme, start } from 'lockstep/electron';
import { CustomerStore } from './customers';

registerScheme();

async function main(): Promise<void> {
  // Recover an interrupted install, then the start-up gate — before any window touches the shared database.
  const lockstep = await start({ product: 'Customer List' });
  const customers = new CustomerStore(lockstep);
  let window: BrowserWindow | null = null;

  Menu.setApplicationMenu(
    Menu.buildFromTemplate([
      { label: '&File', submenu: [{ role: 'quit' }] },
      { label: 'E&xtras', submenu: lockstep.menu() },
    ]),
  );

  // Only our own page may call these (Lockstep's windows have their own, separate channels).
  const ours = (url: string | undefined) => url !== undefined && url.startsWith('file://') && url.endsWith('/window/index.html');
  ipcMain.handle('customers:list', (e) => (ours(e.senderFrame?.url) ? customers.list() : []));
  ipcMain.handle('customers:add', (e, c: { name: unknown; city: unknown }) => (ours(e.senderFrame?.url) ? customers.add(c) : null));
  ipcMain.handle('customers:remove', (e, id: unknown) => (ours(e.senderFrame?.url) ? customers.remove(id) : null));

  const openMain = async () => {
    await customers.ensureTable();
    window = new BrowserWindow({ width: 800, height: 600, show: false, webPreferences: { preload: path.join(__dirname, 'preload.js'), contextIsolation: true, sandbox: true } });
    window.once('ready-to-show', () => {
      window?.show();
      lockstep.confirmHealthy(); // this version opened its main window: keep it
    });
    window.on('closed', () => (window = null));
    await window.loadFile(path.join(__dirname, '..', 'window', 'index.html'));
  };

  lockstep.on('outdated', ({ block }) => {
    if (block) window?.close(); // a newer release is out: no more work on the old version
  });
  lockstep.on('restart', () => {
    // Nothing to save: every change is written to the database at once.
  });
  app.on('window-all-closed', () => void lockstep.close().finally(() => app.quit()));

  if (lockstep.action.type === 'go-on') await openMain();
  else lockstep.on('continue', () => void openMain()); // after the release question or the "outdated" warning
}

app.whenReady().then(main).catch((err: Error) => {
  console.error(err.message);
  app.exit(1);
});
