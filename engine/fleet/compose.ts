/**
 * Composition of the fleet for one workstation (plain Node: CLI, tests, benchmarks; main.ts composes the same with
 * Electron's relauncher): the upgrader the start-up gate calls and the publisher "release for all" calls. The
 * platform is passed in by the entry point.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError } from '../../contract/errors';
import { FleetStore } from '../../db/fleetStore';
import { LeaseStore } from '../../db/leaseStore';
import { PackageStore } from '../../db/packageStore';
import { defaultStateDir } from '../../installer/journal';
import { MachineConfig } from '../../kernel/config';
import { paceOf } from '../../kernel/feedConfig';
import { FeedHttp } from '../feed/http';
import { Identity } from '../identity';
import { InstalledVersionSource } from '../../kernel/installation';
import { Logger } from '../../kernel/log';
import { trustedKeys } from '../../kernel/trust';
import { ChunkProgress } from './dbTransfer';
import { FeedPackageSource, FirstOf } from './feedPackageSource';
import { DEFAULT_FLEET_CONFIG, FleetConfig } from '../../kernel/fleetConfig';
import { LocalPackageSource, PackagePublisher } from './publisher';
import { knownSecurityFloor } from './securityFloor';
import { localFloorFile } from '../../kernel/localFloor';
import { SlotClock } from './transferSlots';
import { fileStoreFor } from './fileStore';
import { FleetUpgrader, PackageInstaller } from './upgrader';
import { moduleInstallerFor, moduleLocation } from '../moduleInstall';
import { KeptPackage, keptPackageDir } from '../keptPackage';
import { defaultCacheDir } from '../feed/context';
import { defaultModulesFile } from '../modules';
import { fetchCatalog } from '../catalog';
import { InstalledModuleSource } from './moduleSource';
import { platformOf } from '../../kernel/catalogSchema';
import { Host, feedContextFor, installerFor } from '../compose/host';

export interface FleetParts {
  settings: FleetConfig;
  packages: PackageStore;
  leases: LeaseStore;
  upgrader: FleetUpgrader;
  publisher: PackagePublisher;
}

export interface FleetComposeDeps {
  config: MachineConfig;
  fleet: FleetStore;
  identity: Identity;
  log: Logger;
  host: Host;
  installed: InstalledVersionSource;
  /** Default: the installer's apply pipeline (installer/platform.ts), with no credentials prompt. */
  installer?: PackageInstaller;
  /** Extra places the releasing workstation looks for a package before the feed (CLI --package). */
  sources?: LocalPackageSource[];
  clock?: SlotClock;
  onChunk?: (p: ChunkProgress) => Promise<void> | void;
}

export function fleetSettings(config: MachineConfig): FleetConfig {
  return config.fleet ?? DEFAULT_FLEET_CONFIG;
}

export function packageCacheDir(config: MachineConfig): string {
  return fleetSettings(config).cacheDir ?? path.join(path.dirname(config.sourceFile), 'lockstep-packages');
}

/**
 * The HTTP client of a web-server package store, built on first use (a broken CA file is then a coded error of the
 * upgrade, not a workstation that cannot open). The store is on the site's network: no licence header, no proxy; the
 * feed's time-outs and retries; IT's CA from packageStore.caFile or feed.caFile.
 */
export function storeHttpFor(config: MachineConfig, log: Logger): () => FeedHttp {
  let client: FeedHttp | null = null;
  return () => {
    if (client) return client;
    const store = fleetSettings(config).packageStore;
    const caFile = (store.type === 'http' ? store.caFile : undefined) ?? config.feed?.caFile;
    let ca: string | null = null;
    if (caFile) {
      try {
        ca = fs.readFileSync(caFile, 'utf8');
      } catch (err) {
        throw new LockstepError('E_CONFIG_INVALID', `The CA file ${caFile} of the package store cannot be read: ${(err as Error).message}`, { file: caFile });
      }
      if (!ca.includes('-----BEGIN CERTIFICATE-----')) throw new LockstepError('E_CONFIG_INVALID', `The CA file ${caFile} of the package store holds no PEM certificate.`, { file: caFile });
    }
    const feed = config.feed;
    client = new FeedHttp({ licenseNumber: null, proxy: null, ca, timeoutMs: feed?.timeoutMs ?? 30_000, pace: paceOf(feed), retries: feed?.retries ?? 4, retryDelayMs: feed?.retryDelayMs ?? 1_000, log });
    return client;
  };
}

export function composeFleet(d: FleetComposeDeps): FleetParts {
  const settings = fleetSettings(d.config);
  const packages = new PackageStore(d.fleet.db);
  const leases = new LeaseStore(d.fleet.db);
  const keys = trustedKeys(d.config);
  const platform = platformOf(d.host.platform);
  const installer = d.installer ?? installerFor(d.config, d.host, d.log, { user: d.identity.osUser });
  // The site's package store is chosen here, once: the upgrader and the publisher get the same one.
  const fileStore = fileStoreFor(settings, storeHttpFor(d.config, d.log));
  const feedSources = d.config.feed ? [new FeedPackageSource(() => feedContextFor(d.config, d.host, d.log, null))] : [];
  const upgrader = new FleetUpgrader({
    fleet: d.fleet,
    packages,
    leases,
    settings,
    cacheDir: packageCacheDir(d.config),
    trustedKeys: keys,
    platform,
    identity: d.identity,
    administrators: d.config.administrators,
    installer,
    modules: moduleInstallerFor(d.config, { cacheDir: packageCacheDir(d.config), trustedKeys: keys, log: d.log }),
    fileStore,
    floor: () => knownSecurityFloor(settings.securityFloor, packages, keys, d.log),
    localFloorFile: localFloorFile(d.config.installer.stateDir ?? defaultStateDir(d.config.installDir)),
    log: d.log,
    // The same place the feed download looks for its base: one kept package per installation, however it arrived.
    kept: new KeptPackage(keptPackageDir(d.config.feed?.cacheDir ?? defaultCacheDir(d.config)), d.log),
    ...(d.clock ? { clock: d.clock } : {}),
    ...(d.onChunk ? { onChunk: d.onChunk } : {}),
  });
  const publisher = new PackagePublisher({
    fleet: d.fleet,
    packages,
    settings,
    trustedKeys: keys,
    platform,
    identity: d.identity,
    source: new FirstOf([...(d.sources ?? []), ...feedSources]),
    fileStore,
    log: d.log,
    ...(d.clock ? { clock: d.clock } : {}),
    ...(d.config.feed ? { modules: new InstalledModuleSource(moduleLocation(d.config.feed.modulesFile ?? defaultModulesFile(d.config.installDir)), async () => (await fetchCatalog(await feedContextFor(d.config, d.host, d.log, null))).catalog.modules) } : {}),
  });
  return { settings, packages, leases, upgrader, publisher };
}
