/**
 * The start-up gate's upgrade action (S14 "I < R", S17–S19): verify the stored release against the trusted vendor
 * keys → wait for one of K transfer slots → stream the package from the shared database (or the site's package store)
 * into the cache → check the assembled file against the signed SHA-512 → hand it to the installer (backup, elevation,
 * rollback, restart). Every outcome leaves an audit row; a tampered package ends as E_SIGNATURE with nothing installed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError, toLockstepError } from '../../contract/errors';
import { FleetStore } from '../../db/fleetStore';
import { LeaseStore } from '../../db/leaseStore';
import { PackageInfo, PackageStore } from '../../db/packageStore';
import { Release } from '../../db/types';
import { PackageKind } from '../../installer/journal';
import { ManifestFile, Platform } from '../../kernel/catalogSchema';
import { PackageFileStore } from './fileStore';
import { Identity, actorOf } from '../identity';
import { Logger } from '../../kernel/log';
import { UpgradeOutcome, UpgradeTarget, Upgrader } from '../startupGate';
import { planModules } from './moduleUpgrade';
import { compareVersions } from '../../kernel/version';
import { ChunkProgress, TransferResult, downloadFromDatabase, dropPart } from './dbTransfer';
import { FleetConfig } from '../../kernel/fleetConfig';
import { FloorRecord, UNKNOWN_FLOOR, higherFloor, raiseLocalFloor, readLocalFloor, statedFloor } from '../../kernel/localFloor';
import { packageKindOf } from '../../installer/packageKind';
import { LazySlot, SlotClock, acquireSlot, realClock } from './transferSlots';
import { checkAssembled, verifyStoredRelease } from './verify';
import { ModuleInstaller, installWithModules, modulesForStep } from '../moduleInstall';
import type { ModuleHandover } from '../../installer/moduleHandover';
import { KeptBlockList, KeptPackage } from '../keptPackage';
import { BlockStore } from '../../db/blockStore';
import { BlockTransferResult, downloadBlocks } from './blockTransfer';
import { blockSizesFor } from './blockPublish';

/** The installer's entry point as the fleet needs it (installer/installer.ts Installer.install). */
export interface PackageInstaller {
  install(input: { packagePath: string; sha512: string; kind: PackageKind; version: string; manifest: { text: string; signature: string }; modules?: ModuleHandover }): Promise<{ from: string | null; to: string; elevation: string }>;
}

export interface FleetUpgraderDeps {
  fleet: FleetStore;
  packages: PackageStore;
  leases: LeaseStore;
  settings: FleetConfig;
  cacheDir: string;
  trustedKeys: readonly string[];
  platform: Platform;
  identity: Identity;
  /** OS users the machine configuration names as administrators: only they can move a workstation back (S15). */
  administrators: readonly string[];
  installer: PackageInstaller;
  /**
   * The installed modules (S6). An app install replaces the install folder's contents, so the modules are carried
   * across it; without this they would be gone after an upgrade from the shared database.
   */
  modules?: ModuleInstaller;
  /** A web server or share holding the packages; null: the shared database does (fileStore.ts). */
  fileStore: PackageFileStore | null;
  /** IT's configured floor and the floors of the verified catalogs stored in the shared database. */
  floor: () => Promise<FloorRecord>;
  /**
   * The record of the highest floor this workstation ever verified (localFloor.ts); absent: nothing is remembered
   * (benchmarks), and a move back is then judged by what the database still holds.
   */
  localFloorFile?: string;
  log: Logger;
  clock?: SlotClock;
  /**
   * Where the installed version's package is kept as the next delta base (a block-stored release reuses its blocks);
   * absent: it is deleted after the install and every block is read from the database.
   */
  kept?: KeptPackage;
  onChunk?: (p: ChunkProgress) => Promise<void> | void;
}

function sameUser(a: string | null, list: readonly string[]): boolean {
  if (!a) return false;
  const short = (s: string) => s.trim().toLowerCase().split('\\').pop()!;
  return list.some((x) => short(x) === short(a));
}

