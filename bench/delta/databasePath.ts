/**
 * Lockstep's shared-database path for the delta benchmark, on SQLite and (with LOCKSTEP_TEST_PG_URL) PostgreSQL:
 * "release for all" of the old and then the new version (the real Ledger + PackagePublisher, blocks layout), then one
 * workstation assembling the new package from the old one plus the blocks it lacks (engine/fleet/blockTransfer.ts),
 * with the bytes it read from the database counted at the block store. And the fleet: many workstations with their
 * own connections and K transfer slots (the real FleetUpgrader) upgrading to the patch with the old package kept,
 * against the same release with nothing kept (every block from the database), in the same run.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BlockStore } from '../../db/blockStore';
import { Db } from '../../db/connection';
import { FleetStore } from '../../db/fleetStore';
import { LeaseStore } from '../../db/leaseStore';
import { PackageInfo, PackageStore } from '../../db/packageStore';
import { Release } from '../../db/types';
import { downloadBlocks } from '../../engine/fleet/blockTransfer';
import { blockSizesFor, cutFile } from '../../engine/fleet/blockPublish';
import { PackagePublisher } from '../../engine/fleet/publisher';
import { FleetUpgrader } from '../../engine/fleet/upgrader';
import { KeptPackage } from '../../engine/keptPackage';
import { keepOld } from './keptOld';
import { Ledger } from '../../engine/ledger';
import { FleetConfig, FleetConfigSchema } from '../../kernel/fleetConfig';
import { MemoryLogger } from '../../kernel/log';
import { parseVersion } from '../../kernel/version';
import { Backend, TestDatabase, backends, migratedDb } from '../../test/helpers/backends';
import { fileSha512 } from './fileHash';
import { serverCpu } from './serverCpu';
import type { DbResult, FleetResult, FleetRun, MemoryWatch, VersionSeries } from './types';
import type { SignedFeed } from './signedFeed';

const admin = { workstationId: 'admin', hostName: 'ADMIN', osUser: 'admin', isAdmin: true };

/** The block store with the bytes its reads returned counted: what left the database for this workstation. */
class CountingBlockStore extends BlockStore {
  blockBytes = 0;
  listRows = 0;
  override async read(hashes: readonly string[]): Promise<Map<string, Buffer>> {
    const rows = await super.read(hashes);
    for (const b of rows.values()) this.blockBytes += b.length;
    return rows;
  }
  override async list(releaseId: number): Promise<Awaited<ReturnType<BlockStore['list']>>> {
    const list = await super.list(releaseId);
    this.listRows += list.length;
    return list;
  }
}

/** "Release for all" of one version (blocks layout); returns its package row and the bytes of new blocks it stored. */
async function releaseVersion(db: Db, feed: SignedFeed, version: string, settings: FleetConfig): Promise<{ release: Release; info: PackageInfo; storedBytes: number }> {
  const fleet = new FleetStore(db);
  const packages = new PackageStore(db);
  const log = new MemoryLogger();
  const signed = feed.versions.get(version)!;
  const publisher = new PackagePublisher({ fleet, packages, settings, trustedKeys: [feed.publicKey], platform: 'linux', identity: admin, source: { locate: async () => ({ file: signed.file, manifest: signed.manifest, catalogText: null }) }, fileStore: null, log });
  const release = await new Ledger(fleet, admin, log, { channel: 'stable', packages: publisher }).release(version);
  const info = (await packages.info(release.id))!;
  if (info.layout !== 'blocks') throw new Error(`version ${version} was stored as ${info.layout}, not as blocks`);
  const uploaded = log.entries.filter((e) => e.event === 'fleet.package-uploaded').at(-1);
  return { release, info, storedBytes: Number(uploaded?.fields.bytesSent ?? uploaded?.fields.bytesWritten ?? NaN) };
}

/** One workstation with the previous version's package kept assembles version `i` of the series. */
async function assembleOne(db: Db, backend: string, series: VersionSeries, i: number, info: PackageInfo, settings: FleetConfig, storedBytes: number, watch: MemoryWatch): Promise<DbResult> {
  const store = new CountingBlockStore(db);
  const wsDir = path.join(series.work, `db-${backend}-ws-${i}`);
  const dest = path.join(wsDir, 'package.bin');
  const log = new MemoryLogger();
  const kept = await keepOld(wsDir, series.files[i - 1]!, series.versions[i - 1]!, fileSha512(series.files[i - 1]!), log);
  const m = watch();
  const base = await kept.openBase();
  if (!base) throw new Error(`the kept package was not usable: ${kept.lastUnusedReason}`);
  let result;
  try {
    result = await downloadBlocks(store, info, dest, { retries: 3, log, base, prefetch: settings.prefetchChunks });
  } finally {
    base.close();
  }
  const growth = m.stop();
  if (result.sha512 !== info.sha512 || fileSha512(`${dest}.part`) !== info.sha512) throw new Error(`the package assembled from ${backend} blocks does not match`);
  fs.rmSync(wsDir, { recursive: true, force: true });
  return { backend, bytesRead: store.blockBytes, rssGrowth: growth, note: `${result.blocksFromDatabase} blocks in ${result.queries} queries from the database, ${result.blocksFromBase} from the old package; block list ${store.listRows} rows; releasing the new version stored ${(storedBytes / 1e6).toFixed(1)} MB of new blocks` };
}

export interface DatabaseRun {
  /** Per consecutive pair of the series. */
  perPair: DbResult[];
  fleet: FleetResult | null;
}

