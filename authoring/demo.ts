/**
 * The demo feed and demo licence (S20, S21): generated with the same functions the vendor commands run (keygen, feed
 * add, license issue), into a folder the app and the tests use as the embedded default. A fresh key pair each time —
 * no demo private key is ever committed, so nobody can sign "demo" packages another site would trust — and the public
 * key goes into the demo machine configuration's feed.trustedKeys (see trust.ts for why that is safe).
 *
 * What it holds, chosen so every S3–S6 case shows up for an install of 1.0.0:
 *   1.0.0, 1.1.0            plain versions
 *   2.0.0                   needs 1.1.0 first for installs below 1.1.0 (stepping stone, S5)
 *   2.1.0                   enterprise edition only (licence gate, S4)
 *   3.0.0                   installs below 2.0.0 need a full reinstall (S5)
 *   modules                 reports 1.0.0 (app 1.x) + 2.0.0 (app 2.x–3.x, with a signed package): update available
 *                           for 2.x; scanner 1.0.0 (app 1.x only): incompatible with 2.x
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Platform } from '../kernel/catalogSchema';
import { Signer } from '../kernel/signing';
import { AddVersionInput, addModule, addVersion, refreshCatalog } from './feedWriter';
import { writeKeyPair, loadSigner } from './keys';
import { issueLicense } from './licenseIssuer';

export interface DemoFeed {
  dir: string;
  feedDir: string;
  privateKeyFile: string;
  publicKey: string;
  licenseFile: string;
  signer: Signer;
}

export interface DemoOptions {
  now?: Date;
  /** Installer size in bytes (tests use small files; the benchmark writes its own). */
  installerBytes?: number;
  edition?: string;
  contractUntil?: string;
  platforms?: Platform[];
}

const DAY = 24 * 3600_000;

/** Deterministic bytes per version and platform, so a test can recompute what a file must contain. */
export function demoInstallerBytes(version: string, platform: Platform, size: number): Buffer {
  const seed = Buffer.from(`Lockstep demo installer ${version} ${platform}\n`);
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i += seed.length) seed.copy(out, i, 0, Math.min(seed.length, size - i));
  // Vary every 4 KiB block with its index so a flipped or shifted byte anywhere changes the hash.
  for (let b = 0; b * 4096 < size; b++) out.writeUInt32BE(b, Math.min(b * 4096, Math.max(0, size - 4)));
  return out;
}

export function demoInstallerName(version: string, platform: Platform): string {
  return platform === 'win' ? `Lockstep-Demo-Setup-${version}.exe` : platform === 'mac' ? `Lockstep-Demo-${version}.dmg` : `Lockstep-Demo-${version}.AppImage`;
}

export function demoModuleName(id: string, version: string): string {
  return `lockstep-demo-${id}-${version}.module`;
}

/** A module package's bytes: small, but distinct per module and version so a test can tell which one is installed. */
export function demoModuleBytes(id: string, version: string): Buffer {
  return Buffer.from(`Lockstep demo module ${id} ${version}\n`.repeat(64));
}

export async function createDemoFeed(dir: string, options: DemoOptions = {}): Promise<DemoFeed> {
  const now = options.now ?? new Date();
  const platforms = options.platforms ?? ['win', 'mac', 'linux'];
  const size = options.installerBytes ?? 64 * 1024;
  const feedDir = path.join(dir, 'feed');
  const build = path.join(dir, 'build');
  fs.mkdirSync(build, { recursive: true });
  const keys = writeKeyPair(path.join(dir, 'vendor', 'demo'));
  const signer = loadSigner(keys.privateKeyFile);

  const day = (n: number) => new Date(now.getTime() - n * DAY).toISOString();
  const versions: Array<Omit<AddVersionInput, 'installers'>> = [
    { version: '1.0.0', releaseDate: day(300), notes: '# 1.0.0\n\nFirst release.' },
    { version: '1.1.0', releaseDate: day(200), notes: '# 1.1.0\n\n- Faster start\n- Data migration that 2.0.0 builds on' },
    { version: '2.0.0', releaseDate: day(120), notes: '# 2.0.0\n\nNew data model. **Needs 1.1.0 first.**', requires: { version: '1.1.0', below: '1.1.0' } },
    { version: '2.1.0', releaseDate: day(60), notes: '# 2.1.0\n\nEnterprise reporting.', editions: ['enterprise'] },
    { version: '3.0.0', releaseDate: day(10), notes: '# 3.0.0\n\nNew installer technology: installs below 2.0.0 must be reinstalled.', reinstallBelow: '2.0.0' },
  ];
  for (const v of versions) {
    const installers = platforms.map((p) => {
      const file = path.join(build, demoInstallerName(v.version, p));
      fs.writeFileSync(file, demoInstallerBytes(v.version, p, size));
      return file;
    });
    await addVersion(feedDir, { ...v, installers, product: 'Lockstep Demo', now }, signer);
  }
  refreshCatalog(
    feedDir,
    {
      now,
      modules: [
        { id: 'reports', name: 'Reports', version: '1.0.0', appRange: '>=1.0.0 <2.0.0' },
        { id: 'scanner', name: 'Document scanner', version: '1.0.0', appRange: '>=1.0.0 <2.0.0' },
      ],
    },
    signer,
  );
  // The module update comes as a package (what `lockstep feed add-module` does), so it can be installed with the app.
  const modulePackage = path.join(build, demoModuleName('reports', '2.0.0'));
  fs.writeFileSync(modulePackage, demoModuleBytes('reports', '2.0.0'));
  await addModule(feedDir, { file: modulePackage, id: 'reports', name: 'Reports', version: '2.0.0', appRange: '>=2.0.0 <4.0.0', now }, signer);
  fs.rmSync(build, { recursive: true, force: true });

  const licenseFile = path.join(dir, 'license.json');
  issueLicense(
    { product: 'Lockstep Demo', number: 'DEMO-0001', edition: options.edition ?? 'standard', contractUntil: options.contractUntil ?? new Date(now.getTime() + 20 * DAY).toISOString().slice(0, 10), issuedAt: now.toISOString() },
    signer,
    licenseFile,
  );
  return { dir, feedDir, privateKeyFile: keys.privateKeyFile, publicKey: keys.publicKey, licenseFile, signer };
}
