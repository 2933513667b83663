/** In-process fleet parts over one database handle, for tests that inject faults between chunks. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Db } from '../../../db/connection';
import { FleetStore } from '../../../db/fleetStore';
import { PackageStore } from '../../../db/packageStore';
import { Release } from '../../../db/types';
import { Identity } from '../../../engine/identity';
import { LocalPackage, LocalPackageSource, PackagePublisher, PublisherDeps } from '../../../engine/fleet/publisher';
import { fileStoreFor } from '../../../engine/fleet/fileStore';
import { FleetConfig, FleetConfigSchema } from '../../../kernel/fleetConfig';
import { Ledger } from '../../../engine/ledger';
import { MemoryLogger } from '../../../kernel/log';
import { DemoFeed } from '../../../authoring/demoFeed';
import { FeedHttp } from '../../../engine/feed/http';
import assert from 'node:assert/strict';
import { KeptBlockList, KeptPackage, keptPackageDir } from '../../../engine/keptPackage';
import { openWorkstation } from '../../../engine/workstation';
import { MachineConfigSchema } from '../../../kernel/config';
import { writeVersionFile } from '../../../kernel/installation';
import { tempDir } from '../../helpers/backends';

/** The package-store client of a test workstation: loopback servers answer at once, so short time-outs and retries. */
export function storeClient(ca: string | null = null): FeedHttp {
  return new FeedHttp({ licenseNumber: null, proxy: null, ca, timeoutMs: 5_000, retries: 2, retryDelayMs: 20 });
}

/** The package of `version` as a releasing workstation holds it: the feed's file and its signed manifest. */
export function feedPackage(feed: DemoFeed, version: string): LocalPackage {
  const catalogText = fs.readFileSync(path.join(feed.feedDir, 'catalog.json'), 'utf8');
  const catalog = JSON.parse(catalogText) as { signed: { versions: Array<{ version: string; manifest: LocalPackage['manifest'] }> } };
  const entry = catalog.signed.versions.find((v) => v.version === version)!;
  return { file: path.join(feed.feedDir, feed.packages[version]!.name), manifest: entry.manifest, catalogText };
}

export function feedSource(feed: DemoFeed): LocalPackageSource {
  return { locate: async (version) => (feed.packages[version] ? feedPackage(feed, version) : null) };
}

export function settings(extra: Record<string, unknown> = {}): FleetConfig {
  return FleetConfigSchema.parse({ chunkBytes: 64 * 1024, retryMinMs: 5, retryMaxMs: 20, ...extra });
}

export function admin(id: string): Identity {
  return { workstationId: id, hostName: id.toUpperCase(), osUser: 'admin', isAdmin: true };
}

/** An administrator's ledger whose "release for all" uploads from the feed folder. */
export function releasingLedger(db: Db, feed: DemoFeed, who: Identity, fleetSettings: FleetConfig = settings(), channel = 'stable', storeHttp: FeedHttp = storeClient(), hooks: Pick<PublisherDeps, 'beforeBlockList'> = {}) {
  const fleet = new FleetStore(db);
  const log = new MemoryLogger();
  const packages = new PackageStore(db);
  const publisher = new PackagePublisher({ fleet, packages, settings: fleetSettings, trustedKeys: [feed.publicKey], platform: 'linux', identity: who, source: feedSource(feed), fileStore: fileStoreFor(fleetSettings, () => storeHttp), log, ...hooks });
  const ledger = new Ledger(fleet, who, log, { channel, packages: publisher });
  return { fleet, packages, publisher, ledger, log };
}

export async function releaseWithPackage(db: Db, feed: DemoFeed, version: string, fleetSettings?: FleetConfig): Promise<Release> {
  return releasingLedger(db, feed, admin('releaser'), fleetSettings).ledger.release(version);
}

/**
 * A workstation in this process (real gate, fleet upgrader and installer) with `installed` in its install folder and,
 * when `kept` is given, that file kept as the package of its installed version (the delta base).
 */
export async function inProcessWorkstation(o: { dbUrl: string; publicKey: string; installed: string; kept?: { file: string; name: string; sha512: string; blockList?: KeptBlockList } }) {
  const dir = tempDir('lockstep-ws-');
  fs.mkdirSync(path.join(dir, 'app'));
  writeVersionFile(path.join(dir, 'app'), o.installed);
  const cacheDir = path.join(dir, 'feed-cache');
  const raw = { installDir: path.join(dir, 'app'), database: { url: o.dbUrl, passwordFromKeychain: false }, workstation: { id: `ws-${path.basename(dir)}` }, fleet: { chunkBytes: 64 * 1024 }, feed: { url: 'http://127.0.0.1:9/', trustedKeys: [o.publicKey], cacheDir } };
  const file = path.join(dir, 'lockstep.machine.json');
  fs.writeFileSync(file, JSON.stringify(raw));
  const log = new MemoryLogger();
  if (o.kept) {
    const size = fs.statSync(o.kept.file).size;
    assert.ok(await new KeptPackage(keptPackageDir(cacheDir), log).keep(o.kept.file, { version: o.installed, name: o.kept.name, size, sha512: o.kept.sha512 }, 'copy', o.kept.blockList));
  }
  const noSecrets = { get: async () => null, set: async () => undefined, delete: async () => false };
  const ws = await openWorkstation({ ...MachineConfigSchema.parse(raw), sourceFile: file }, { host: { platform: 'linux', defaultLogDir: dir, secrets: noSecrets }, logger: log });
  return { ws, dir, log, keptDir: keptPackageDir(cacheDir), installed: () => (JSON.parse(fs.readFileSync(path.join(dir, 'app', 'lockstep-version.json'), 'utf8')) as { version: string }).version };
}
