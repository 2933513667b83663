/**
 * electron-updater's generic provider, pointed at the version Lockstep chose. The stock provider would read
 * latest*.yml — unsigned, and only ever the newest version. This one serves electron-updater the UpdateInfo built from
 * the signed manifest of the chosen version (a stepping stone or an older patch too), while file URLs still resolve
 * against the feed's base URL exactly as the generic provider does.
 */
import type { UpdateInfo } from 'builder-util-runtime';
import type { AppUpdater } from 'electron-updater';
import { GenericProvider } from 'electron-updater/out/providers/GenericProvider';
import type { ProviderRuntimeOptions } from 'electron-updater/out/providers/Provider';
import { ManifestFile } from '../../kernel/catalogSchema';

export interface PinnedFeedOptions {
  provider: 'custom';
  url: string;
  updateProvider: typeof PinnedGenericProvider;
  pinned: UpdateInfo;
}

/** electron-updater compares versions with semver; four-part versions become build metadata for it (7.0.0.19 → 7.0.0+19). */
export function semverForUpdater(version: string): string {
  const m = /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:\.(\d+))?(-[0-9A-Za-z.-]+)?/.exec(version.trim());
  if (!m) return '0.0.1';
  return `${m[1]}.${m[2]}.${m[3] ?? '0'}${m[5] ?? ''}${m[4] ? `+${m[4]}` : ''}`;
}

export function pinnedUpdateInfo(version: string, releaseDate: string, file: Pick<ManifestFile, 'name' | 'sha512' | 'size'>): UpdateInfo {
  return {
    version: semverForUpdater(version),
    files: [{ url: file.name, sha512: file.sha512, size: file.size }],
    path: file.name,
    sha512: file.sha512,
    releaseDate,
  };
}

export class PinnedGenericProvider extends GenericProvider {
  private readonly pinned: UpdateInfo;

  constructor(options: PinnedFeedOptions, updater: AppUpdater, runtimeOptions: ProviderRuntimeOptions) {
    super({ provider: 'generic', url: options.url }, updater, runtimeOptions);
    this.pinned = options.pinned;
  }

  override async getLatestVersion(): Promise<UpdateInfo> {
    return this.pinned;
  }
}
