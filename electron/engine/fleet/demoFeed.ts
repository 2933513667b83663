/**
 * A vendor feed of installable portable packages for the demo, the fleet tests and bench/fleet: each version a
 * .tar.gz holding lockstep-version.json and a payload, added with the vendor's own feed writer (issue 3) under a fresh
 * key pair (no demo private key is ever committed). The issue-3 demo feed holds placeholder installers the apply
 * pipeline cannot install; this one installs for real.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { addVersion } from '../vendor/feedWriter';
import { loadSigner, writeKeyPair } from '../vendor/keys';

export interface FleetDemoFeed {
  feedDir: string;
  publicKey: string;
  /** File name in the feed of each version's package. */
  packages: Record<string, { name: string; payloadSha256: string }>;
}

function tarHeader(name: string, size: number, mtime: number): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, 'utf8');
  h.write('0000644\0', 100);
  h.write('0000000\0', 108);
  h.write('0000000\0', 116);
  h.write(size.toString(8).padStart(11, '0') + '\0', 124);
  h.write(Math.floor(mtime / 1000).toString(8).padStart(11, '0') + '\0', 136);
  h.write('        ', 148);
  h.write('0', 156);
  h.write('ustar\0', 257);
  h.write('00', 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

/** Deterministic, incompressible-looking payload: the same version always yields the same bytes. */
export function payloadFor(version: string, bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  let block = createHash('sha512').update(`lockstep payload ${version}`).digest();
  for (let i = 0; i < bytes; i += block.length) {
    block.copy(out, i, 0, Math.min(block.length, bytes - i));
    block = createHash('sha512').update(block).digest();
  }
  return out;
}

/** Writes a portable package: a gzip'd ustar archive with the version file and `app.bin`. */
export function writePortablePackage(file: string, version: string, payload: Buffer): void {
  const now = Date.now();
  const versionJson = Buffer.from(JSON.stringify({ version }) + '\n');
  const pad = (n: number) => Buffer.alloc((512 - (n % 512)) % 512);
  const tar = Buffer.concat([
    tarHeader('lockstep-version.json', versionJson.length, now), versionJson, pad(versionJson.length),
    tarHeader('app.bin', payload.length, now), payload, pad(payload.length),
    Buffer.alloc(1024),
  ]);
  fs.writeFileSync(file, zlib.gzipSync(tar, { level: 1 }));
}

export function packageName(version: string): string {
  return `Lockstep-Demo-${version}-linux.tar.gz`;
}

export async function createFleetDemoFeed(dir: string, versions: readonly string[], payloadBytes: number, securityFloor: string | null = null): Promise<FleetDemoFeed> {
  const feedDir = path.join(dir, 'feed');
  const build = path.join(dir, 'build');
  fs.mkdirSync(build, { recursive: true });
  const keys = writeKeyPair(path.join(dir, 'vendor', 'fleet-demo'));
  const signer = loadSigner(keys.privateKeyFile);
  const packages: FleetDemoFeed['packages'] = {};
  for (const version of versions) {
    const payload = payloadFor(version, payloadBytes);
    const file = path.join(build, packageName(version));
    writePortablePackage(file, version, payload);
    await addVersion(feedDir, { version, installers: [file], notes: `# ${version}`, product: 'Lockstep Demo', platform: 'linux', securityFloor }, signer);
    packages[version] = { name: packageName(version), payloadSha256: createHash('sha256').update(payload).digest('hex') };
  }
  fs.rmSync(build, { recursive: true, force: true });
  return { feedDir, publicKey: keys.publicKey, packages };
}
