/**
 * The installer for one platform, which the entry point chose (engine/compose/host.ts passes it): never sniffed here.
 * The privileged helper has one command-line shape on every OS, with no variables (sudo resets the environment, an
 * elevated Windows process gets a fresh one): the packaged app's own executable with --lockstep-privileged-apply first
 * (electron/main.ts runs the helper then, without windows), or under plain Node the same node binary with the helper
 * script and that argument. sudoersRule (privilegedApply.ts) spells out the rule for exactly that shape.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { MachineConfig } from '../kernel/config';
import { Logger } from '../kernel/log';
import { DarwinElevator } from './elevation/darwin';
import { LinuxElevator, polkitAgentRunning } from './elevation/linux';
import { CredentialsPrompt, Elevator, PrivilegedCommand } from './elevation/types';
import { PRIVILEGED_FLAG, WindowsApp, WindowsElevator } from './elevation/win32';
import { Relauncher } from './relaunch';
import { Spawner, hasCommand, nodeSpawner } from './spawn';
import { Installer } from './installer';

export const HELPER_SCRIPT = path.join(__dirname, 'privilegedApply.js');

export interface PlatformOptions {
  config: MachineConfig;
  log: Logger;
  platform: NodeJS.Platform;
  spawner?: Spawner;
  /** Linux credentials dialog (or standard input in the CLI). */
  prompt: CredentialsPrompt;
  relauncher?: Relauncher;
  /** Packaged Electron app: its executable and resources folder; absent under plain Node. */
  electronApp?: WindowsApp;
  user?: string;
}

export function createElevator(o: PlatformOptions, spawner: Spawner, user: string): Elevator {
  if (o.platform === 'win32') return new WindowsElevator(spawner, o.electronApp ?? { resourcesPath: path.dirname(process.execPath), execPath: process.execPath });
  if (o.platform === 'darwin') return new DarwinElevator(spawner);
  return new LinuxElevator(spawner, { hasCommand: (n) => hasCommand(spawner, n), polkitAgentRunning: () => polkitAgentRunning(), currentUser: user }, o.config.installer.linuxElevation, o.prompt);
}

export function helperCommandFor(o: PlatformOptions): (args: string[]) => PrivilegedCommand {
  if (!o.electronApp) return (args) => ({ command: process.execPath, args: [HELPER_SCRIPT, PRIVILEGED_FLAG, ...args] });
  const exe = o.electronApp.execPath;
  return (args) => ({ command: exe, args: [PRIVILEGED_FLAG, ...args] });
}

export function createInstaller(o: PlatformOptions): Installer {
  const spawner = o.spawner ?? nodeSpawner;
  const user = o.user ?? os.userInfo().username;
  return new Installer({
    config: o.config,
    log: o.log,
    user,
    elevator: createElevator(o, spawner, user),
    helperCommand: helperCommandFor(o),
    spawner,
    ...(o.relauncher ? { relauncher: o.relauncher } : {}),
  });
}
