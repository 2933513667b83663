/**
 * Safe windows: contextIsolation, sandbox, no nodeIntegration, webSecurity, our preload only; no new windows (links
 * in release notes open in the system browser, https only), no navigation away from our pages, no permissions.
 * One window per kind; dialogs (release prompt, outdated notice, credentials) are modal to their parent.
 */
import { BrowserWindow, shell } from 'electron';
import type { WindowKind } from '../../contract/ipc';
import { APP_ORIGIN, LOCKSTEP_PARTITION, lockstepSession, windowUrl } from './protocol';

const SIZES: Record<WindowKind, { width: number; height: number }> = {
  home: { width: 760, height: 420 },
  update: { width: 900, height: 760 },
  release: { width: 640, height: 460 },
  outdated: { width: 640, height: 420 },
  credentials: { width: 480, height: 400 },
  admin: { width: 1000, height: 700 },
};

export class WindowManager {
  private readonly open = new Map<WindowKind, BrowserWindow>();

  constructor(private readonly preload: string) {
    lockstepSession().setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  }

  show(kind: WindowKind, parent?: WindowKind): BrowserWindow {
    const existing = this.open.get(kind);
    if (existing && !existing.isDestroyed()) {
      existing.focus();
      return existing;
    }
    const parentWindow = parent ? this.open.get(parent) : undefined;
    const win = new BrowserWindow({
      ...SIZES[kind],
      show: false,
      parent: parentWindow && !parentWindow.isDestroyed() ? parentWindow : undefined,
      modal: Boolean(parentWindow) && (kind === 'credentials' || kind === 'release' || kind === 'outdated'),
      webPreferences: { partition: LOCKSTEP_PARTITION, preload: this.preload, contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true, spellcheck: false },
    });
    win.webContents.setWindowOpenHandler(({ url }) => {
      if (url.startsWith('https://')) void shell.openExternal(url);
      return { action: 'deny' };
    });
    win.webContents.on('will-navigate', (event, url) => {
      if (!url.startsWith(`${APP_ORIGIN}/`)) event.preventDefault();
    });
    win.once('ready-to-show', () => win.show());
    win.on('closed', () => this.open.delete(kind));
    this.open.set(kind, win);
    void win.loadURL(windowUrl(kind));
    return win;
  }

  close(kind: WindowKind): void {
    const w = this.open.get(kind);
    if (w && !w.isDestroyed()) w.close();
  }

  all(): BrowserWindow[] {
    return [...this.open.values()].filter((w) => !w.isDestroyed());
  }
}
