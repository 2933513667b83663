/**
 * "Release for all" carries the package (S14 "Yes", S17, S19). The releasing workstation finds the package it
 * installed (the verified feed download, or a file named explicitly), checks it against the vendor signature, and
 * writes it into the site's package store while the ledger row is `uploading`; Ledger.release then flips the row to
 * released and current in one transaction.
 *
 * Exactly one upload however many administrators answer at once: the package row carries an upload claim (with
 * expiry); the others wait, with jitter, until the package is complete. An interrupted upload resumes: chunks already
 * stored with the right hash are skipped. Releasing a version whose package is complete uploads nothing.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { LockstepError } from '../../contract/errors';
import { BlockStore } from '../../db/blockStore';
import { FleetStore } from '../../db/fleetStore';
import { PackageInfo, PackageStore } from '../../db/packageStore';
import { VersionRef } from '../../db/releaseStore';
import { ManifestFile, Platform } from '../../kernel/catalogSchema';
import { alreadyDownloaded, fileForPlatform, verifyManifest, verifyModuleManifest } from '../feed/download';
import { moduleChannel } from '../../db/releaseModuleStore';
import { ModulePackageSource } from './moduleSource';
import { compareVersions, parseVersion, versionSortKey } from '../../kernel/version';
import { satisfies } from '../../kernel/versionRange';
import { PackageFileStore } from './fileStore';
import { Identity, actorOf } from '../identity';
import { ReleasePackages } from '../ledger';
import { Logger } from '../../kernel/log';
import { SignedDocument, canonicalJson } from '../../kernel/signing';
import { FleetConfig } from '../../kernel/fleetConfig';
import { SlotClock, realClock } from './transferSlots';
import { verifyStoredRelease } from './verify';
import { uploadBlocks } from './blockPublish';

/** A package this workstation holds, with the vendor-signed manifest it came with. */
export interface LocalPackage {
  file: string;
  manifest: SignedDocument<unknown>;
  /** The signed catalog it was offered in (JSON text), stored for its security floor; null when unknown. */
  catalogText: string | null;
}

export interface LocalPackageSource {
  locate(version: string): Promise<LocalPackage | null>;
}

export interface PublisherDeps {
  fleet: FleetStore;
  packages: PackageStore;
  settings: FleetConfig;
  trustedKeys: readonly string[];
  platform: Platform;
  identity: Identity;
  source: LocalPackageSource;
  /** A web server or share holding the packages; null: the shared database does (fileStore.ts). */
  fileStore: PackageFileStore | null;
  log: Logger;
  clock?: SlotClock;
  /** Awaited before a block list is written (blockPublish.ts): the tests' race injection. */
  beforeBlockList?: (attempt: number) => Promise<void> | void;
  /** The module packages this workstation holds: they travel with the release into the shared database. */
  modules?: ModulePackageSource;
}

export class PackagePublisher implements ReleasePackages {
  constructor(private readonly d: PublisherDeps) {}

  private get clock(): SlotClock {
    return this.d.clock ?? realClock;
  }

  async publish(ref: VersionRef): Promise<boolean> {
    const withPackage = await this.publishApp(ref);
    if (withPackage && this.d.modules) await this.publishModules(ref, this.d.modules);
    return withPackage;
  }

