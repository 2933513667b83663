/**
 * A stored release's schema claim, believed only from its manifest verified against the vendor keys this workstation
 * trusts (never from anything else in the shared database). A release stored without a manifest (released by version
 * number alone, or recorded before manifests travelled) has no claim: it works on every level. A manifest that is
 * there but does not verify fails closed.
 */
import { LockstepError } from '../../contract/errors';
import { OVERSIZED_MANIFEST } from '../../db/textCap';
import { Release } from '../../db/types';
import { SchemaClaim } from '../../kernel/schemaClaim';
import { compareVersions } from '../../kernel/version';
import { verifyManifest } from '../feed/download';

export function storedClaim(release: Pick<Release, 'id' | 'version' | 'manifest' | 'manifestSignature'>, trustedKeys: readonly string[]): SchemaClaim | null {
  if (release.manifest === null || release.manifestSignature === null) return null;
  const tampered = (why: string) =>
    new LockstepError('E_SIGNATURE', `The stored manifest of version ${release.version} is not what the vendor signed (${why}); its schema levels cannot be trusted.`, { version: release.version, releaseId: release.id, why });
  if (release.manifest === OVERSIZED_MANIFEST) throw tampered('it is oversized');
  let signed: unknown;
  try {
    signed = JSON.parse(release.manifest);
  } catch {
    throw tampered('it is not JSON');
  }
  let manifest;
  try {
    manifest = verifyManifest({ signed, signature: release.manifestSignature }, trustedKeys);
  } catch (err) {
    throw tampered((err as Error).message);
  }
  // A genuine manifest of another version copied into this row would lend that version's levels.
  if (compareVersions(manifest.version, release.version) !== 0) throw tampered(`it describes version ${manifest.version}`);
  return manifest.schema ?? null;
}
