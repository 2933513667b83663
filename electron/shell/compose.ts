/**
 * Composition of the shell from a machine configuration: workstation (database, gate, ledger) → feed → update service
 * → credentials broker → installer → session → IPC handler table. main.ts calls it with Electron's adapters; the
 * browser tests call it with the same real parts (SQLite, a loopback feed, a temp install folder) and a recording
 * relaunch. Nothing here imports electron.
 */
import * as path from 'node:path';
import type { Locale } from '../../contract/messages';
import { MachineConfig } from '../../kernel/config';
import { feedContext } from '../../engine/feed/context';
import { FeedContext } from '../../engine/feed/download';
import { License, platformOf } from '../../kernel/catalogSchema';
import { VersionFileSource } from '../../kernel/installation';
import { loadLicense } from '../../engine/license';
import { Logger, RotatingFileLogger } from '../../kernel/log';
import { defaultModulesFile, readInstalledModules } from '../../engine/modules';
import { moduleInstallerFor } from '../../engine/moduleInstall';
import { SecretStore } from '../../engine/secrets';
import { Upgrader } from '../../engine/startupGate';
import { trustedKeys } from '../../kernel/trust';
import { UpdateService } from '../../engine/updateService';
import { openWorkstation, Workstation } from '../../engine/workstation';
import { createInstaller } from '../../installer/platform';
import { Spawner } from '../../installer/spawn';
import { WindowsApp } from '../../installer/elevation/win32';
import { createHandlerTable, HandlerTable, SenderPolicy } from '../ipc';
import { CredentialsBroker } from './credentials';
import { loadNotesRenderer } from './notes';
import { ShellSession } from './shellSession';

export interface ShellOptions {
  config: MachineConfig;
  secrets: SecretStore;
  defaultLogDir: string;
  settingsFile: string;
  systemLocale: Locale;
  /** The OS, chosen once by the entry point. */
  platform: NodeJS.Platform;
  /** Restart into the installed version (Electron: app.relaunch + exit). */
  relaunch: () => void;
  /** Which pages may call the handler table. */
  senders: SenderPolicy;
  logger?: Logger;
  upgrader?: Upgrader;
  /** The embedded SQLite default migrates itself; shared servers are migrated by IT. */
  migrate?: boolean;
  electronApp?: WindowsApp;
  spawner?: Spawner;
}

export interface Shell {
  workstation: Workstation;
  feed: FeedContext;
  updates: UpdateService;
  broker: CredentialsBroker;
  session: ShellSession;
  handlers: HandlerTable;
  close(): Promise<void>;
}

function tryLicense(config: MachineConfig): License | null {
  try {
    return loadLicense(config.feed?.licenseFile, trustedKeys(config));
  } catch {
    return null; // *Search now* reports the coded licence error where the user can see it
  }
}

export async function composeShell(o: ShellOptions): Promise<Shell> {
  const { config } = o;
  const log = o.logger ?? new RotatingFileLogger(path.join(config.log.dir ?? o.defaultLogDir, 'lockstep.log'), config.log.maxBytes, config.log.keep);
  // One installer for everything this app installs: Extras → Update… and the gate's own upgrade (issue 5), both
  // asking for credentials through the same window where the OS has no prompt.
  const broker = new CredentialsBroker();
  const installer = createInstaller({ config, log, platform: o.platform, prompt: broker.prompt, ...(o.spawner ? { spawner: o.spawner } : {}), ...(o.electronApp ? { electronApp: o.electronApp } : {}) });
  const workstation = await openWorkstation(config, { defaultLogDir: o.defaultLogDir, secrets: o.secrets, logger: log, migrate: o.migrate ?? false, platform: o.platform, fleet: { installer }, ...(o.upgrader ? { upgrader: o.upgrader } : {}) });
  try {
    const license = tryLicense(config);
    const feed = await feedContext(config, { secrets: o.secrets, log, platform: platformOf(o.platform), licenseNumber: license?.number ?? null });
    const installed = new VersionFileSource(config.installDir);
    const updates = new UpdateService({
      feed,
      channel: config.channel,
      installed: () => installed.installedVersion(),
      license: () => loadLicense(config.feed?.licenseFile, trustedKeys(config)),
      modules: () => readInstalledModules(config.feed?.modulesFile ?? defaultModulesFile(config.installDir)),
      log,
    });
    const session = new ShellSession({
      workstation,
      updates,
      feed,
      installer,
      broker,
      settingsFile: config.userSettingsFile ?? o.settingsFile,
      systemLocale: o.systemLocale,
      product: 'Lockstep',
      renderNotes: await loadNotesRenderer(),
      installedVersion: () => installed.installedVersion().raw,
      watcher: workstation.watcher,
      modules: moduleInstallerFor(config, feed),
    });
    session.onEvent((e) => {
      if (e.type === 'relaunch') o.relaunch();
    });
    const handlers = createHandlerTable(session, o.senders);
    return {
      workstation,
      feed,
      updates,
      broker,
      session,
      handlers,
      async close() {
        session.stop();
        updates.cancelDownload();
        updates.scheduler.disarm();
        if (broker.current()) broker.answer(null);
        await workstation.close();
      },
    };
  } catch (err) {
    await workstation.close();
    throw err;
  }
}