  private async publishApp(ref: VersionRef): Promise<boolean> {
    const existing = await this.d.fleet.releases.find(ref);
    if (existing) {
      const info = await this.d.packages.info(existing.id);
      if (info?.state === 'complete') {
        // A changed stored package is never re-released; nor one whose file left the site's store meanwhile.
        const { file } = verifyStoredRelease(existing, this.d.trustedKeys, this.d.platform);
        await this.ensureInStore(ref.version, file);
        return true;
      }
    }
    const local = await this.d.source.locate(ref.version);
    if (!local) {
      this.d.log.warn('fleet.no-package', { version: ref.version });
      return false;
    }
    const manifest = verifyManifest(local.manifest, this.d.trustedKeys);
    const file = fileForPlatform(manifest, this.d.platform);
    if (!fs.existsSync(local.file) || fs.statSync(local.file).size !== file.size) {
      throw new LockstepError('E_CHECKSUM', `The local package ${local.file} does not have the signed size of ${file.name}.`, { file: local.file });
    }
    const store = this.d.fileStore;
    const storeType = store?.type ?? 'database';
    let info = await this.d.packages.begin(ref, actorOf(this.d.identity), { text: canonicalJson(local.manifest.signed), signature: local.manifest.signature }, {
      fileName: file.name,
      size: file.size,
      sha512: file.sha512,
      chunkSize: store || this.d.settings.databaseLayout === 'chunks' ? this.d.settings.chunkBytes : this.d.settings.blockBytes,
      store: storeType,
      catalog: local.catalogText,
      ...(store ? {} : { layout: this.d.settings.databaseLayout }),
    });
    if (info.state === 'complete') return true;
    if (!(await this.claimOrWait(info))) return true; // another workstation completed it meanwhile

    const started = Date.now();
    const detail = store ? await store.ensureHolds(file, local.file) : info.layout === 'blocks' ? await this.uploadBlocks(info, local.file, file) : await this.uploadChunks(info, local.file, file);
    info = await this.d.packages.complete(info.releaseId, this.d.identity.workstationId);
    await this.d.fleet.audit({ action: 'package-upload', outcome: 'ok', actor: actorOf(this.d.identity), channel: ref.channel, version: ref.version, detail: { ...detail, store: storeType, bytes: file.size, ms: Date.now() - started } });
    this.d.log.info('fleet.package-uploaded', { version: ref.version, store: storeType, ...detail });
    return true;
  }

  /**
   * Every installed module whose signed range admits the released version goes into the shared database with it: its
   * own ledger row on the module's channel (the signed module manifest), its chunks, and a link to the app release.
   * Always in the database, whatever the app's package store: module packages are small. A module whose range does
   * not admit the version stays behind (the upgrading workstations report it).
   */
  private async publishModules(ref: VersionRef, source: ModulePackageSource): Promise<void> {
    const { packages, missing } = await source.locate();
    if (missing.length) this.d.log.warn('fleet.modules-without-package', { version: ref.version, missing });
    if (packages.length === 0) return;
    const app = await this.d.fleet.releases.find(ref);
    if (!app) throw new LockstepError('E_NOT_FOUND', `Version ${ref.version} is not in the release ledger.`, { version: ref.version });
    for (const m of packages) {
      const signed = verifyModuleManifest(m.manifest, this.d.trustedKeys);
      if (signed.module !== m.id || compareVersions(signed.version, m.version) !== 0) {
        throw new LockstepError('E_SIGNATURE', `The signed manifest of module ${m.id} ${m.version} describes ${signed.module} ${signed.version}; the release was not made.`, { module: m.id });
      }
      if (!satisfies(ref.version, signed.appRange)) {
        this.d.log.warn('fleet.module-not-carried', { module: m.id, version: signed.version, appRange: signed.appRange, release: ref.version });
        continue;
      }
      if (!(await alreadyDownloaded(m.file, signed.file))) {
        throw new LockstepError('E_CHECKSUM', `${m.file} does not match the size and SHA-512 signed for module ${m.id} ${signed.version}; the release was not made.`, { module: m.id, file: m.file });
      }
      const moduleRef = { channel: moduleChannel(ref.channel, m.id), version: signed.version, versionKey: versionSortKey(parseVersion(signed.version)) };
      let info = await this.d.packages.begin(moduleRef, actorOf(this.d.identity), { text: canonicalJson(m.manifest.signed), signature: m.manifest.signature }, {
        fileName: signed.file.name,
        size: signed.file.size,
        sha512: signed.file.sha512,
        chunkSize: this.d.settings.chunkBytes,
        store: 'database',
        catalog: null,
      });
      if (info.state !== 'complete' && (await this.claimOrWait(info))) {
        const detail = await this.uploadChunks(info, m.file, signed.file);
        info = await this.d.packages.complete(info.releaseId, this.d.identity.workstationId);
        await this.d.fleet.audit({ action: 'module-upload', outcome: 'ok', actor: actorOf(this.d.identity), channel: ref.channel, version: ref.version, detail: { ...detail, module: m.id, moduleVersion: signed.version, bytes: signed.file.size } });
      }
      await this.d.fleet.releaseModules.link(app.id, m.id, signed.version, info.releaseId);
      this.d.log.info('fleet.module-carried', { module: m.id, version: signed.version, release: ref.version });
    }
  }

