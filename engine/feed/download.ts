/**
 * Downloading one signed version through electron-updater (S7, S18): verify the manifest first (nothing unsigned is
 * ever requested, and a non-plain file name is refused before any request), pin electron-updater's generic provider
 * to that version, let it drive the transfer through Lockstep's executor (progress, Range resume, SHA-512, hard stop
 * at the signed size), then check the manifest signature and the file on disk once more before anyone installs it.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CancellationToken, ProgressInfo } from 'builder-util-runtime';
import { LockstepError, toLockstepError } from '../../contract/errors';
import type { DownloadedModule } from '../../contract/update';
import { Logger } from '../../kernel/log';
import { SignedDocument, canonicalJson, verifyDocument } from '../../kernel/signing';
import { NodeAppAdapter } from './appAdapter';
import { Manifest, ManifestFile, ManifestSchema, ModuleManifest, ModuleManifestSchema, Platform, describeZodIssues, isPlainName } from '../../kernel/catalogSchema';
import { LockstepHttpExecutor } from './executor';
import { FeedHttp } from './http';
import { PinnedGenericProvider, pinnedUpdateInfo } from './pinnedProvider';
import { ResumableDownloader } from './resumableDownload';
import { DownloadOnlyUpdater, setExecutor, updaterLogger } from './downloadOnlyUpdater';
import { FeedSource } from './feedSource';
import { KeptPackage } from '../keptPackage';
import { DeltaBase, DeltaReport, downloadDifferential, openVerifiedBase } from './differentialDownload';

/** Everything a feed operation needs, composed once from the machine configuration (feed/context.ts). */
export interface FeedContext {
  /** Base URL, always ending in "/". */
  feedUrl: string;
  cacheDir: string;
  trustedKeys: readonly string[];
  http: FeedHttp;
  /** The feed's files: its HTTP server, or a folder or share (feedSource.ts), chosen once with the context. */
  source: FeedSource;
  platform: Platform;
  log: Logger;
  /** How far a catalog's issue time may lie ahead of this clock before it is reported (default 5 minutes). */
  catalogClockSkewMs?: number;
  /** The installed version's package (keptPackage.ts): kept after installs, the base of differential downloads. */
  keptPackage?: KeptPackage;
}

export interface DownloadedVersion {
  version: string;
  file: string;
  fileInfo: ManifestFile;
  /** The signed manifest as text + signature: what travels into the shared database with a release. */
  manifestText: string;
  manifestSignature: string;
  /** How the file arrived: differentially (and what it cost) or, with the reason, in full; null when already here. */
  delta: DeltaReport | null;
}

export function partialDir(cacheDir: string): string {
  return path.join(cacheDir, 'partial');
}

/** Verifies a signed manifest and returns it typed; E_SIGNATURE when changed, E_FEED_INVALID when malformed. */
export function verifyManifest(doc: SignedDocument<unknown>, trustedKeys: readonly string[]): Manifest {
  verifyDocument(doc, trustedKeys, 'manifest');
  const parsed = ManifestSchema.safeParse(doc.signed);
  if (!parsed.success) throw new LockstepError('E_FEED_INVALID', `The signed manifest is malformed: ${describeZodIssues(parsed.error)}`);
  return parsed.data;
}

/** The file this platform installs from: its installer, else its zip. */
export function fileForPlatform(manifest: Manifest, platform: Platform): ManifestFile {
  const mine = manifest.files.filter((f) => f.platform === platform);
  const file = mine.find((f) => f.kind === 'installer') ?? mine.find((f) => f.kind === 'zip');
  if (!file) throw new LockstepError('E_NOT_FOUND', `Version ${manifest.version} has no installer for ${platform}.`, { version: manifest.version, platform });
  if (!isPlainName(file.name)) throw new LockstepError('E_FEED_INVALID', `The file name "${file.name}" is not a plain file name; nothing was requested.`, { name: file.name });
  return file;
}

export interface DownloadOptions {
  onProgress?: (p: ProgressInfo) => void;
  cancellationToken?: CancellationToken;
  /** An earlier version's verified download (the previous step of a chain): a delta base before the kept package. */
  previous?: Pick<DownloadedVersion, 'version' | 'file' | 'fileInfo'>;
}

export async function downloadVersion(ctx: FeedContext, signedManifest: SignedDocument<unknown>, options: DownloadOptions = {}): Promise<DownloadedVersion> {
  const manifest = verifyManifest(signedManifest, ctx.trustedKeys);
  const file = fileForPlatform(manifest, ctx.platform);
  const got = await fetchSignedFile(ctx, { version: manifest.version, releaseDate: manifest.releaseDate, file, reverify: () => verifyManifest(signedManifest, ctx.trustedKeys) }, options);
  return { version: manifest.version, file: got.path, fileInfo: file, manifestText: canonicalJson(signedManifest.signed), manifestSignature: signedManifest.signature, delta: got.delta };
}

/** Verifies a module's signed manifest (S6); E_SIGNATURE when changed, E_FEED_INVALID when malformed. */
export function verifyModuleManifest(doc: SignedDocument<unknown>, trustedKeys: readonly string[]): ModuleManifest {
  verifyDocument(doc, trustedKeys, 'module manifest');
  const parsed = ModuleManifestSchema.safeParse(doc.signed);
  if (!parsed.success) throw new LockstepError('E_FEED_INVALID', `The signed module manifest is malformed: ${describeZodIssues(parsed.error)}`);
  return parsed.data;
}

