/**
 * What an entry point (the CLI, Electron's main process, a vendor's service or test) decides once about the machine
 * it runs on, and the wiring every composition shares: the log file, the installer and the feed context. Nothing
 * below an entry point reads process.platform or builds these on its own, so the CLI, the shell and the fleet get
 * the same installer with the same elevation, and a test can choose another platform in one place.
 */
import * as path from 'node:path';
import { MachineConfig } from '../../kernel/config';
import { Logger, RotatingFileLogger } from '../../kernel/log';
import { CredentialsPrompt } from '../../installer/elevation/types';
import { WindowsApp } from '../../installer/elevation/win32';
import { Installer } from '../../installer/installer';
import { createInstaller } from '../../installer/platform';
import { Relauncher } from '../../installer/relaunch';
import { Spawner } from '../../installer/spawn';
import { FeedContext } from '../feed/download';
import { feedContext } from '../feed/context';
import { platformOf } from '../../kernel/catalogSchema';
import { SecretStore } from '../secrets';

export interface Host {
  /** The OS this process runs on: it chooses the package file and the way to elevate. */
  platform: NodeJS.Platform;
  /** Where logs go when the machine configuration names no folder (the platform's log folder). */
  defaultLogDir: string;
  /** The OS keychain (database, proxy and licence secrets). */
  secrets: SecretStore;
  spawner?: Spawner;
  /** The packaged Electron app (its executable starts the privileged helper); absent under plain Node. */
  electronApp?: WindowsApp;
}

/** The rotating log of this configuration (S24). */
export function logFor(config: MachineConfig, host: Pick<Host, 'defaultLogDir'>): Logger {
  return new RotatingFileLogger(path.join(config.log.dir ?? host.defaultLogDir, 'lockstep.log'), config.log.maxBytes, config.log.keep);
}

export interface InstallerOptions {
  /** Where the OS has no prompt of its own (Linux without polkit): the credentials window, or standard input. */
  prompt?: CredentialsPrompt;
  user?: string;
  relauncher?: Relauncher;
}

/** The installer for this host: write probe, elevation per OS, the privileged helper. Without a prompt it never asks. */
export function installerFor(config: MachineConfig, host: Host, log: Logger, o: InstallerOptions = {}): Installer {
  return createInstaller({
    config,
    log,
    platform: host.platform,
    prompt: o.prompt ?? (async () => null),
    ...(host.spawner ? { spawner: host.spawner } : {}),
    ...(host.electronApp ? { electronApp: host.electronApp } : {}),
    ...(o.user ? { user: o.user } : {}),
    ...(o.relauncher ? { relauncher: o.relauncher } : {}),
  });
}

/** The feed context (S1–S7, S12, S18) for this host; the licence number is the only identifying header. */
export function feedContextFor(config: MachineConfig, host: Host, log: Logger, licenseNumber: string | null, sleep?: (ms: number) => Promise<void>): Promise<FeedContext> {
  return feedContext(config, { secrets: host.secrets, log, platform: platformOf(host.platform), licenseNumber, ...(sleep ? { sleep } : {}) });
}
