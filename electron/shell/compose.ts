/**
 * Composition of the shell from a machine configuration: workstation (database, gate, ledger) → feed → update service
 * → credentials broker → installer → session → IPC handler table. main.ts calls it with Electron's adapters; the
 * browser tests call it with the same real parts (SQLite, a loopback feed, a temp install folder) and a recording
 * relaunch. Nothing here imports electron.
 */
import type { Locale } from '../../contract/messages';
import { MachineConfig } from '../../kernel/config';
import { VersionFileSource } from '../../kernel/installation';
import { Logger } from '../../kernel/log';
import { Host, installerFor, logFor } from '../../engine/compose/host';
import { FeedContext } from '../../engine/feed/download';
import { openUpdateService } from '../../engine/feed/openUpdateService';
import { moduleInstallerFor } from '../../engine/moduleInstall';
import { Upgrader } from '../../engine/startupGate';
import { UpdateService } from '../../engine/updateService';
import { openWorkstation, Workstation } from '../../engine/workstation';
import type { HostSchemaOptions } from '../../engine/clientSchema/compose';
import { createHandlerTable, HandlerTable, SenderPolicy } from '../ipc';
import { CredentialsBroker } from './credentials';
import { loadNotesRenderer } from './notes';
import { ShellSession } from './shellSession';

export interface ShellOptions {
  config: MachineConfig;
  /** The platform, log folder, keychain (and packaged executable) the entry point chose. */
  host: Host;
  settingsFile: string;
  systemLocale: Locale;
  /** Restart into the installed version (Electron: app.relaunch + exit). */
  relaunch: () => void;
  /** Which pages may call the handler table. */
  senders: SenderPolicy;
  logger?: Logger;
  upgrader?: Upgrader;
  /** The embedded SQLite default migrates itself; shared servers are migrated by IT. */
  migrate?: boolean;
  /** The product name Lockstep's windows show (the host app's); default "Lockstep". */
  product?: string;
  /** The host's schema migrations in code and the resources folder (start({ schema })). */
  schema?: HostSchemaOptions;
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

export async function composeShell(o: ShellOptions): Promise<Shell> {
  const { config } = o;
  const log = o.logger ?? logFor(config, o.host);
  // One installer for everything this app installs: Extras → Update… and the gate's own upgrade, both asking for
  // credentials through the same window where the OS has no prompt.
  const broker = new CredentialsBroker();
  const installer = installerFor(config, o.host, log, { prompt: broker.prompt });
  const workstation = await openWorkstation(config, { host: o.host, logger: log, migrate: o.migrate ?? false, fleet: { installer }, ...(o.upgrader ? { upgrader: o.upgrader } : {}), ...(o.schema ? { schemaOptions: o.schema } : {}) });
  try {
    const updates = await openUpdateService(config, { host: o.host, logger: log });
    const feed = updates.feed;
    const installed = new VersionFileSource(config.installDir);
    const session = new ShellSession({
      workstation,
      updates,
      feed,
      installer,
      broker,
      settingsFile: config.userSettingsFile ?? o.settingsFile,
      systemLocale: o.systemLocale,
      product: o.product ?? 'Lockstep',
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