export class FleetUpgrader implements Upgrader {
  constructor(private readonly d: FleetUpgraderDeps) {}

  async upgrade(target: UpgradeTarget): Promise<UpgradeOutcome> {
    const started = Date.now();
    let note: string | undefined;
    const release = target.release;
    try {
      const { file, manifest } = verifyStoredRelease(release, this.d.trustedKeys, this.d.platform);
      await this.checkDirection(target, statedFloor(manifest.securityFloor));
      const kind = packageKindOf(file.name);
      const { path: packagePath, blockList } = await this.fetch(release, file);
      const installApp = (handover: ModuleHandover | null = null) =>
        this.d.installer.install({ packagePath, sha512: file.sha512, kind, version: release.version, manifest: { text: release.manifest ?? '', signature: release.manifestSignature ?? '' }, ...modulesForStep(handover, true) });
      let outcome: Awaited<ReturnType<typeof installApp>>;
      if (this.d.modules) {
        // The modules released with this version are fetched and checked before anything is installed.
        const plan = await planModules(release.version, this.d.modules.installedModules(), await this.d.fleet.releaseModules.carried(release.id), this.d.trustedKeys, (moduleRelease, file) =>
          this.fetch(moduleRelease, { ...file, platform: this.d.platform, kind: 'other' }, true).then((fetched) => fetched.path),
        );
        const installed = await installWithModules(this.d.modules, release.version, plan.ticked, installApp);
        outcome = installed.app;
        if (plan.ticked.length) await this.audit('module-update', 'ok', release, { modules: plan.ticked.map((m) => `${m.id}@${m.version}`) });
        if (plan.incompatible.length) {
          note = `E_MODULE_INCOMPATIBLE: no version of ${plan.incompatible.join(', ')} released with ${release.version}; kept as it was`;
          await this.audit('module-incompatible', 'E_MODULE_INCOMPATIBLE', release, { modules: plan.incompatible, version: release.version });
          this.d.log.warn('fleet.module-incompatible', { version: release.version, modules: plan.incompatible });
        }
      } else {
        outcome = await installApp();
      }
      await this.audit('upgrade', 'ok', release, { from: outcome.from, to: outcome.to, elevation: outcome.elevation, downgrade: target.downgrade, ms: Date.now() - started });
      await this.d.kept?.keep(packagePath, { version: release.version, name: file.name, size: file.size, sha512: file.sha512, blockMap: file.blockMap }, 'move', blockList);
      fs.rmSync(path.dirname(packagePath), { recursive: true, force: true });
      return note ? { note, code: 'E_MODULE_INCOMPATIBLE' } : {};
    } catch (err) {
      const e = toLockstepError(err);
      // A release without a package is not an attempt (the gate records it as this workstation's last result);
      // everything else — above all a tampered package — leaves an audit row for the administrators.
      if (e.code !== 'E_UPGRADE_UNAVAILABLE') await this.audit('upgrade', e.code, release, { message: e.message, downgrade: target.downgrade });
      throw e;
    }
  }

