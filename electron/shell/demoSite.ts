/**
 * The embedded default (`npm start` with no machine configuration) and the browser tests' site: a local demo feed made
 * with the vendor side's own functions (key pair, `feed add`, `license issue`), served from 127.0.0.1, and a
 * workstation configuration on the embedded SQLite shared database. The demo key pair is generated on first use and
 * stays in the demo folder (no demo private key is ever committed, see trust.ts); its public key is trusted through
 * the demo machine configuration only.
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeVersionFile } from '../engine/installation';
import { MODULES_FILE } from '../engine/modules';
import { Platform } from '../engine/feed/catalogSchema';
import { generateKeyPair, Signer, signerFromPem } from '../engine/signing';
import { addVersion, ModuleRelease, refreshCatalog } from '../engine/vendor/feedWriter';
import { issueLicense } from '../engine/vendor/licenseIssuer';
import { tarGz } from './tarball';

export const DEMO_PRODUCT = 'Lockstep Demo';

export interface DemoVersion {
  version: string;
  notes: string;
  /** ISO date; default: `daysAgo` before now. */
  releaseDate?: string;
  daysAgo?: number;
  editions?: string[];
  /** Incompressible filler so a download takes visible time (tests). */
  padBytes?: number;
}

export const DEMO_VERSIONS: DemoVersion[] = [
  { version: '1.1.0', daysAgo: 20, notes: '## Version 1.1.0\n\n- Invoices can be **filtered by customer**.\n- The start is faster on large sites.\n\nDetails: <https://example.com/lockstep/1.1.0>' },
  { version: '1.2.0', daysAgo: 3, notes: '## Version 1.2.0\n\n- New *reports* module version 1.2.\n- Fixes a rounding error in VAT totals.' },
  { version: '2.0.0', daysAgo: 1, editions: ['enterprise'], notes: '## Version 2.0.0\n\nThe enterprise edition: multi-company accounting.' },
];

export const DEMO_MODULES: ModuleRelease[] = [
  { id: 'reports', name: 'Reports', version: '1.0.0', appRange: '>=1.0.0 <1.2.0' },
  { id: 'reports', name: 'Reports', version: '1.2.0', appRange: '>=1.1.0 <3.0.0' },
];

export interface DemoFeed {
  feedDir: string;
  publicKey: string;
  licenseFile: string;
}

interface DemoFeedOptions {
  versions?: DemoVersion[];
  modules?: ModuleRelease[];
  edition?: string;
  contractUntil?: string;
  platform: Platform;
  now?: Date;
}

function loadOrCreateSigner(keyFile: string): Signer {
  if (fs.existsSync(keyFile)) return signerFromPem(fs.readFileSync(keyFile, 'utf8'));
  const pair = generateKeyPair();
  fs.mkdirSync(path.dirname(keyFile), { recursive: true });
  fs.writeFileSync(keyFile, pair.privateKeyPem, { mode: 0o600 });
  return signerFromPem(pair.privateKeyPem);
}

function packageFor(dir: string, v: DemoVersion, platform: Platform, now: Date): string {
  const file = path.join(dir, `lockstep-demo-${v.version}-${platform}.tar.gz`);
  const files: Record<string, Buffer | string> = {
    'lockstep-version.json': JSON.stringify({ version: v.version }) + '\n',
    'README.txt': `${DEMO_PRODUCT} ${v.version}\n`,
  };
  if (v.padBytes) files['data/filler.bin'] = randomBytes(v.padBytes); // incompressible: the download really is that big
  fs.writeFileSync(file, tarGz(files, now));
  return file;
}

/**
 * Builds the feed folder once (versions + modules + licence), and on later calls only re-signs the catalog so its
 * freshness never expires for a demo that is started again weeks later.
 */
export async function createDemoFeed(root: string, o: DemoFeedOptions): Promise<DemoFeed> {
  const now = o.now ?? new Date();
  const feedDir = path.join(root, 'feed');
  const signer = loadOrCreateSigner(path.join(root, 'vendor', 'demo-vendor.key'));
  const licenseFile = path.join(root, 'vendor', 'demo-license.json');
  if (fs.existsSync(path.join(feedDir, 'catalog.json'))) {
    refreshCatalog(feedDir, { now }, signer);
    return { feedDir, publicKey: signer.publicKey, licenseFile };
  }
  const staging = path.join(root, 'packages');
  fs.mkdirSync(staging, { recursive: true });
  const modules = o.modules ?? DEMO_MODULES;
  for (const [i, v] of (o.versions ?? DEMO_VERSIONS).entries()) {
    const releaseDate = v.releaseDate ?? new Date(now.getTime() - (v.daysAgo ?? 1) * 24 * 3600_000).toISOString();
    await addVersion(feedDir, { installers: [packageFor(staging, v, o.platform, now)], version: v.version, notes: v.notes, platform: o.platform, editions: v.editions ?? [], releaseDate, product: DEMO_PRODUCT, modules: i === 0 ? modules : [], now }, signer);
  }
  const contractUntil = o.contractUntil ?? new Date(now.getTime() + 365 * 24 * 3600_000).toISOString().slice(0, 10);
  issueLicense({ product: DEMO_PRODUCT, number: 'DEMO-0001', edition: o.edition ?? 'standard', contractUntil }, signer, licenseFile);
  return { feedDir, publicKey: signer.publicKey, licenseFile };
}

export interface DemoWorkstation {
  dir: string;
  id: string;
  hostName: string;
  /** Written only when the install folder has no version yet (a restart keeps what was installed). */
  installed: string;
  dbUrl: string;
  feedUrl: string;
  feed: DemoFeed;
  administrators: string[];
  outdatedPolicy?: 'block' | 'warn';
  ring?: 'test' | 'regular';
  modules?: Record<string, string>;
  /** installer.allowedUsers (S10): absent = anyone who can elevate. */
  allowedUsers?: string[];
}

/** Writes (or rewrites: the demo feed's port changes per start) the machine configuration; returns its path. */
export function writeDemoWorkstation(w: DemoWorkstation): string {
  const installDir = path.join(w.dir, 'app');
  fs.mkdirSync(installDir, { recursive: true });
  if (!fs.existsSync(path.join(installDir, 'lockstep-version.json'))) writeVersionFile(installDir, w.installed);
  if (w.modules && !fs.existsSync(path.join(installDir, MODULES_FILE))) fs.writeFileSync(path.join(installDir, MODULES_FILE), JSON.stringify(w.modules, null, 2));
  const config = {
    installDir: 'app',
    database: { url: w.dbUrl },
    administrators: w.administrators,
    outdatedPolicy: w.outdatedPolicy ?? 'block',
    workstation: { id: w.id, hostName: w.hostName, ring: w.ring ?? 'regular' },
    log: { dir: 'logs' },
    userSettingsFile: 'user-settings.json',
    ...(w.allowedUsers ? { installer: { allowedUsers: w.allowedUsers } } : {}),
    feed: { url: w.feedUrl, licenseFile: w.feed.licenseFile, trustedKeys: [w.feed.publicKey], cacheDir: 'cache', retries: 1, retryDelayMs: 100, timeoutMs: 5000 },
  };
  const file = path.join(w.dir, 'lockstep.machine.json');
  fs.writeFileSync(file, JSON.stringify(config, null, 2) + '\n');
  return file;
}
