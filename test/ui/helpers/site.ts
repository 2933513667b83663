/**
 * A site for the browser tests, made of real parts: the demo feed (vendor key, signed catalog, licence, tar.gz
 * packages) served from 127.0.0.1, one SQLite shared database, and workstations composed exactly as main.ts composes
 * them (composeShell), each with its own install folder. Only the relaunch is recorded instead of restarting a process.
 */
import type { OutdatedPolicySetting } from '../../../contract/gate';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Locale } from '../../../contract/messages';
import { loadMachineConfig } from '../../../kernel/config';
import { MemoryLogger } from '../../../kernel/log';
import { SecretStore } from '../../../engine/secrets';
import { composeShell, Shell } from '../../../electron/shell/compose';
import { createDemoFeed, DemoFeed, DemoVersion, writeDemoWorkstation } from '../../../electron/shell/demoSite';
import { serveFolder, ServedFolder } from '../../../electron/shell/feedServer';

/** The databases here have no password: nothing is ever looked up. */
const noSecrets: SecretStore = { get: async () => null, set: async () => undefined, delete: async () => false };

export const ME = os.userInfo().username;

export interface TestWorkstation {
  shell: Shell;
  dir: string;
  installDir: string;
  relaunches: number;
  log: MemoryLogger;
}

export interface Site {
  dir: string;
  feed: DemoFeed;
  server: ServedFolder;
  dbUrl: string;
  workstation(o: { id: string; installed: string; admin?: boolean; locale?: Locale; policy?: OutdatedPolicySetting; modules?: Record<string, string>; allowedUsers?: string[]; start?: boolean }): Promise<TestWorkstation>;
  close(): Promise<void>;
}

/** `windowsOrigin`: where the windows are served from — the only sender the handler table accepts. */
export async function createSite(o: { windowsOrigin: string; versions?: DemoVersion[]; bytesPerSecond?: number }): Promise<Site> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-ui-'));
  const feed = await createDemoFeed(dir, { platform: 'linux', ...(o.versions ? { versions: o.versions } : {}) });
  const server = await serveFolder(feed.feedDir, o.bytesPerSecond ? { bytesPerSecond: o.bytesPerSecond, throttle: /\.tar\.gz$/ } : {});
  const dbUrl = `sqlite:${path.join(dir, 'shared.db')}`;
  const open: Shell[] = [];
  return {
    dir,
    feed,
    server,
    dbUrl,
    async workstation(w) {
      const wsDir = path.join(dir, w.id);
      const file = writeDemoWorkstation({ dir: wsDir, id: w.id, hostName: w.id.toUpperCase(), installed: w.installed, dbUrl, feedUrl: server.url, feed, administrators: w.admin === false ? [] : [ME], outdatedPolicy: w.policy ?? 'block', ...(w.modules ? { modules: w.modules } : {}), ...(w.allowedUsers ? { allowedUsers: w.allowedUsers } : {}) });
      const log = new MemoryLogger();
      const ws: Partial<TestWorkstation> & { relaunches: number } = { relaunches: 0 };
      const shell = await composeShell({
        config: loadMachineConfig(file),
        host: { platform: 'linux', defaultLogDir: path.join(wsDir, 'logs'), secrets: noSecrets },
        settingsFile: path.join(wsDir, 'settings.json'),
        systemLocale: w.locale ?? 'en',
        relaunch: () => void ws.relaunches++,
        senders: { origin: o.windowsOrigin },
        logger: log,
        migrate: true,
      });
      open.push(shell);
      Object.assign(ws, { shell, dir: wsDir, installDir: path.join(wsDir, 'app'), log });
      if (w.start !== false) {
        await shell.session.start();
        await shell.workstation.gate.settled(); // the start's heartbeat lands after the decision; tests read the registry next
      }
      return ws as TestWorkstation;
    },
    async close() {
      for (const s of open) await s.close();
      await server.close();
    },
  };
}