  /**
   * Never below the floor, and moving down only past a floor this workstation knows (S15, S31). The floor is the
   * highest of: IT's configuration, the verified catalogs and the installed version's verified manifest still stored
   * in the database, the target's own manifest, and — what a database writer cannot erase — the local record of every
   * floor verified before. With no floor known at all, any move back is refused. Beyond that, the move must look made
   * by an administrator (the installed version withdrawn, the target released by configured administrators); those
   * names are plain text in the database, so they are a second opinion, not the guard.
   */
  private async checkDirection(target: UpgradeTarget, targetStated: FloorRecord): Promise<void> {
    const from = target.installed;
    const releases = await this.d.fleet.releases.list(target.release.channel);
    const installed = from ? releases.find((r) => compareVersions(r.version, from) === 0) : undefined;
    // Known before this move: the target's own manifest may raise the floor, but never makes it known by itself —
    // a database writer chooses which (old) manifest the pointer names.
    const before = higherFloor(higherFloor(await this.d.floor(), this.installedStated(installed)), this.remember(UNKNOWN_FLOOR));
    const floor = higherFloor(before, targetStated).floor;
    this.remember(higherFloor(before, targetStated));
    if (floor && compareVersions(target.version, floor) < 0) {
      throw new LockstepError('E_BELOW_SECURITY_FLOOR', `Version ${target.version.raw} is below the vendor's security floor ${floor.raw}; this workstation does not move to it. An administrator must release version ${floor.raw} or later.`, { version: target.version.raw, floor: floor.raw });
    }
    if (!target.downgrade) return;
    if (!before.known) {
      throw new LockstepError('E_DOWNGRADE', `The released version moved back to ${target.version.raw}, but this workstation has never verified the vendor's security floor, so it cannot tell whether that version is safe; it stays where it is. Set fleet.securityFloor in the machine configuration, or release a version not older than the installed one.`, {
        version: target.version.raw,
        floor: null,
      });
    }
    if (!installed || installed.state !== 'withdrawn' || !sameUser(installed.withdrawnBy, this.d.administrators) || !sameUser(target.release.releasedBy, this.d.administrators)) {
      throw new LockstepError('E_DOWNGRADE', `The released version moved back to ${target.version.raw}, but not by an administrator this workstation knows; it stays where it is.`, {
        version: target.version.raw,
        releasedBy: target.release.releasedBy,
      });
    }
  }

  /** The floor stated in the installed version's verified manifest, when the database still holds it. */
  private installedStated(installed: Release | undefined): FloorRecord {
    if (!installed) return UNKNOWN_FLOOR;
    try {
      return statedFloor(verifyStoredRelease(installed, this.d.trustedKeys, this.d.platform).manifest.securityFloor);
    } catch {
      return UNKNOWN_FLOOR;
    }
  }

  /** Raises the local record to `seen` (when higher) and returns the record in force; a failed write is logged. */
  private remember(seen: FloorRecord): FloorRecord {
    if (!this.d.localFloorFile) return seen;
    try {
      return raiseLocalFloor(this.d.localFloorFile, seen, 'fleet');
    } catch (err) {
      this.d.log.warn('fleet.floor-not-recorded', { file: this.d.localFloorFile, message: (err as Error).message });
      return higherFloor(readLocalFloor(this.d.localFloorFile), seen);
    }
  }

  /**
   * Holds a transfer slot only for the transfer itself (installing can take long and needs no database), and a block
   * transfer only while it reads blocks from the database: a patch assembled from the kept package holds it briefly.
   */
  private async fetch(release: Release, file: ManifestFile, databaseOnly = false): Promise<{ path: string; blockList?: KeptBlockList }> {
    const dir = path.join(this.d.cacheDir, `release-${release.id}-${Buffer.from(file.sha512, 'base64').subarray(0, 8).toString('hex')}`);
    fs.mkdirSync(dir, { recursive: true });
    const destination = path.join(dir, file.name);
    const slot = new LazySlot(() => acquireSlot(this.d.leases, this.d.settings, this.d.identity.workstationId, this.d.log, this.d.clock ?? realClock));
    let result: TransferResult | undefined;
    try {
      result = await this.transfer(release, file, destination, slot, databaseOnly);
    } finally {
      await slot.release().catch((err) => this.d.log.warn('fleet.slot-release-failed', { message: (err as Error).message }));
      // The first hold is the transfer's reading; a later one only refetches blocks a changed base no longer had.
      const held = slot.holds[0];
      const span = { startedAt: held?.startedAt ?? null, endedAt: held?.endedAt ?? null, ...(slot.holds.length > 1 ? { laterHolds: slot.holds.length - 1 } : {}) };
      this.d.log.info('fleet.transfer', { releaseId: release.id, ...span });
      await this.audit('package-transfer', 'ok', release, { slot: held?.slot ?? null, waitedMs: held?.waitedMs ?? 0, attempts: held?.attempts ?? 0, ...span, store: this.d.fileStore?.type ?? 'database', ...blockFigures(result, file.size) });
    }
    try {
      checkAssembled(release, file, result.sha512, result.bytes);
    } catch (err) {
      dropPart(`${destination}.part`, `${destination}.part.json`);
      fs.rmSync(destination, { force: true });
      throw err;
    }
    if (fs.existsSync(`${destination}.part`)) fs.renameSync(`${destination}.part`, destination);
    fs.rmSync(`${destination}.part.json`, { force: true });
    this.d.log.info('fleet.fetched', { version: release.version, bytes: result.bytes, resumedAt: result.resumedAt, reconnects: result.reconnects, ...blockFigures(result, file.size) });
    return { path: destination, ...keptListOf(result) };
  }

