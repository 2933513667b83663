/**
 * `lockstep/builder`: the part of an electron-builder configuration that Lockstep needs in a vendor's packaged app.
 *
 *   // electron-builder.config.js
 *   const { withLockstep } = require('lockstep/builder');
 *   module.exports = withLockstep({ appId: 'com.example.client', productName: 'Example Client' }, { feedUrl: 'https://updates.example.com/client' });
 *
 * What it adds, and why:
 *  - `asarUnpack`: the download writer's worker script (a Worker thread cannot read inside app.asar; the engine starts
 *    it from app.asar.unpacked), the privileged helper with everything it loads (contract, kernel, installer and their
 *    two libraries, so it also runs under plain Node from the built tree), and every native module (`*.node`).
 *  - the version file: written after packing, from the version being packaged, where the installer looks for it
 *    (kernel/installation.ts: the top of the install folder; inside the signed bundle's Contents/Resources on macOS,
 *    before signing). It cannot disagree with the app it describes.
 *  - `nsis.packElevateHelper`: Windows elevates the helper through electron-builder's elevate.exe.
 *  - `publish`: the vendor's generic feed, when given.
 * Native modules (better-sqlite3, keytar) are dependencies of the lockstep package, so `electron-builder
 * install-app-deps` (and `npmRebuild`) rebuild them for the app's Electron like the vendor's own.
 */
import type { Configuration } from 'app-builder-lib';
import { LockstepError } from '../contract/errors';
import { mergeBuildConfig } from './merge';
import { writeVersionFileAfterPack } from './versionFile';

export { mergeBuildConfig } from './merge';
export { installFolderOf, writeVersionFileAfterPack } from './versionFile';

export interface LockstepBuildOptions {
  /** The generic feed the vendor publishes to (http or https, no credentials). Absent: no `publish` entry. */
  feedUrl?: string;
  /** The feed channel electron-builder names its update files after (default: electron-builder's "latest"). */
  channel?: string;
  /** Where the lockstep package lies inside the app folder (default node_modules/lockstep); "" when the app is Lockstep itself. */
  packageDir?: string;
}

const OPTION_NAMES = ['feedUrl', 'channel', 'packageDir'] as const;

/** Lockstep's files that must lie outside the archive, relative to the lockstep package folder. */
export const UNPACKED_LOCKSTEP_FILES = [
  // started as a Worker by engine/feed/hashingWriter.ts
  'build/engine/feed/hashingWriterWorker.js',
  // the privileged helper and the floors it stands on (lint keeps installer/ on contract/ and kernel/ only)
  'build/installer/**',
  'build/kernel/**',
  'build/contract/**',
] as const;

/** The libraries the helper's floors import (kernel/, installer/); nothing else from node_modules. */
export const HELPER_LIBRARIES = ['zod', 'semver'] as const;

function usage(option: string, message: string): LockstepError {
  return new LockstepError('E_USAGE', `lockstep/builder option ${option} ${message}`, { option });
}

function checkOptions(options: LockstepBuildOptions): LockstepBuildOptions & { packageDir: string } {
  if (typeof options !== 'object' || options === null) throw usage('(options)', 'must be an object.');
  for (const key of Object.keys(options)) {
    if (!(OPTION_NAMES as readonly string[]).includes(key)) throw usage(key, `is not known; the options are ${OPTION_NAMES.join(', ')}.`);
  }
  const { feedUrl, channel, packageDir = 'node_modules/lockstep' } = options;
  if (feedUrl !== undefined) {
    if (typeof feedUrl !== 'string' || !/^https?:\/\/[^/]+/i.test(feedUrl)) throw usage('feedUrl', 'must be an http(s) URL such as https://updates.example.com/client.');
    if (/^[a-z]+:\/\/[^/@]*@/i.test(feedUrl)) throw usage('feedUrl', 'must not contain credentials: electron-builder writes it into the app.');
  }
  if (channel !== undefined && (typeof channel !== 'string' || !/^[a-z0-9][a-z0-9._-]{0,63}$/i.test(channel))) throw usage('channel', 'must be a channel name such as latest or beta.');
  if (channel !== undefined && feedUrl === undefined) throw usage('channel', 'names a channel of the feed: give feedUrl too.');
  if (typeof packageDir !== 'string' || /^([\\/]|[a-z]:)/i.test(packageDir) || packageDir.split(/[\\/]/).includes('..')) throw usage('packageDir', 'must be a path inside the app folder, such as node_modules/lockstep.');
  return { ...options, packageDir };
}

/** The configuration fragment itself; merge it with mergeBuildConfig, or use withLockstep. */
export function lockstepBuildConfig(options: LockstepBuildOptions = {}): Configuration {
  const o = checkOptions(options);
  const prefix = o.packageDir === '' ? '' : `${o.packageDir.replace(/\\/g, '/').replace(/\/+$/, '')}/`;
  return {
    asarUnpack: [...UNPACKED_LOCKSTEP_FILES.map((f) => `${prefix}${f}`), ...HELPER_LIBRARIES.map((m) => `**/node_modules/${m}/**`), '**/*.node'],
    afterPack: async (context) => {
      await writeVersionFileAfterPack(context);
    },
    nsis: { packElevateHelper: true },
    ...(o.feedUrl ? { publish: [{ provider: 'generic' as const, url: o.feedUrl, ...(o.channel ? { channel: o.channel } : {}) }] } : {}),
  };
}

/** The vendor's configuration with Lockstep's fragment merged in (see mergeBuildConfig for the rules). */
export function withLockstep(vendorConfig: Configuration, options: LockstepBuildOptions = {}): Configuration {
  return mergeBuildConfig(vendorConfig, lockstepBuildConfig(options));
}
