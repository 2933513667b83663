/**
 * The one demo vendor feed: installable portable packages (.tar.gz holding lockstep-version.json, a README and a
 * payload), added with the vendor's own feed writer under a demo key pair, plus a demo licence. Used by the
 * embedded default of `npm start` and the browser tests (through electron/shell/demoSite.ts, which adds the demo's
 * versions, notes and modules), by `lockstep demo`, the fleet tests and benchmarks.
 *
 * The key pair is generated on first use and stays in the feed's folder (no demo private key is ever committed, see
 * trust.ts). A folder built before is not rebuilt: only its catalog is re-signed, so a demo started again weeks later
 * is still fresh. The payload is deterministic per version (same bytes every time) and incompressible, so a download
 * really is as large as asked and a test can compare the installed bytes with the vendor's.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Platform } from '../kernel/catalogSchema';
import { generateKeyPair, Signer, signerFromPem } from '../kernel/signing';
import { addVersion, ModuleRelease, refreshCatalog } from './feedWriter';
import { DemoSchema, packSchema } from './demoSchema';
import { issueLicense } from './licenseIssuer';
import { tarGz } from './tarGz';

export const DEMO_PRODUCT = 'Lockstep Demo';

/** Where a package's payload lies inside it (and so in the install folder). */
export const PAYLOAD_FILE = 'data/filler.bin';

export interface DemoVersion {
  version: string;
  /** Markdown; default "## Version x". */
  notes?: string;
  /** ISO date; default: `daysAgo` (default 1) before now. */
  releaseDate?: string;
  daysAgo?: number;
  editions?: string[];
  /** Payload bytes of this version; default the feed's `payloadBytes`. */
  padBytes?: number;
  /** The client schema levels it works on and brings, with the migrations its package carries (demoSchema.ts). */
  schema?: DemoSchema;
}

export interface DemoFeedOptions {
  versions: ReadonlyArray<DemoVersion | string>;
  platform?: Platform;
  /** Payload bytes of every version that does not set its own (default none). */
  payloadBytes?: number;
  /** Module releases, published with the first version. */
  modules?: ModuleRelease[];
  securityFloor?: string | null;
  edition?: string;
  contractUntil?: string;
  now?: Date;
}

export interface DemoFeed {
  feedDir: string;
  publicKey: string;
  licenseFile: string;
  /** Each version's package file name in the feed and the SHA-256 of its payload. */
  packages: Record<string, { name: string; payloadSha256: string }>;
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

export function packageName(version: string, platform: Platform = 'linux'): string {
  return `Lockstep-Demo-${version}-${platform}.tar.gz`;
}

function loadOrCreateSigner(keyFile: string): Signer {
  if (fs.existsSync(keyFile)) return signerFromPem(fs.readFileSync(keyFile, 'utf8'));
  const pair = generateKeyPair();
  fs.mkdirSync(path.dirname(keyFile), { recursive: true });
  fs.writeFileSync(keyFile, pair.privateKeyPem, { mode: 0o600 });
  return signerFromPem(pair.privateKeyPem);
}

function normalize(v: DemoVersion | string): DemoVersion {
  return typeof v === 'string' ? { version: v } : v;
}

export async function createDemoFeed(root: string, o: DemoFeedOptions): Promise<DemoFeed> {
  const now = o.now ?? new Date();
  const platform = o.platform ?? 'linux';
  const feedDir = path.join(root, 'feed');
  const signer = loadOrCreateSigner(path.join(root, 'vendor', 'demo-vendor.key'));
  const licenseFile = path.join(root, 'vendor', 'demo-license.json');
  const versions = o.versions.map(normalize);
  const payload = (v: DemoVersion) => payloadFor(v.version, v.padBytes ?? o.payloadBytes ?? 0);
  const packages: DemoFeed['packages'] = {};
  const describe = (v: DemoVersion, bytes: Buffer) => (packages[v.version] = { name: packageName(v.version, platform), payloadSha256: createHash('sha256').update(bytes).digest('hex') });

  if (fs.existsSync(path.join(feedDir, 'catalog.json'))) {
    refreshCatalog(feedDir, { now }, signer);
    for (const v of versions) describe(v, payload(v));
    return { feedDir, publicKey: signer.publicKey, licenseFile, packages };
  }
  const staging = path.join(root, 'packages');
  fs.mkdirSync(staging, { recursive: true });
  for (const [i, v] of versions.entries()) {
    const bytes = payload(v);
    const files: Record<string, Buffer | string> = { 'lockstep-version.json': JSON.stringify({ version: v.version }) + '\n', 'README.txt': `${DEMO_PRODUCT} ${v.version}\n` };
    if (bytes.length) files[PAYLOAD_FILE] = bytes;
    const schema = v.schema ? packSchema(v.schema, files, staging) : null;
    const file = path.join(staging, packageName(v.version, platform));
    fs.writeFileSync(file, tarGz(files, now));
    const releaseDate = v.releaseDate ?? new Date(now.getTime() - (v.daysAgo ?? 1) * 24 * 3600_000).toISOString();
    await addVersion(feedDir, { installers: [file], version: v.version, notes: v.notes ?? `## Version ${v.version}`, platform, editions: v.editions ?? [], releaseDate, product: DEMO_PRODUCT, modules: i === 0 ? (o.modules ?? []) : [], securityFloor: o.securityFloor ?? null, now, schema }, signer);
    describe(v, bytes);
  }
  fs.rmSync(staging, { recursive: true, force: true });
  const contractUntil = o.contractUntil ?? new Date(now.getTime() + 365 * 24 * 3600_000).toISOString().slice(0, 10);
  issueLicense({ product: DEMO_PRODUCT, number: 'DEMO-0001', edition: o.edition ?? 'standard', contractUntil }, signer, licenseFile);
  return { feedDir, publicKey: signer.publicKey, licenseFile, packages };
}
