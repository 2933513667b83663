/**
 * The embedded default (`npm start` with no machine configuration) and the browser tests' site: the demo's versions,
 * notes and modules in the one demo feed builder of the engine (authoring/demoFeed.ts: vendor key pair,
 * `feed add`, `license issue`), served from 127.0.0.1, and a workstation configuration on the embedded SQLite shared
 * database. The demo key pair stays in the demo folder; its public key is trusted through the demo machine
 * configuration only.
 */
import type { OutdatedPolicySetting } from '../../contract/gate';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeVersionFile } from '../../kernel/installation';
import { MODULES_FILE } from '../../engine/modules';
import { Platform } from '../../kernel/catalogSchema';
import { createDemoFeed as buildDemoFeed, DemoFeed, DemoVersion } from '../../authoring/demoFeed';
import { signerFromPem } from '../../kernel/signing';
import { addModule, ModuleRelease } from '../../authoring/feedWriter';

export { DEMO_PRODUCT } from '../../authoring/demoFeed';
export type { DemoFeed, DemoVersion } from '../../authoring/demoFeed';

export const DEMO_VERSIONS: DemoVersion[] = [
  { version: '1.1.0', daysAgo: 20, notes: '## Version 1.1.0\n\n- Invoices can be **filtered by customer**.\n- The start is faster on large sites.\n\nDetails: <https://example.com/lockstep/1.1.0>' },
  { version: '1.2.0', daysAgo: 3, notes: '## Version 1.2.0\n\n- New *reports* module version 1.2.\n- Fixes a rounding error in VAT totals.' },
  { version: '2.0.0', daysAgo: 1, editions: ['enterprise'], notes: '## Version 2.0.0\n\nThe enterprise edition: multi-company accounting.' },
];

/** Module versions of the demo feed; each also comes as a signed package (feed add-module), so updates install. */
export const DEMO_MODULES: ModuleRelease[] = [
  { id: 'reports', name: 'Reports', version: '1.0.0', appRange: '>=1.0.0 <1.2.0' },
  { id: 'reports', name: 'Reports', version: '1.2.0', appRange: '>=1.1.0 <3.0.0' },
  { id: 'charts', name: 'Charts', version: '2.0.0', appRange: '>=1.0.0 <1.2.0' },
  { id: 'charts', name: 'Charts', version: '2.1.0', appRange: '>=1.1.0 <3.0.0' },
  { id: 'scanner', name: 'Scanner', version: '1.0.0', appRange: '>=1.0.0 <1.1.0' },
];

export function demoModuleFile(id: string, version: string): string {
  return `lockstep-demo-${id}-${version}.module`;
}

/** What a demo module package holds: a small text, distinct per module and version. */
export function demoModuleBytes(id: string, version: string): Buffer {
  return Buffer.from(`Lockstep Demo module ${id} ${version}\n`);
}

interface DemoSiteFeedOptions {
  versions?: DemoVersion[];
  modules?: ModuleRelease[];
  edition?: string;
  contractUntil?: string;
  platform: Platform;
  now?: Date;
}

/** The demo site's feed: built once, re-signed on later starts (see the engine's createDemoFeed). */
export async function createDemoFeed(root: string, o: DemoSiteFeedOptions): Promise<DemoFeed> {
  const modules = o.modules ?? DEMO_MODULES;
  const feed = await buildDemoFeed(root, { ...o, versions: o.versions ?? DEMO_VERSIONS, modules });
  // The engine's builder declares the module ranges; the packages are added the way `feed add-module` adds them, once,
  // signed with the demo key the builder keeps in <root>/vendor.
  const missing = modules.filter((m) => !fs.existsSync(path.join(feed.feedDir, demoModuleFile(m.id, m.version))));
  if (missing.length) {
    const signer = signerFromPem(fs.readFileSync(path.join(root, 'vendor', 'demo-vendor.key'), 'utf8'));
    const staging = fs.mkdtempSync(path.join(root, 'module-packages-'));
    for (const m of missing) {
      const file = path.join(staging, demoModuleFile(m.id, m.version));
      fs.writeFileSync(file, demoModuleBytes(m.id, m.version));
      await addModule(feed.feedDir, { file, id: m.id, ...(m.name ? { name: m.name } : {}), version: m.version, appRange: m.appRange, ...(o.now ? { now: o.now } : {}) }, signer);
    }
    fs.rmSync(staging, { recursive: true, force: true });
  }
  return feed;
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
  outdatedPolicy?: OutdatedPolicySetting;
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
