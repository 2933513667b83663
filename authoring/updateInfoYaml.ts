/**
 * electron-builder's update info files (`latest.yml`, `latest-mac.yml`, `latest-linux.yml`), written exactly as
 * app-builder-lib's updateInfoBuilder does (S21): the same fields in the same order — version, files[{url, sha512,
 * size}], the deprecated top-level path and sha512 of the first file, releaseNotes, releaseDate — and the same YAML
 * style as builder-util's serializeToYaml (js-yaml, lineWidth 8000: single quotes, YAML 1.1 scalars such as dates and
 * "yes" quoted). test/feed/updateInfoYaml.test.ts compares byte for byte with builder-util's own serializer.
 */
import { stringify } from 'yaml';
import { ManifestFile, Platform } from '../kernel/catalogSchema';

export interface UpdateInfoDocument {
  version: string;
  files: Array<{ url: string; sha512: string; size: number }>;
  path: string;
  sha512: string;
  releaseNotes?: string;
  releaseDate: string;
}

/** electron-builder names: Windows has no suffix for historical reasons; the channel "latest" is the default. */
export function updateInfoFileName(channel: string, platform: Platform): string {
  return `${channel}${platform === 'win' ? '' : `-${platform}`}.yml`;
}

/** Lockstep's default channel "stable" is electron-builder's "latest". */
export function builderChannel(channel: string): string {
  return channel === 'stable' ? 'latest' : channel;
}

export function buildUpdateInfo(version: string, files: readonly ManifestFile[], releaseDate: string, notes: string | null): UpdateInfoDocument {
  // Zip first, as electron-builder sorts it: the mac auto-updater reads the first file.
  const ordered = [...files].sort((a, b) => (a.name.endsWith('.zip') ? 0 : 1) - (b.name.endsWith('.zip') ? 0 : 1));
  const first = ordered[0]!;
  return {
    version,
    files: ordered.map((f) => ({ url: f.name, sha512: f.sha512, size: f.size })),
    path: first.name,
    sha512: first.sha512,
    ...(notes ? { releaseNotes: notes } : {}),
    releaseDate,
  };
}

export function serializeUpdateInfo(info: UpdateInfoDocument): string {
  return stringify(info, { version: '1.1', lineWidth: 8000, singleQuote: true });
}
