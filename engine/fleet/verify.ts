/**
 * What makes a stored release installable (S18): its manifest verifies against the vendor keys this workstation
 * trusts — built into the app plus the machine configuration, never anything read from the shared database — it
 * describes exactly the released version, and the size and SHA-512 the release row claims are the signed ones. Any
 * difference is tampering (or damage) and ends as E_SIGNATURE before a single package byte is read.
 */
import { LockstepError } from '../../contract/errors';
import { MAX_MANIFEST_CHARS, OVERSIZED_MANIFEST } from '../../db/textCap';
import { Release } from '../../db/types';
import { Manifest, ManifestFile, Platform } from '../../kernel/catalogSchema';
import { fileForPlatform, verifyManifest } from '../feed/download';
import { compareVersions } from '../../kernel/version';

export interface VerifiedRelease {
  manifest: Manifest;
  /** The file this platform installs, as the vendor signed it. */
  file: ManifestFile;
}

function tampered(release: Release, why: string): LockstepError {
  return new LockstepError('E_SIGNATURE', `The package of version ${release.version} in the shared database is not what the vendor signed (${why}); nothing was installed. An administrator must withdraw and release it again from a verified download.`, {
    releaseId: release.id,
    version: release.version,
    why,
  });
}

export function verifyStoredRelease(release: Release, trustedKeys: readonly string[], platform: Platform): VerifiedRelease {
  if (release.manifest === null || release.manifestSignature === null) {
    throw new LockstepError('E_UPGRADE_UNAVAILABLE', `Release ${release.version} carries no package in the shared database; this workstation cannot install it by itself.`, { version: release.version });
  }
  if (release.manifest === OVERSIZED_MANIFEST) throw tampered(release, `the stored manifest is over ${MAX_MANIFEST_CHARS} characters`);
  let signed: unknown;
  try {
    signed = JSON.parse(release.manifest);
  } catch {
    throw tampered(release, 'the stored manifest is not JSON');
  }
  let manifest: Manifest;
  try {
    manifest = verifyManifest({ signed, signature: release.manifestSignature }, trustedKeys);
  } catch (err) {
    if (err instanceof LockstepError && err.code === 'E_SIGNATURE') throw tampered(release, err.message);
    throw err;
  }
  // A genuine manifest of another version copied into this row would otherwise install that version.
  if (compareVersions(manifest.version, release.version) !== 0) throw tampered(release, `the signed manifest describes version ${manifest.version}`);
  const file = fileForPlatform(manifest, platform);
  if (release.packageSha512 !== null && release.packageSha512 !== file.sha512) throw tampered(release, 'the stored SHA-512 differs from the signed one');
  if (release.packageSize !== null && release.packageSize !== file.size) throw tampered(release, 'the stored size differs from the signed one');
  return { manifest, file };
}

/** The final check on the assembled file: its SHA-512 and size must be the signed ones. */
export function checkAssembled(release: Pick<Release, 'id' | 'version'>, file: ManifestFile, sha512: string, size: number): void {
  if (size !== file.size || sha512 !== file.sha512) {
    throw new LockstepError('E_SIGNATURE', `The package of version ${release.version} assembled from the package store does not match the vendor-signed SHA-512 (a chunk was changed or damaged); nothing was installed.`, {
      releaseId: release.id,
      version: release.version,
      expected: file.sha512,
      actual: sha512,
    });
  }
}