  /** A complete package in a web server or share: still there, byte for byte, before the release flips again. */
  private async ensureInStore(version: string, file: ManifestFile): Promise<void> {
    const store = this.d.fileStore;
    if (!store) return;
    // A share that lost the file gets it back from this workstation's copy, when it has one.
    const local = store.type === 'share' ? await this.d.source.locate(version) : null;
    await store.ensureHolds(file, local?.file ?? null);
  }

  /** True when this workstation holds the upload claim; false when the package became complete while waiting. */
  private async claimOrWait(info: PackageInfo): Promise<boolean> {
    const s = this.d.settings;
    const started = this.clock.now();
    for (;;) {
      if (await this.d.packages.claimUpload(info.releaseId, this.d.identity.workstationId, s.leaseTtlMs)) return true;
      const now = await this.d.packages.info(info.releaseId);
      if (now?.state === 'complete') return false;
      if (this.clock.now() - started > s.maxWaitMs) {
        throw new LockstepError('E_TRANSFER_BUSY', `Workstation ${now?.uploader ?? '?'} is still uploading this package; try again later.`, { uploader: now?.uploader ?? null });
      }
      await this.clock.sleep(s.retryMinMs + Math.floor(this.clock.random() * (s.retryMaxMs - s.retryMinMs + 1)));
    }
  }

  private uploadBlocks(info: PackageInfo, localFile: string, file: ManifestFile): Promise<Record<string, unknown>> {
    const s = this.d.settings;
    return uploadBlocks(new BlockStore(this.d.fleet.db), info, localFile, file, {
      log: this.d.log,
      renew: async () => void (await this.d.packages.claimUpload(info.releaseId, this.d.identity.workstationId, s.leaseTtlMs)),
      renewEveryMs: s.leaseTtlMs / 3,
      ...(this.d.beforeBlockList ? { beforeList: this.d.beforeBlockList } : {}),
    });
  }

  /**
   * Chunk by chunk from the file: the next chunk is read and hashed while the previous one is being written. The
   * whole file's SHA-512 must be the signed one before the package is declared complete.
   */
  private async uploadChunks(info: PackageInfo, localFile: string, file: Pick<ManifestFile, 'sha512'>): Promise<Record<string, unknown>> {
    const stored = await this.d.packages.storedChunks(info.releaseId);
    const whole = createHash('sha512');
    const buffers = [Buffer.allocUnsafe(info.chunkSize), Buffer.allocUnsafe(info.chunkSize)];
    const fd = fs.openSync(localFile, 'r');
    let written = 0;
    let skipped = 0;
    let pending: Promise<void> | null = null;
    let renewedAt = Date.now();
    try {
      for (let seq = 0; seq < info.chunkCount; seq++) {
        const buf = buffers[seq % 2]!;
        const n = fs.readSync(fd, buf, 0, Math.min(info.chunkSize, info.size - seq * info.chunkSize), seq * info.chunkSize);
        const chunk = buf.subarray(0, n);
        whole.update(chunk);
        const sha256 = createHash('sha256').update(chunk).digest('hex');
        if (pending) await pending;
        const have = stored.get(seq);
        if (have && have.size === n && have.sha256 === sha256) {
          skipped++;
          pending = null;
        } else {
          pending = this.d.packages.putChunk(info.releaseId, seq, chunk, sha256);
          written++;
        }
        if (Date.now() - renewedAt > this.d.settings.leaseTtlMs / 3) {
          if (pending) await pending;
          pending = null;
          renewedAt = Date.now();
          await this.d.packages.claimUpload(info.releaseId, this.d.identity.workstationId, this.d.settings.leaseTtlMs);
        }
      }
      if (pending) await pending;
    } finally {
      fs.closeSync(fd);
    }
    if (whole.digest('base64') !== file.sha512) {
      throw new LockstepError('E_SIGNATURE', `The local package ${localFile} is not what the vendor signed; the release was not made.`, { file: localFile });
    }
    return { chunksWritten: written, chunksSkipped: skipped, chunkSize: info.chunkSize };
  }
}
