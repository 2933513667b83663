/**
 * `lockstep` for Node (services, scripts, tests): one workstation opened from a machine configuration — its identity,
 * the shared database, the start-up gate, the ledger and the fleet registry — plus the update service (check,
 * download) and the installer. A thin composition of openWorkstation and openUpdateService; the Electron API
 * (lockstep/electron) composes the same parts with windows around them.
 */
import type { Knex } from 'knex';
import { z } from 'zod';
import type { CheckResult, DownloadedStep } from '../../contract/update';
import type { FleetStore } from '../../db/fleetStore';
import type { MachineConfig } from '../../kernel/config';
import { Logger } from '../../kernel/log';
import { platformOf } from '../../kernel/catalogSchema';
import { trustedKeys } from '../../kernel/trust';
import type { StartRecovery } from '../../installer/installer';
import type { CredentialsPrompt } from '../../installer/elevation/types';
import { defaultCacheDir } from '../feed/context';
import { Host, installerFor, logFor } from '../compose/host';
import { openUpdateService } from '../feed/openUpdateService';
import type { Identity } from '../identity';
import { installDownloaded, InstallOutcome } from '../installDownloaded';
import type { Ledger } from '../ledger';
import { moduleInstallerFor } from '../moduleInstall';
import { KeytarSecretStore } from '../secrets';
import type { Evaluation, GateResult } from '../startupGate';
import type { UpdateService } from '../updateService';
import { openWorkstation } from '../workstation';
import { platformLogDir } from './defaults';
import { checkOptions, configOption, fn, PLATFORMS, resolveConfig, secretStore } from './options';

const logger = z.custom<Logger>((v) => typeof v === 'object' && v !== null && ['info', 'warn', 'error'].every((k) => typeof (v as Record<string, unknown>)[k] === 'function'), { message: 'must be a logger with info, warn and error' });

export const OpenOptionsSchema = z
  .object({
    /** The machine configuration: a file, or the same content as an object. Required. */
    config: configOption,
    /** Where the relative paths inside a config object resolve (a file's resolve against its folder). Default: the working folder. */
    baseDir: z.string().trim().min(1).optional(),
    /** The OS whose package files and elevation apply. Default: this process's. */
    platform: z.enum(PLATFORMS).optional(),
    /** Log folder when the configuration names none. Default: the platform's per-user log folder. */
    logDir: z.string().trim().min(1).optional(),
    /** Where database and proxy passwords come from. Default: the OS keychain. */
    secrets: secretStore.optional(),
    /** Instead of the rotating log file. */
    logger: logger.optional(),
    /** Run the database migrations on open (an embedded SQLite database; shared servers are migrated by IT). Default: false. */
    migrate: z.boolean().optional(),
    /** Answers the installer's request for an account with write rights (Linux without a polkit agent). Default: none. */
    credentials: fn<CredentialsPrompt>().optional(),
  })
  .strict();

export type OpenOptions = z.input<typeof OpenOptionsSchema>;

/** One workstation, opened. */
export interface Lockstep {
  readonly config: MachineConfig;
  readonly identity: Identity;
  readonly log: Logger;
  /** The shared database (knex), for the host's own tables beside Lockstep's. */
  readonly database: Knex;
  /** The release ledger (S15): release, withdraw, mark as test, list. */
  readonly ledger: Ledger;
  /** The fleet registry: workstations, releases, events. */
  readonly fleet: FleetStore;
  /** check → download, with state snapshots (onState). */
  readonly updates: UpdateService;
  /** Finishes or reverts an interrupted install; call before gate() on every start. */
  recover(): Promise<StartRecovery>;
  /** The start-up gate (S14): decides, records this start, upgrades by itself when the release says so. */
  gate(): Promise<GateResult>;
  /** What the gate would decide, without writing anything. */
  status(): Promise<Evaluation>;
  check(): Promise<CheckResult>;
  download(version: string, options?: { modules?: string[] }): Promise<DownloadedStep[]>;
  /** Installs what download() fetched (every chain step, the ticked modules); the app then restarts into it. */
  install(): Promise<InstallOutcome>;
  /** The new version started healthily (otherwise the next recover() reverts it once the health time is over). */
  confirmHealthy(): boolean;
  close(): Promise<void>;
}

export async function openLockstep(options: OpenOptions): Promise<Lockstep> {
  const o = checkOptions('lockstep openLockstep()', OpenOptionsSchema, options);
  const config = resolveConfig(o.config, o.baseDir ?? process.cwd());
  const platform = o.platform ?? process.platform; // the host is the entry point: it chooses the platform, here
  const defaultLogDir = o.logDir ?? platformLogDir(platform, process.env);
  const host: Host = { platform, defaultLogDir, secrets: o.secrets ?? new KeytarSecretStore() };
  const log = o.logger ?? logFor(config, host);
  const installer = installerFor(config, host, log, o.credentials ? { prompt: o.credentials } : {});
  const workstation = await openWorkstation(config, { host, logger: log, migrate: o.migrate ?? false, fleet: { installer } });
  let updates: UpdateService;
  try {
    updates = await openUpdateService(config, { host, logger: log });
  } catch (err) {
    await workstation.close();
    throw err;
  }
  const keys = trustedKeys(config);
  return {
    config,
    identity: workstation.identity,
    log,
    database: workstation.db.knex,
    ledger: workstation.ledger,
    fleet: workstation.fleet,
    updates,
    recover: () => installer.recoverInstall(),
    gate: () => workstation.gate.run(),
    status: () => workstation.gate.evaluate(),
    check: () => updates.check(),
    download: (version, d = {}) => updates.download(version, false, d.modules ?? []),
    install: () =>
      updates.install((downloaded) => {
        const modules = downloaded.modules.length ? moduleInstallerFor(config, { cacheDir: config.feed?.cacheDir ?? defaultCacheDir(config), trustedKeys: keys, log }) : undefined;
        const kept = updates.feed.keptPackage;
        return installDownloaded(downloaded, { installer, trustedKeys: keys, platform: platformOf(platform), ...(modules ? { modules } : {}), ...(kept ? { kept } : {}) });
      }),
    confirmHealthy: () => installer.confirmHealthy(),
    async close() {
      updates.cancelDownload();
      updates.scheduler.disarm();
      await workstation.close();
    },
  };
}
