/**
 * Registers the ONE handler table (electron/ipc.ts) with ipcMain.handle — the sender is the URL of the frame that
 * sent the message, which the table checks — and pushes every snapshot to every window on the state channel.
 */
import { ipcMain } from 'electron';
import { STATE_CHANNEL, ShellSnapshot } from '../../contract/ipc';
import type { HandlerTable } from '../ipc';
import type { WindowManager } from './windows';

export function registerIpc(table: HandlerTable): void {
  for (const channel of table.channels) {
    ipcMain.handle(channel, (event, ...args: unknown[]) => table.invoke(channel, { url: event.senderFrame?.url ?? '' }, args));
  }
}

export function pushSnapshots(windows: WindowManager, subscribe: (cb: (s: ShellSnapshot) => void) => () => void): () => void {
  return subscribe((s) => {
    for (const w of windows.all()) w.webContents.send(STATE_CHANNEL, s);
  });
}
