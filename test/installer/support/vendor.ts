/**
 * The vendor side for the installer suites: a signing key generated per test process (never committed, like the demo
 * feed's), manifests signed exactly as `lockstep feed add` signs them (canonical JSON, Ed25519), and the
 * {"text", "signature"} files `lockstep install --manifest` reads. A second key plays the user who signs their own.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Signer, canonicalJson, generateKeyPair, signerFromPem } from '../../../kernel/signing';
import { SignedManifest } from '../../../installer/signedRequest';

export function newSigner(): Signer {
  return signerFromPem(generateKeyPair().privateKeyPem);
}

/** The vendor every fixture's machine configuration trusts (feed.trustedKeys). */
export const VENDOR: Signer = newSigner();

export function sha512Base64(file: string): string {
  return createHash('sha512').update(fs.readFileSync(file)).digest('base64');
}

/** The manifest fields of a version, listing `packages` by their file names (sizes and SHA-512 read from disk). */
export function manifestOf(version: string, packages: readonly string[]): Record<string, unknown> {
  return {
    type: 'lockstep-manifest',
    product: 'Lockstep installer tests',
    version,
    channel: 'stable',
    releaseDate: '2030-01-01T00:00:00.000Z',
    files: packages.map((p) => ({ name: path.basename(p), platform: 'linux', kind: 'installer', size: fs.statSync(p).size, sha512: sha512Base64(p) })),
  };
}

export function signManifest(manifest: unknown, signer: Signer = VENDOR): SignedManifest {
  const text = canonicalJson(manifest);
  return { text, signature: signer.sign(text) };
}

export function signedFor(pkg: string, version: string, signer: Signer = VENDOR): SignedManifest {
  return signManifest(manifestOf(version, [pkg]), signer);
}

/** Writes `<pkg>.manifest.json` ({text, signature}, readable by the test user) for `lockstep install --manifest`. */
export function manifestFileFor(pkg: string, version: string, signed: SignedManifest = signedFor(pkg, version)): string {
  const file = `${pkg}.${version}.manifest.json`;
  fs.writeFileSync(file, JSON.stringify(signed), { mode: 0o644 });
  return file;
}
