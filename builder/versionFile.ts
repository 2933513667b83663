/**
 * The version file in the packaged tree, written by an afterPack hook from the version electron-builder is packaging
 * (the app's package.json), so it always names the app it sits in. Where it goes is the installer's own rule
 * (kernel/installation.ts versionFileIn): the top of the install folder on Windows and Linux; on macOS the install
 * folder is the `<Product>.app` bundle and the file lies in its Contents/Resources — written here, before electron-builder
 * signs the bundle, so the signature seals it.
 */
import type { PackContext } from 'app-builder-lib';
import * as path from 'node:path';
import { versionFileIn, writeVersionFile } from '../kernel/installation';

/** The folder that becomes the install folder: the packed tree, or on macOS the bundle inside it. */
export function installFolderOf(context: Pick<PackContext, 'appOutDir' | 'electronPlatformName'> & { packager: { appInfo: { productFilename: string } } }): string {
  const mac = context.electronPlatformName === 'darwin' || context.electronPlatformName === 'mas';
  return mac ? path.join(context.appOutDir, `${context.packager.appInfo.productFilename}.app`) : context.appOutDir;
}

/** The fragment's afterPack hook; returns the file it wrote. */
export async function writeVersionFileAfterPack(context: PackContext): Promise<string> {
  const installFolder = installFolderOf(context);
  writeVersionFile(installFolder, context.packager.appInfo.version);
  return versionFileIn(installFolder);
}