/** A module package: the same verified, resumable, hashed path as the app's files, into the same downloads folder. */
export async function downloadModule(ctx: FeedContext, signedManifest: SignedDocument<unknown>, options: DownloadOptions = {}): Promise<DownloadedModule> {
  const m = verifyModuleManifest(signedManifest, ctx.trustedKeys);
  const { path: file } = await fetchSignedFile(ctx, { version: m.version, releaseDate: m.releaseDate, file: m.file, reverify: () => verifyModuleManifest(signedManifest, ctx.trustedKeys) }, options);
  return { id: m.module, name: m.name, version: m.version, file, manifestText: canonicalJson(signedManifest.signed), manifestSignature: signedManifest.signature };
}

interface SignedFile {
  version: string;
  releaseDate: string;
  file: Pick<ManifestFile, 'name' | 'size' | 'sha512' | 'blockMap'>;
  /** Checks the signature once more after the transfer. */
  reverify: () => void;
}

/** One file a verified manifest lists, into <cache>/downloads: differentially when it can, else in full. */
async function fetchSignedFile(ctx: FeedContext, signed: SignedFile, options: DownloadOptions): Promise<{ path: string; delta: DeltaReport | null }> {
  const { file, version } = signed;
  if (!isPlainName(file.name)) throw new LockstepError('E_FEED_INVALID', `The file name "${file.name}" is not a plain file name; nothing was requested.`, { name: file.name });
  const finalPath = path.join(downloadsDir(ctx.cacheDir), file.name);
  if (await alreadyDownloaded(finalPath, file)) {
    ctx.log.info('feed.already-downloaded', { version, file: finalPath });
    return { path: finalPath, delta: null };
  }
  const delta = await tryDifferential(ctx, signed, finalPath, options);
  if (delta.used) return { path: finalPath, delta };
  return { path: await fetchFull(ctx, signed, finalPath, options), delta };
}

/**
 * The differential path (differentialDownload.ts) against the first verified base: the previous step of a chain,
 * else the installed version's kept package. The assembled file passed the signed SHA-512 there; the manifest
 * signature is checked once more here, as after a full download.
 */
async function tryDifferential(ctx: FeedContext, signed: SignedFile, finalPath: string, options: DownloadOptions): Promise<DeltaReport> {
  const { file } = signed;
  const target = { url: new URL(file.name, ctx.feedUrl), file };
  if (!file.blockMap || ctx.source.kind !== 'http') return downloadDifferential(ctx, target, null, finalPath, options);
  const previous = options.previous;
  let base: DeltaBase | null = previous && previous.fileInfo.sha512 !== file.sha512 ? await openVerifiedBase(previous.file, { version: previous.version, ...previous.fileInfo }) : null;
  base ??= (await ctx.keptPackage?.openBase()) ?? null;
  if (base?.sha512 === file.sha512) {
    base.close();
    base = null;
  }
  try {
    const report = await downloadDifferential(ctx, target, base, finalPath, options);
    if (report.used) {
      try {
        signed.reverify();
      } catch (err) {
        fs.rmSync(finalPath, { force: true });
        throw err;
      }
    }
    return report;
  } finally {
    base?.close();
  }
}

/** One file a verified manifest lists, in full, through electron-updater and Lockstep's executor. */
async function fetchFull(ctx: FeedContext, signed: SignedFile, finalPath: string, options: DownloadOptions): Promise<string> {
  const { file, version } = signed;

  const executor = new LockstepHttpExecutor(ctx.http, new ResumableDownloader(ctx.http, partialDir(ctx.cacheDir), ctx.source));
  executor.expect(file.sha512, file.size);
  const updater = new DownloadOnlyUpdater(new NodeAppAdapter(ctx.cacheDir, ctx.feedUrl));
  updater.logger = updaterLogger(ctx.log);
  setExecutor(updater, executor); // before setFeedURL: the provider takes the executor when it is built
  updater.setFeedURL({ provider: 'custom', url: ctx.feedUrl, updateProvider: PinnedGenericProvider, pinned: pinnedUpdateInfo(version, signed.releaseDate, file) } as never);
  if (options.onProgress) updater.on('download-progress', options.onProgress);
  updater.on('error', () => undefined); // failures arrive as rejections below; the event would only duplicate them

  let downloaded: string;
  try {
    const check = await updater.checkForUpdates();
    if (!check?.isUpdateAvailable) throw new LockstepError('E_INTERNAL', `electron-updater did not accept version ${version}.`);
    const files = await updater.downloadUpdate(options.cancellationToken ?? new CancellationToken());
    downloaded = files[0]!;
  } catch (err) {
    const e = toLockstepError(err);
    ctx.log.error('feed.download-failed', { version, file: file.name, code: e.code, message: e.message });
    throw e;
  }

  // Then the manifest signature: what is handed to the installer must be exactly what the vendor signed.
  signed.reverify();
  const size = fs.statSync(downloaded).size;
  if (size !== file.size) {
    fs.rmSync(downloaded, { force: true });
    throw new LockstepError('E_CHECKSUM', `${file.name} has ${size} bytes, the signed manifest says ${file.size}.`, { file: file.name });
  }
  // electron-updater's pending folder holds one update; a chain needs every step, so finished files move out of it.
  fs.mkdirSync(path.dirname(finalPath), { recursive: true });
  fs.renameSync(downloaded, finalPath);
  ctx.log.info('feed.downloaded', { version, file: finalPath, size });
  return finalPath;
}

export function downloadsDir(cacheDir: string): string {
  return path.join(cacheDir, 'downloads');
}

/** A finished earlier download (e.g. before a restart) is reused only if its bytes still match the signed manifest. */
export async function alreadyDownloaded(file: string, info: Pick<ManifestFile, 'size' | 'sha512'>): Promise<boolean> {
  try {
    if (fs.statSync(file).size !== info.size) return false;
  } catch {
    return false;
  }
  const hash = createHash('sha512');
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1024 * 1024 })) hash.update(chunk as Buffer);
  return hash.digest('base64') === info.sha512;
}