/**
 * On one backend the versions are released in turn as a site would (each storing only its new blocks), and after each
 * release one workstation that has the previous version's package assembles the new one. With `fleet`, after the
 * first release step the crowd upgrades to it twice: with the previous package kept, and with nothing kept.
 */
export async function databasePath(series: VersionSeries, watch: MemoryWatch, backendName: 'sqlite' | 'postgres', fleet?: { workstations: number; k: number }): Promise<DatabaseRun> {
  const backend: Backend | undefined = backends().find((b) => b.name === backendName);
  if (!backend) throw new Error(`${backendName} is not available (PostgreSQL: set LOCKSTEP_TEST_PG_URL)`);
  const { db, tdb, cleanup } = await migratedDb(backend);
  const out: DatabaseRun = { perPair: [], fleet: null };
  try {
    const settings = FleetConfigSchema.parse(fleet ? { maxConcurrentTransfers: fleet.k, retryMinMs: 50, retryMaxMs: 250 } : {});
    series.progress(`${series.format}: database path on ${backendName}, releasing ${series.versions[0]}`);
    await releaseVersion(db, series.feed, series.versions[0]!, settings);
    for (let i = 1; i < series.versions.length; i++) {
      series.progress(`${series.format}: database path on ${backendName}, releasing ${series.versions[i]} and assembling it from ${series.versions[i - 1]}`);
      const { info, storedBytes } = await releaseVersion(db, series.feed, series.versions[i]!, settings);
      out.perPair.push(await assembleOne(db, backendName, series, i, info, settings, storedBytes, watch));
      if (fleet && i === 1) {
        const pair = { ...series, oldFile: series.files[0]!, oldVersion: series.versions[0]! };
        series.progress(`fleet: ${fleet.workstations} workstations upgrading to ${series.versions[1]} with ${series.versions[0]}'s package kept`);
        const patch = await crowd(tdb, pair, settings, fleet.workstations, true, watch, 'patch');
        series.progress(`fleet: ${fleet.workstations} workstations upgrading to ${series.versions[1]} with nothing kept (the full package)`);
        const full = await crowd(tdb, pair, settings, fleet.workstations, false, watch, 'full');
        out.fleet = { workstations: fleet.workstations, k: fleet.k, patch, full };
      }
    }
  } finally {
    await cleanup();
  }
  return out;
}

/** What the crowd needs: the old package every workstation keeps, and the signed feed's key. */
type CrowdInput = Pick<VersionSeries, 'work' | 'feed'> & { oldFile: string; oldVersion: string };

async function crowd(tdb: TestDatabase, p: CrowdInput, settings: FleetConfig, workstations: number, withBase: boolean, watch: MemoryWatch, tag: string): Promise<FleetRun> {
  const handles: Db[] = [];
  for (let i = 0; i < workstations; i++) handles.push(await tdb.open());
  const log = new MemoryLogger();
  const oldSha512 = fileSha512(p.oldFile);
  // The old package's block list, kept beside it as an upgrade to it through the database leaves it.
  const sizes = blockSizesFor(settings.blockBytes);
  const blockList = withBase && sizes ? { sizes, blocks: (await cutFile(p.oldFile, sizes)).blocks } : undefined;
  const kept: Array<KeptPackage | undefined> = [];
  for (let i = 0; i < workstations; i++) kept.push(withBase ? await keepOld(path.join(p.work, `fleet-${tag}-${i}`), p.oldFile, p.oldVersion, oldSha512, log, blockList) : undefined);
  const server = await serverCpu(handles[0]!);
  const serverBefore = server?.() ?? 0;
  const m = watch();
  const cpu = process.cpuUsage();
  const t = process.hrtime.bigint();
  try {
    await Promise.all(
      handles.map(async (h, i) => {
        const who = { workstationId: `ws-${i}`, hostName: `WS-${i}`, osUser: 'clerk', isAdmin: false };
        const fleet = new FleetStore(h);
        const upgrader = new FleetUpgrader({
          fleet, packages: new PackageStore(h), leases: new LeaseStore(h), settings, cacheDir: path.join(p.work, `fleet-${tag}-${i}`), trustedKeys: [p.feed.publicKey], platform: 'linux', identity: who, administrators: [],
          // Installing is not what is measured: the verified package is deleted instead.
          installer: { install: async (x) => (fs.rmSync(x.packagePath), { from: p.oldVersion, to: x.version, elevation: 'none' }) },
          floor: async () => ({ known: false, floor: null }),
          fileStore: null,
          log,
          ...(kept[i] ? { kept: kept[i] } : {}),
        });
        const current = (await fleet.releases.current('stable'))!.release!;
        await upgrader.upgrade({ version: parseVersion(current.version), release: current, downgrade: false });
      }),
    );
  } finally {
    await Promise.all(handles.map((h) => h.close()));
  }
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  const used = process.cpuUsage(cpu);
  const serverCpuMs = server ? server() - serverBefore : null;
  const rssGrowth = m.stop();
  const fetched = log.entries.filter((e) => e.event === 'fleet.fetched');
  if (fetched.length !== workstations) throw new Error(`${fetched.length} of ${workstations} workstations fetched the package (${log.entries.filter((e) => e.level === 'error').map((e) => e.event).join(', ')})`);
  return { ms, bytesRead: fetched.reduce((s, e) => s + Number(e.fields.dbBytes ?? NaN), 0), rssGrowth, cpuMs: (used.user + used.system) / 1000, serverCpuMs };
}
