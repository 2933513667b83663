/**
 * Installers that write into the install folder themselves (the backup is a copy for these): a .deb through dpkg,
 * an AppImage copied over the installed one, and the NSIS .exe with the arguments electron-updater passes
 * (`--updated /S`, `/D=` last). Portable packages never come here: the pipeline swaps their staged tree in.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError } from '../contract/errors';
import { writeVersionFile } from '../kernel/installation';
import { copyTree, listDir } from './fsOps';
import { PackageKind } from './journal';
import { Spawner } from './spawn';

/** electron-updater's NsisUpdater.doInstall arguments for a silent update into a given folder. */
export function nsisArguments(installDir: string, options: { forceRunAfter?: boolean } = {}): string[] {
  const args = ['--updated', '/S'];
  if (options.forceRunAfter) args.push('--force-run');
  args.push(`/D=${installDir}`); // NSIS reads /D= only as the last argument, unquoted
  return args;
}

export function dpkgArguments(debFile: string): string[] {
  return ['-i', debFile];
}

function failed(what: string, r: { code: number | null; stderr: string }): LockstepError {
  const last = r.stderr.trim().split('\n').slice(-3).join(' ');
  return new LockstepError('E_INSTALL_FAILED', `${what} failed (exit ${r.code ?? 'signal'}): ${last || 'no message'}`, { exitCode: r.code });
}

export async function runInPlaceInstaller(kind: PackageKind, file: string, installDir: string, toVersion: string, spawner: Spawner): Promise<void> {
  switch (kind) {
    case 'deb': {
      const r = await spawner({ command: 'dpkg', args: dpkgArguments(file), env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
      if (r.code !== 0) throw failed('dpkg -i', r);
      return;
    }
    case 'nsis': {
      const r = await spawner({ command: file, args: nsisArguments(installDir) });
      if (r.code !== 0) throw failed('The NSIS installer', r);
      return;
    }
    case 'appimage':
      installAppImage(file, installDir);
      writeVersionFile(installDir, toVersion); // an AppImage carries its version inside; the verified hash names it
      return;
    default:
      throw new LockstepError('E_INTERNAL', `A ${kind} package is not installed in place.`);
  }
}

/** Replaces the folder's AppImage (the one already there, else the package's name) atomically: copy beside, rename. */
export function installAppImage(file: string, installDir: string): void {
  const existing = listDir(installDir).find((n) => n.endsWith('.AppImage'));
  const target = path.join(installDir, existing ?? path.basename(file).replace(/^package/, 'app'));
  const tmp = `${target}.lockstep-new`;
  fs.rmSync(tmp, { force: true });
  copyTree(file, tmp);
  fs.chmodSync(tmp, 0o755);
  fs.renameSync(tmp, target);
}
