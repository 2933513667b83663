/**
 * Where the privileged helper finds its machine configuration: one place fixed when the app is built, never a name
 * the invoking user passes (an argument or a variable would let them point root at a file they can swap). The app id
 * is electron-builder's (installer/electron-builder.yml; builderConfig.test.ts checks they agree).
 *
 * A test build may move it with a file beside the helper, `machine-config-location.override`, holding one absolute
 * path in which `{uid}` stands for the invoking user's id as sudo/pkexec report it (so suites running side by side,
 * each with its own user, each get their own configuration). That file is trusted only when root alone can change it
 * and every folder above it, a root-owned sticky folder like /tmp excepted (a test checkout may lie there); a packaged
 * app and the npm package never ship one (electron-builder.yml and package.json's files exclude it).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readRootOnlyFile } from './trustedFile';

export const APP_ID = 'com.lockstep.client';
export const MACHINE_CONFIG_NAME = 'lockstep.machine.json';
export const LOCATION_OVERRIDE_FILE = path.join(__dirname, 'machine-config-location.override');

/** The built-in location per OS. Windows: %ProgramData% as installed (not read from the environment). */
export function builtInMachineConfigLocation(platform: NodeJS.Platform = process.platform): string {
  if (platform === 'win32') return path.win32.join('C:\\ProgramData', APP_ID, MACHINE_CONFIG_NAME);
  if (platform === 'darwin') return path.posix.join('/Library/Application Support', APP_ID, MACHINE_CONFIG_NAME);
  return path.posix.join('/etc', APP_ID, MACHINE_CONFIG_NAME);
}

/** The location this helper uses: the built-in one, or a test build's root-owned override. */
export function machineConfigLocation(invokingUid: number | null): string {
  if (!fs.lstatSync(LOCATION_OVERRIDE_FILE, { throwIfNoEntry: false })) return builtInMachineConfigLocation();
  const template = readRootOnlyFile(LOCATION_OVERRIDE_FILE, 4096, 'configuration location override', { acceptStickyRootFolders: true }).trim();
  const located = template.replace(/\{uid\}/g, String(invokingUid ?? process.geteuid?.() ?? 0));
  if (!path.isAbsolute(located) || located.includes('\n')) throw new Error('The configuration location override does not hold one absolute path.');
  return located;
}
