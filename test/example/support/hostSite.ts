/**
 * Workstations composed the way lockstep/electron's start() composes them — composeShell, then the LockstepHost the
 * Electron layer wraps — on a site of real parts (the demo feed on 127.0.0.1, one SQLite shared database, a temp
 * install folder per workstation). Only two things are recorded instead of done: the windows Lockstep would show
 * (a window port) and the relaunch. A second host on the same folder is the app's next start.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadMachineConfig } from '../../../kernel/config';
import { MemoryLogger } from '../../../kernel/log';
import type { SecretStore } from '../../../engine/secrets';
import { composeShell, Shell } from '../../../electron/shell/compose';
import { createDemoFeed, DemoFeed, writeDemoWorkstation } from '../../../electron/shell/demoSite';
import { serveFolder, ServedFolder } from '../../../electron/shell/feedServer';
import { LockstepHost, LockstepWindow } from '../../../electron/shell/host';

const noSecrets: SecretStore = { get: async () => null, set: async () => undefined, delete: async () => false };

export const ME = os.userInfo().username;

export interface TestHost {
  host: LockstepHost;
  shell: Shell;
  installDir: string;
  /** What Lockstep showed and closed, in order ("show:update", "close:credentials"…). */
  windows: string[];
  /** onReady callbacks of the windows shown, by kind: calling one is "the window became ready". */
  ready: Map<LockstepWindow, () => void>;
  relaunches: number;
  log: MemoryLogger;
}

export interface HostSite {
  dir: string;
  feed: DemoFeed;
  dbUrl: string;
  /** Composes (does not start) a workstation; the same id again is the next start of the same install. */
  host(o: { id: string; installed: string; admin?: boolean; policy?: 'block' | 'warn'; healthTimeoutMs?: number; allowedUsers?: string[] }): Promise<TestHost>;
  close(): Promise<void>;
}

/** `windowsOrigin`: where Lockstep's windows are served from in a browser test — the only sender its handler table accepts. */
export async function createHostSite(o: { windowsOrigin?: string } = {}): Promise<HostSite> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-host-'));
  const feed = await createDemoFeed(dir, { platform: 'linux' });
  const server: ServedFolder = await serveFolder(feed.feedDir);
  const dbUrl = `sqlite:${path.join(dir, 'shared.db')}`;
  const open: LockstepHost[] = [];
  const windowsOrigin = o.windowsOrigin ?? 'http://127.0.0.1:9';
  return {
    dir,
    feed,
    dbUrl,
    async host(w) {
      const wsDir = path.join(dir, w.id);
      const file = writeDemoWorkstation({ dir: wsDir, id: w.id, hostName: w.id.toUpperCase(), installed: w.installed, dbUrl, feedUrl: server.url, feed, administrators: w.admin === false ? [] : [ME], outdatedPolicy: w.policy ?? 'block', ...(w.allowedUsers ? { allowedUsers: w.allowedUsers } : {}) });
      if (w.healthTimeoutMs) {
        const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
        fs.writeFileSync(file, JSON.stringify({ ...doc, installer: { ...doc.installer, healthTimeoutMs: w.healthTimeoutMs } }, null, 2));
      }
      const log = new MemoryLogger();
      const t: Partial<TestHost> & { relaunches: number; windows: string[]; ready: Map<LockstepWindow, () => void> } = { relaunches: 0, windows: [], ready: new Map() };
      let host: LockstepHost | null = null;
      const shell = await composeShell({
        config: loadMachineConfig(file),
        host: { platform: 'linux', defaultLogDir: path.join(wsDir, 'logs'), secrets: noSecrets },
        settingsFile: path.join(wsDir, 'settings.json'),
        systemLocale: 'en',
        product: 'Customer List',
        relaunch: () => {
          host?.beforeRestart(); // as lockstep/electron's start() wires it
          t.relaunches++;
        },
        senders: { origin: windowsOrigin },
        logger: log,
        migrate: true,
      });
      host = new LockstepHost(shell, {
        show: (kind, w = {}) => {
          t.windows.push(`show:${kind}`);
          if (w.onReady) t.ready.set(kind, w.onReady);
        },
        close: (kind) => void t.windows.push(`close:${kind}`),
      });
      open.push(host);
      return Object.assign(t, { host, shell, installDir: path.join(wsDir, 'app'), log }) as TestHost;
    },
    async close() {
      for (const h of open) await h.close();
      await server.close();
    },
  };
}

export function installedVersion(installDir: string): string {
  return JSON.parse(fs.readFileSync(path.join(installDir, 'lockstep-version.json'), 'utf8')).version;
}
