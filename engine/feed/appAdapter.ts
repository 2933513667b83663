/**
 * electron-updater's AppAdapter for plain Node (CLI, tests, benchmarks), as ARCHITECTURE.md describes: what Electron's
 * `app` would answer, taken from Lockstep's own configuration. The download cache folder is configurable because IT
 * policies forbid running from some folders (S7).
 *
 * electron-updater reads `app-update.yml` for the name of its cache sub-folder even when the feed URL is set in code,
 * so the adapter writes a minimal one into the cache folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AppAdapter } from 'electron-updater/out/AppAdapter';

export const UPDATER_CACHE_DIR_NAME = 'updater';

export class NodeAppAdapter implements AppAdapter {
  readonly name = 'lockstep';
  /**
   * electron-updater only moves bytes here; which version to install was decided by Lockstep's planner with its own
   * ordering (four-part versions, S26). The lowest semver makes every signed target "newer" to electron-updater.
   */
  readonly version = '0.0.0-0';
  /** The CLI acts as an installed app: electron-updater skips everything when it believes it runs unpackaged. */
  readonly isPackaged = true;
  readonly appUpdateConfigPath: string;
  readonly userDataPath: string;
  readonly baseCachePath: string;

  constructor(cacheDir: string, feedUrl: string) {
    fs.mkdirSync(cacheDir, { recursive: true });
    this.baseCachePath = cacheDir;
    this.userDataPath = cacheDir;
    this.appUpdateConfigPath = path.join(cacheDir, 'app-update.yml');
    const yml = `provider: generic\nurl: ${JSON.stringify(feedUrl)}\nupdaterCacheDirName: ${UPDATER_CACHE_DIR_NAME}\n`;
    if (!fs.existsSync(this.appUpdateConfigPath) || fs.readFileSync(this.appUpdateConfigPath, 'utf8') !== yml) fs.writeFileSync(this.appUpdateConfigPath, yml);
  }

  whenReady(): Promise<void> {
    return Promise.resolve();
  }
  relaunch(): void {
    // Installing and restarting belong to the installer (installer/); the download path never relaunches.
  }
  quit(): void {}
  onQuit(_handler: (exitCode: number) => void): void {}
}
