/**
 * Taskbar / dock progress while a download runs, and a system notification when a separate download is ready to
 * install (S7).
 */
import { Notification } from 'electron';
import type { ShellSnapshot } from '../../contract/ipc';
import type { WindowManager } from './windows';

export function showProgress(windows: WindowManager, s: ShellSnapshot): void {
  const u = s.update;
  const fraction = u.type === 'downloading' ? (u.total > 0 ? u.transferred / u.total : 2) : u.type === 'installing' ? 2 : -1; // 2 = indeterminate
  for (const w of windows.all()) w.setProgressBar(fraction);
}

export function notifyReady(title: string, body: string): void {
  if (Notification.isSupported()) new Notification({ title, body }).show();
}
