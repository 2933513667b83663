/**
 * Where the version file sits in an install folder, and what a portable package's tree means for it.
 *
 * Windows and Linux: the install folder holds the app's files; `lockstep-version.json` lies at its top (the build
 * puts it there with electron-builder's `extraFiles`).
 *
 * macOS: the install folder IS the application bundle (`/Applications/Lockstep Client.app`) — an update replaces the
 * whole bundle (the mac zip electron-builder makes, copied in with rights, since Squirrel.Mac cannot update an app the
 * user cannot write). The version file lives at `Contents/Resources/lockstep-version.json` (the build puts it there
 * with the mac `extraResources`), because:
 *  - it must be inside the code signature: a bundle is sealed when signed and notarized, so nothing may be written into
 *    it afterwards (as the AppImage path does on Linux), and a file at the bundle root is "unsealed contents" that
 *    makes codesign and Gatekeeper refuse the app;
 *  - Contents/Resources is where a bundle keeps data files (extraFiles would land loose in Contents/, next to
 *    Info.plist and MacOS/, which Apple reserves for its standard subfolders);
 *  - it is exactly the file the vendor built and signed, so "the installed version" cannot disagree with the bundle.
 * The mac zip holds one top-level `<Product>.app` folder; its contents replace the bundle's (the bundle's own name
 * stays, so Dock entries and login items keep working).
 *
 * A folder is treated as a bundle by its `.app` name rather than by the OS running: the rule follows the package, and
 * it is testable on Linux.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError } from '../contract/errors';
import { BUNDLE_VERSION_FILE, isAppBundle, versionFileIn } from '../kernel/installation';

export { BUNDLE_VERSION_FILE, isAppBundle, versionFileIn };

/**
 * The folder whose entries replace the install folder's: for a bundle, the one `<Product>.app` the staged tree holds;
 * otherwise the staged tree itself. A mac package with anything else at its top is refused (nothing was touched yet).
 */
export function stagedRootFor(stagedTree: string, installDir: string): string {
  if (!isAppBundle(installDir)) return stagedTree;
  const top = fs.readdirSync(stagedTree, { withFileTypes: true });
  const bundles = top.filter((e) => e.isDirectory() && isAppBundle(e.name));
  if (bundles.length !== 1 || top.length !== 1) {
    throw new LockstepError('E_INSTALL_FAILED', `The package must hold exactly one application bundle (<Product>.app) at its top to replace ${path.basename(installDir)}; it holds: ${top.map((e) => e.name).join(', ') || 'nothing'}. Nothing was installed.`, { found: top.map((e) => e.name) });
  }
  return path.join(stagedTree, bundles[0]!.name);
}
