/**
 * Which version is installed. The packaged app knows it from Electron (app.getVersion()); the CLI and simulated
 * workstations read `lockstep-version.json` in the install folder, which the build writes beside the app.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError } from '../contract/errors';
import { Version, parseVersion } from './version';

export const VERSION_FILE = 'lockstep-version.json';

/** macOS: the install folder is the signed `.app` bundle, whose version file sits inside the seal (installer/layout.ts says why). */
export const BUNDLE_VERSION_FILE = path.join('Contents', 'Resources', VERSION_FILE);

export function isAppBundle(dir: string): boolean {
  return /\.app$/i.test(path.basename(dir));
}

/** The version file of an install folder (or of a staged tree that will become one). */
export function versionFileIn(dir: string): string {
  return path.join(dir, isAppBundle(dir) ? BUNDLE_VERSION_FILE : VERSION_FILE);
}

export interface InstalledVersionSource {
  installedVersion(): Version;
}

export class VersionFileSource implements InstalledVersionSource {
  constructor(private readonly installDir: string) {}

  installedVersion(): Version {
    const file = versionFileIn(this.installDir);
    let data: unknown;
    try {
      data = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new LockstepError('E_CONFIG_INVALID', `The install folder ${this.installDir} has no readable ${VERSION_FILE} (${code ?? (err as Error).message}).`, { file });
    }
    const version = (data as { version?: unknown }).version;
    if (typeof version !== 'string') throw new LockstepError('E_CONFIG_INVALID', `${file} has no "version" text.`, { file });
    return parseVersion(version);
  }
}

export class FixedVersionSource implements InstalledVersionSource {
  constructor(private readonly version: Version) {}
  installedVersion(): Version {
    return this.version;
  }
}

/** Writes the version file (installer, simulated workstations); atomic so a crash never leaves it half written. */
export function writeVersionFile(installDir: string, version: string): void {
  const file = versionFileIn(installDir);
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify({ version }) + '\n');
  fs.renameSync(tmp, file);
}
