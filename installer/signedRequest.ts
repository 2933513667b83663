/**
 * S18 where the rights are: an install request names a package file and carries the vendor-signed manifest of the
 * version (the canonical JSON text and the "ed25519:<keyId>:<sig>" string exactly as the feed download produced them,
 * engine/feed/download.ts). Whoever applies it with rights — the privileged helper as root, or the app when the
 * user may write the install folder — verifies it here before anything is touched:
 *
 *  - the signature verifies against the keys built into the app plus the machine configuration's feed.trustedKeys —
 *    the caller passes those, and the helper takes them only from a root-owned configuration; a request cannot carry
 *    keys (the schema is strict), so nothing the invoking user wrote can add one;
 *  - the manifest describes exactly the requested version;
 *  - exactly one manifest entry names the package file; its SHA-512 and size become what staging checks the bytes
 *    against while reading them (package.ts), so a swapped or self-made file ends as E_CHECKSUM;
 *  - the pipeline follows from that signed entry too: its name decides the kind (a signed .tar.gz sent as an
 *    AppImage would otherwise be copied over the program as one file) and its platform must be this OS's.
 *
 * Without this, a user whom a sudoers rule allows to run the helper could install content they made themselves by
 * naming its sha512. Anything that is not a valid, trusted, matching signed manifest is E_SIGNATURE.
 */
import * as path from 'node:path';
import { z } from 'zod';
import { LockstepError } from '../contract/errors';
import { Manifest, ManifestFile, ManifestSchema, describeZodIssues, platformOf } from '../kernel/catalogSchema';
import { verifyDocument } from '../kernel/signing';
import { versionsEqual } from '../kernel/version';

import { packageKindOf } from './packageKind';
import { InstallRequest, InstallRequestSchema } from './journal';
import { ModuleHandoverSchema, VerifiedModule, verifyModuleHandover } from './moduleHandover';
import { SignedManifest, SignedManifestSchema } from './signedManifest';

export { SignedManifestSchema, type SignedManifest } from './signedManifest';

/** What the unprivileged side sends: no hash of its own choosing, no keys, no folders. */
export const SignedInstallRequestSchema = InstallRequestSchema.pick({ id: true, kind: true, packagePath: true, toVersion: true })
  .extend({ manifest: SignedManifestSchema, modules: ModuleHandoverSchema.optional() })
  .strict();
export type SignedInstallRequest = z.infer<typeof SignedInstallRequestSchema>;

export interface VerifiedManifest {
  manifest: Manifest;
  /** The entry for the package file. */
  file: ManifestFile;
  keyId: string;
}

function refused(message: string, details: Record<string, unknown> = {}): LockstepError {
  return new LockstepError('E_SIGNATURE', `${message} Nothing was installed.`, details);
}

/** Verifies the signed manifest for installing `packagePath` as `version` against `trustedKeys`. */
export function verifySignedManifest(signed: SignedManifest, trustedKeys: readonly string[], packagePath: string, version: string): VerifiedManifest {
  const shape = SignedManifestSchema.safeParse(signed);
  if (!shape.success) throw refused(`The install request carries no signed manifest (${describeZodIssues(shape.error)}).`);
  let document: unknown;
  try {
    document = JSON.parse(shape.data.text);
  } catch {
    throw refused('The signed manifest is not JSON.');
  }
  // Same semantics as the download (verifyManifest): the signature covers canonicalJson of what is used below.
  let keyId: string;
  try {
    keyId = verifyDocument({ signed: document, signature: shape.data.signature }, trustedKeys, 'manifest');
  } catch (err) {
    if (err instanceof LockstepError) throw refused(err.message, err.details);
    throw err;
  }
  const parsed = ManifestSchema.safeParse(document);
  if (!parsed.success) throw refused(`The signed manifest is malformed: ${describeZodIssues(parsed.error)}.`, { keyId });
  const manifest = parsed.data;
  if (!versionsEqual(manifest.version, version)) {
    throw refused(`The signed manifest describes version ${manifest.version}, not ${version}.`, { keyId, manifestVersion: manifest.version, version });
  }
  const name = path.basename(packagePath);
  const entries = manifest.files.filter((f) => f.name === name);
  if (entries.length !== 1) {
    throw refused(`The signed manifest of version ${manifest.version} ${entries.length ? 'names' : 'does not name'} the file ${name}${entries.length ? ' more than once' : ''}.`, { keyId, file: name });
  }
  return { manifest, file: entries[0]!, keyId };
}

/** The requested kind must be the one the signed file name implies, for the platform the vendor built it for. */
export function assertSignedPipeline(file: ManifestFile, requestedKind: string, platform: ReturnType<typeof platformOf>): void {
  if (file.platform !== platform) {
    throw refused(`The vendor signed ${file.name} for ${file.platform}, not for this ${platform} workstation.`, { file: file.name, platform: file.platform });
  }
  let signedKind: string;
  try {
    signedKind = packageKindOf(file.name);
  } catch {
    throw refused(`The signed file ${file.name} has no installer pipeline on this workstation.`, { file: file.name });
  }
  if (signedKind !== requestedKind) {
    throw refused(`The install request names ${file.name} a ${requestedKind} package, but the signed file is a ${signedKind} package.`, { file: file.name, kind: requestedKind, signedKind });
  }
}

/** A verified request: what the journal records, and the verified module updates when modules travel with it. */
export type VerifiedRequest = InstallRequest & { modules?: { update: VerifiedModule[] } };

/** The request as the side with rights carries it out: the expected bytes are the signed ones, not the caller's. */
export function verifySignedRequest(request: unknown, trustedKeys: readonly string[]): VerifiedRequest {
  const parsed = SignedInstallRequestSchema.safeParse(request);
  if (!parsed.success) throw new LockstepError('E_USAGE', `The install request is invalid: ${describeZodIssues(parsed.error)}`);
  const r = parsed.data;
  const { file, keyId } = verifySignedManifest(r.manifest, trustedKeys, r.packagePath, r.toVersion);
  assertSignedPipeline(file, r.kind, platformOf(process.platform));
  const modules = r.modules ? { update: verifyModuleHandover(r.modules, trustedKeys, r.toVersion) } : undefined;
  return { id: r.id, kind: r.kind, packagePath: r.packagePath, toVersion: r.toVersion, sha512: file.sha512, size: file.size, signedBy: keyId, ...(modules ? { modules } : {}) };
}

/** The same SHA-512 written as hex (128 digits) or base64 (electron-builder, the manifest). */
export function sameSha512(a: string, b: string): boolean {
  const raw = (s: string): string => (/^[0-9a-f]{128}$/i.test(s) ? Buffer.from(s, 'hex').toString('base64') : s);
  return raw(a) === raw(b);
}
