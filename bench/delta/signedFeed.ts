/**
 * A vendor feed folder holding the benchmark's versions of one package format, written by Lockstep's own `feed add`
 * (authoring/feedWriter.ts addVersion) with a fresh vendor key: signed manifests, and whatever else this build's
 * feed writer adds beside a package (block maps once the feed has them).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addVersion } from '../../authoring/feedWriter';
import { loadSigner, writeKeyPair } from '../../authoring/keys';
import { SignedDocument } from '../../kernel/signing';

export interface SignedFeed {
  feedDir: string;
  publicKey: string;
  /** Version → its signed manifest and the package's path in the feed. */
  versions: Map<string, { manifest: SignedDocument<unknown>; file: string }>;
}

export async function signedFeed(dir: string, packages: Array<{ version: string; file: string }>): Promise<SignedFeed> {
  fs.mkdirSync(dir, { recursive: true });
  const keys = writeKeyPair(path.join(dir, 'vendor'));
  const signer = loadSigner(keys.privateKeyFile);
  const feedDir = path.join(dir, 'feed');
  const versions = new Map<string, { manifest: SignedDocument<unknown>; file: string }>();
  for (const p of packages) {
    const added = await addVersion(feedDir, { version: p.version, installers: [p.file], platform: 'linux', product: 'Ledger Client' }, signer);
    versions.set(p.version, { manifest: added.manifest, file: path.join(feedDir, path.basename(p.file)) });
  }
  return { feedDir, publicKey: keys.publicKey, versions };
}
