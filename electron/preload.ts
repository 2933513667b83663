/**
 * The preload: window.lockstep with one named function per IPC channel and onState(cb) → unsubscribe. The page never
 * receives ipcRenderer itself. Windows run sandboxed, where a preload may require nothing but 'electron', so this file
 * imports the contract as types only and names the channels as literals the contract type checks.
 */
import { contextBridge, ipcRenderer, IpcRendererEvent } from 'electron';
import type { AnswerOf, ArgsOf, Channel, LockstepApi, Result, ShellSnapshot, STATE_CHANNEL } from '../contract/ipc';

const STATE: typeof STATE_CHANNEL = 'lockstep:state';

function call<C extends Channel>(channel: C, ...args: ArgsOf<C>): Promise<Result<AnswerOf<C>>> {
  return ipcRenderer.invoke(channel, ...args) as Promise<Result<AnswerOf<C>>>;
}

const api: LockstepApi = {
  snapshot: () => call('lockstep:snapshot'),
  check: () => call('lockstep:check'),
  setCheckAtStart: (enabled) => call('lockstep:set-check-at-start', enabled),
  download: (request) => call('lockstep:download', request),
  cancelDownload: () => call('lockstep:cancel-download'),
  install: () => call('lockstep:install'),
  answerRelease: (answer, at) => (at === undefined ? call('lockstep:answer-release', answer) : call('lockstep:answer-release', answer, at)),
  continueStart: () => call('lockstep:continue'),
  credentials: (answer) => call('lockstep:credentials', answer),
  adminOverview: () => call('lockstep:admin-overview'),
  withdraw: (version) => call('lockstep:withdraw', version),
  rerelease: (version) => call('lockstep:rerelease', version),
  openWindow: (kind) => call('lockstep:open-window', kind),
  fleet: (staleDays) => call('lockstep:fleet', staleDays),
  fleetCsv: (staleDays) => call('lockstep:fleet-csv', staleDays),
  retireWorkstation: (workstationId, staleDays) => call('lockstep:retire-workstation', workstationId, staleDays),
  onState(cb) {
    // The page gets the snapshot only, never the event (whose sender would expose ipcRenderer).
    const listener = (_event: IpcRendererEvent, snapshot: ShellSnapshot) => cb(snapshot);
    ipcRenderer.on(STATE, listener);
    return () => {
      ipcRenderer.removeListener(STATE, listener);
    };
  },
};

contextBridge.exposeInMainWorld('lockstep', api);
