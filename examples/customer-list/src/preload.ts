/** The main window's bridge: three named calls, never ipcRenderer itself (the window runs sandboxed). */
import { contextBridge, ipcRenderer } from 'electron';

contextBridge.exposeInMainWorld('customers', {
  list: () => ipcRenderer.invoke('customers:list'),
  add: (customer: { name: string; city: string }) => ipcRenderer.invoke('customers:add', customer),
  remove: (id: number) => ipcRenderer.invoke('customers:remove', id),
});