  private async transfer(release: Release, file: ManifestFile, destination: string, slot: LazySlot, databaseOnly = false): Promise<TransferResult> {
    if (this.d.fileStore && !databaseOnly) {
      await slot.acquire();
      return this.d.fileStore.fetch(file, destination);
    }
    const info = await this.d.packages.info(release.id);
    if (!info || info.store !== 'database' || info.state !== 'complete') {
      throw new LockstepError('E_UPGRADE_UNAVAILABLE', `Release ${release.version} has no complete package in the shared database.`, { version: release.version });
    }
    if (info.sha512 !== file.sha512 || info.size !== file.size) {
      throw new LockstepError('E_SIGNATURE', `The package row of version ${release.version} does not describe the vendor-signed file; nothing was installed.`, { releaseId: release.id });
    }
    if (info.layout === 'blocks') return this.transferBlocks(info, destination, slot);
    await slot.acquire();
    return downloadFromDatabase(this.d.packages, info, destination, {
      retries: this.d.settings.chunkRetries,
      prefetch: this.d.settings.prefetchChunks,
      ...(this.d.settings.chunksPerQuery ? { chunksPerQuery: this.d.settings.chunksPerQuery } : {}),
      log: this.d.log,
      onChunk: async (p) => {
        await slot.keepAlive();
        await this.d.onChunk?.(p);
      },
    });
  }

  /** Blocks of the kept package where they match, the rest from the database (blockTransfer.ts). */
  private async transferBlocks(info: PackageInfo, destination: string, slot: LazySlot): Promise<BlockTransferResult> {
    const sizes = blockSizesFor(info.chunkSize);
    const base = (await this.d.kept?.openBase(sizes ? { blockList: sizes } : {})) ?? null;
    try {
      return await downloadBlocks(new BlockStore(this.d.fleet.db), info, destination, {
        retries: this.d.settings.chunkRetries,
        prefetch: this.d.settings.prefetchChunks,
        log: this.d.log,
        base,
        slot,
        onChunk: async (p) => {
          await slot.keepAlive();
          await this.d.onChunk?.(p);
        },
      });
    } finally {
      base?.close();
    }
  }

  private async audit(action: string, outcome: string, release: Release, detail: Record<string, unknown>): Promise<void> {
    try {
      await this.d.fleet.audit({ action, outcome, actor: actorOf(this.d.identity), channel: release.channel, version: release.version, detail });
    } catch (err) {
      this.d.log.warn('fleet.audit-failed', { action, message: (err as Error).message });
    }
  }
}

/**
 * The block list of a package assembled from blocks, to keep beside it: checked block by block on the way and, with
 * the whole file matching the signed SHA-512, true for the kept bytes. Nothing for other transfers.
 */
function keptListOf(result: TransferResult): { blockList?: KeptBlockList } {
  if (!('list' in result)) return {};
  const r = result as BlockTransferResult;
  return r.sizes ? { blockList: { sizes: r.sizes, blocks: r.list } } : {};
}

/** What a block transfer read from the database, against the package size (the figure a patch keeps small). */
function blockFigures(result: TransferResult | undefined, packageBytes: number): Record<string, unknown> {
  if (!result || !('fromDatabase' in result)) return {};
  const r = result as BlockTransferResult;
  return { layout: 'blocks', dbBytes: r.fromDatabase, baseBytes: r.fromBase, packageBytes, dbFraction: Number((r.fromDatabase / packageBytes).toFixed(4)), dbBlocks: r.blocksFromDatabase, baseBlocks: r.blocksFromBase, dbQueries: r.queries };
}
