/**
 * `lockstep feed add` (S20, S21): copies installers into the feed folder and writes, beside them, the electron-builder
 * `generic` layout (latest*.yml for the platforms given, when the version is the newest of its channel) and the signed
 * catalog: every version with date, notes, files, stepping stone, reinstall barrier, editions, its own signed manifest,
 * plus the modules, the security floor and an expiry. The whole catalog is re-signed on every change, which also
 * refreshes its freshness (`feed refresh` does only that).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError } from '../contract/errors';
import { CATALOG_FILE, Catalog, CatalogSchema, CatalogVersion, Manifest, ManifestFile, ModuleManifest, ModuleVersion, Platform, describeZodIssues, isPlainName } from '../kernel/catalogSchema';
import { Signer, SignedDocument, signDocument, verifyDocument } from '../kernel/signing';
import { compareVersions, parseVersion } from '../kernel/version';
import { isValidRange } from '../kernel/versionRange';
import { publishBlockMap } from './blockMapFile';
import { buildUpdateInfo, builderChannel, serializeUpdateInfo, updateInfoFileName } from './updateInfoYaml';

export interface ModuleRelease {
  id: string;
  name?: string;
  version: string;
  appRange: string;
}

export interface CatalogOptions {
  product?: string;
  /** undefined keeps the current floor; null removes it. */
  securityFloor?: string | null;
  modules?: ModuleRelease[];
  validDays?: number;
  now?: Date;
}

export interface AddVersionInput extends CatalogOptions {
  installers: string[];
  version: string;
  channel?: string;
  notes?: string | null;
  platform?: Platform;
  editions?: string[];
  requires?: { version: string; below: string } | null;
  reinstallBelow?: string | null;
  releaseDate?: string;
}

export interface FeedWriteResult {
  catalogFile: string;
  updateInfoFiles: string[];
  manifest: SignedDocument<Manifest>;
  catalog: Catalog;
}

const DEFAULT_PRODUCT = 'Lockstep Demo';

export function platformOfFile(name: string): { platform: Platform; kind: ManifestFile['kind'] } {
  const n = name.toLowerCase();
  if (n.endsWith('.exe') || n.endsWith('.msi') || n.endsWith('.appx')) return { platform: 'win', kind: 'installer' };
  if (n.endsWith('.dmg') || n.endsWith('.pkg')) return { platform: 'mac', kind: 'installer' };
  if (n.endsWith('.zip')) return { platform: /mac|darwin|osx/.test(n) ? 'mac' : 'win', kind: 'zip' };
  if (/\.(appimage|deb|rpm|snap|pacman|tar\.gz|tar\.xz)$/.test(n)) return { platform: 'linux', kind: 'installer' };
  throw new LockstepError('E_USAGE', `Cannot tell the platform of "${name}" from its extension; pass --platform win|mac|linux.`, { file: name });
}

async function describeFile(file: string): Promise<{ size: number; sha512: string }> {
  const hash = createHash('sha512');
  let size = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return { size, sha512: hash.digest('base64') };
}

function writeAtomic(file: string, text: string): void {
  fs.writeFileSync(`${file}.tmp`, text);
  fs.renameSync(`${file}.tmp`, file);
}

/** The current catalog, verified against the vendor's own key so an edited feed folder is noticed before re-signing. */
export function readCatalog(feedDir: string, signer: Signer): Catalog | null {
  const file = path.join(feedDir, CATALOG_FILE);
  if (!fs.existsSync(file)) return null;
  const doc = JSON.parse(fs.readFileSync(file, 'utf8')) as SignedDocument<unknown>;
  verifyDocument(doc, [signer.publicKey], 'catalog in the feed folder');
  return CatalogSchema.parse(doc.signed);
}

function applyModules(catalog: Catalog, modules: readonly ModuleRelease[], releaseDate: string): void {
  for (const m of modules) {
    parseVersion(m.version);
    if (!isValidRange(m.appRange)) throw new LockstepError('E_USAGE', `"${m.appRange}" is not a version range (module ${m.id}).`);
    let mod = catalog.modules.find((x) => x.id === m.id);
    if (!mod) {
      mod = { id: m.id, name: m.name ?? m.id, versions: [] };
      catalog.modules.push(mod);
    }
    if (m.name) mod.name = m.name;
    const existing = mod.versions.find((v) => compareVersions(v.version, m.version) === 0);
    // A declared range must agree with the one signed into the version's package, or the catalog would contradict it.
    if (existing?.manifest && existing.appRange !== m.appRange) {
      throw new LockstepError('E_USAGE', `Module ${m.id} ${m.version} has a package signed for app versions "${existing.appRange}"; add the package again with feed add-module to change its range.`, { module: m.id });
    }
    const entry: ModuleVersion = existing?.manifest ? existing : { version: m.version, appRange: m.appRange, releaseDate };
    mod.versions = [...mod.versions.filter((v) => v !== existing), entry].sort((a, b) => compareVersions(a.version, b.version));
  }
}

/** Every file name the feed already uses (installers and module packages), with its owner for the error message. */
function namesInFeed(catalog: Catalog): Map<string, string> {
  const names = new Map<string, string>();
  for (const v of catalog.versions) for (const f of v.manifest.signed.files) names.set(f.name, `version ${v.version}`);
  for (const mod of catalog.modules) for (const v of mod.versions) if (v.manifest) names.set(v.manifest.signed.file.name, `module ${mod.id} ${v.version}`);
  return names;
}

function finish(feedDir: string, catalog: Catalog, options: CatalogOptions, signer: Signer): Catalog {
  const now = options.now ?? new Date();
  const validDays = options.validDays ?? 30;
  if (!(validDays > 0)) throw new LockstepError('E_USAGE', '--valid-days must be a positive number.');
  if (options.product) catalog.product = options.product;
  if (options.securityFloor !== undefined) catalog.securityFloor = options.securityFloor === null ? null : parseVersion(options.securityFloor).raw;
  applyModules(catalog, options.modules ?? [], now.toISOString());
  stampFloor(catalog, signer);
  catalog.issuedAt = now.toISOString();
  catalog.expiresAt = new Date(now.getTime() + validDays * 24 * 3600_000).toISOString();
  const parsed = CatalogSchema.safeParse(catalog);
  if (!parsed.success) throw new LockstepError('E_USAGE', `The catalog would be invalid: ${describeZodIssues(parsed.error)}`);
  writeAtomic(path.join(feedDir, CATALOG_FILE), JSON.stringify(signDocument(parsed.data, signer), null, 2) + '\n');
  return parsed.data;
}

/**
 * Every version's manifest carries the catalog's current floor (S31): a manifest signed under another floor is signed
 * again, so a workstation learns the floor from whichever version's manifest reaches it, catalog or no catalog.
 */
function stampFloor(catalog: Catalog, signer: Signer): void {
  for (const v of catalog.versions) {
    if (v.manifest.signed.securityFloor === catalog.securityFloor) continue;
    v.manifest = signDocument<Manifest>({ ...v.manifest.signed, securityFloor: catalog.securityFloor }, signer);
  }
}

function emptyCatalog(product: string): Catalog {
  return { type: 'lockstep-catalog', product, issuedAt: '', expiresAt: '', securityFloor: null, versions: [], modules: [] };
}

export async function addVersion(feedDir: string, input: AddVersionInput, signer: Signer): Promise<FeedWriteResult> {
  const version = parseVersion(input.version).raw;
  const channel = input.channel ?? 'stable';
  const now = input.now ?? new Date();
  const releaseDate = input.releaseDate ? new Date(input.releaseDate).toISOString() : now.toISOString();
  if (input.installers.length === 0) throw new LockstepError('E_USAGE', 'Name at least one installer.');
  fs.mkdirSync(feedDir, { recursive: true });
  const catalog = readCatalog(feedDir, signer) ?? emptyCatalog(input.product ?? DEFAULT_PRODUCT);

  const files: ManifestFile[] = [];
  for (const installer of input.installers) {
    const name = path.basename(installer);
    if (!isPlainName(name)) throw new LockstepError('E_USAGE', `"${name}" is not a plain file name (letters, digits, space, . _ + ( ) -).`, { file: name });
    if (!fs.existsSync(installer)) throw new LockstepError('E_USAGE', `${installer} does not exist.`, { file: installer });
    const inFeed = path.join(feedDir, name);
    if (path.resolve(installer) !== path.resolve(inFeed)) fs.copyFileSync(installer, inFeed);
    const detected = platformOfFile(name);
    const described = await describeFile(inFeed);
    const blockMap = await publishBlockMap(installer, feedDir, name, described.size);
    files.push({ name, platform: input.platform ?? detected.platform, kind: detected.kind, ...described, blockMap });
  }
  const own = new Set(catalog.versions.find((v) => compareVersions(v.version, version) === 0)?.manifest.signed.files.map((f) => f.name) ?? []);
  for (const [name, owner] of namesInFeed(catalog)) {
    if (!own.has(name) && files.some((f) => f.name === name)) throw new LockstepError('E_USAGE', `${name} already belongs to ${owner}; installers need version-specific names.`, { file: name });
  }

  const manifest = signDocument<Manifest>({ type: 'lockstep-manifest', product: catalog.product, version, channel, releaseDate, files }, signer);
  const entry: CatalogVersion = {
    version,
    channel,
    releaseDate,
    notes: input.notes ?? '',
    editions: input.editions ?? [],
    requires: input.requires ? { version: parseVersion(input.requires.version).raw, below: parseVersion(input.requires.below).raw } : null,
    reinstallBelow: input.reinstallBelow ? parseVersion(input.reinstallBelow).raw : null,
    manifest,
  };
  catalog.versions = [...catalog.versions.filter((v) => compareVersions(v.version, version) !== 0), entry].sort((a, b) => compareVersions(a.version, b.version));
  const written = finish(feedDir, catalog, { ...input, now }, signer);

  const updateInfoFiles: string[] = [];
  const newest = written.versions.filter((v) => v.channel === channel).at(-1)!;
  if (compareVersions(newest.version, version) === 0) {
    for (const platform of new Set(files.map((f) => f.platform))) {
      const file = path.join(feedDir, updateInfoFileName(builderChannel(channel), platform));
      writeAtomic(file, serializeUpdateInfo(buildUpdateInfo(version, files.filter((f) => f.platform === platform), releaseDate, input.notes ?? null)));
      updateInfoFiles.push(file);
    }
  }
  // The manifest as finally signed, with the catalog's floor in it.
  const signedManifest = written.versions.find((v) => compareVersions(v.version, version) === 0)!.manifest;
  return { catalogFile: path.join(feedDir, CATALOG_FILE), updateInfoFiles, manifest: signedManifest, catalog: written };
}

export interface AddModuleInput {
  /** The module package file (copied into the feed under its own, plain name). */
  file: string;
  id: string;
  name?: string;
  version: string;
  /** The app versions this module version supports, e.g. ">=7.0 <8.0" (versionRange.ts). */
  appRange: string;
  releaseDate?: string;
  validDays?: number;
  now?: Date;
}

export interface AddModuleResult {
  catalogFile: string;
  manifest: SignedDocument<ModuleManifest>;
  catalog: Catalog;
}

/**
 * `lockstep feed add-module` (S6): a module package becomes version V of module ID. The file goes into the feed beside
 * the installers; its name, size and SHA-512 and the app range it supports are signed in a module manifest, which the
 * catalog carries — so workstations fetch and check it exactly like an app file. The catalog is re-signed.
 */
export async function addModule(feedDir: string, input: AddModuleInput, signer: Signer): Promise<AddModuleResult> {
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/i.test(input.id)) throw new LockstepError('E_USAGE', `"${input.id}" is not a module id (letters, digits, . _ -).`, { module: input.id });
  const version = parseVersion(input.version).raw;
  if (!isValidRange(input.appRange)) throw new LockstepError('E_USAGE', `"${input.appRange}" is not a version range (module ${input.id}).`);
  const catalog = readCatalog(feedDir, signer);
  if (!catalog) throw new LockstepError('E_NOT_FOUND', `${path.join(feedDir, CATALOG_FILE)} does not exist; add an app version first.`);
  const name = path.basename(input.file);
  if (!isPlainName(name)) throw new LockstepError('E_USAGE', `"${name}" is not a plain file name (letters, digits, space, . _ + ( ) -).`, { file: name });
  if (!fs.existsSync(input.file) || !fs.statSync(input.file).isFile()) throw new LockstepError('E_USAGE', `${input.file} does not exist.`, { file: input.file });
  const mod = catalog.modules.find((m) => m.id === input.id);
  const replaced = mod?.versions.find((v) => compareVersions(v.version, version) === 0)?.manifest?.signed.file.name;
  const owner = namesInFeed(catalog).get(name);
  if (owner && name !== replaced) throw new LockstepError('E_USAGE', `${name} already belongs to ${owner}; module packages need version-specific names.`, { file: name });

  const inFeed = path.join(feedDir, name);
  if (path.resolve(input.file) !== path.resolve(inFeed)) fs.copyFileSync(input.file, inFeed);
  const now = input.now ?? new Date();
  const releaseDate = input.releaseDate ? new Date(input.releaseDate).toISOString() : now.toISOString();
  const displayName = input.name ?? mod?.name ?? input.id;
  const manifest = signDocument<ModuleManifest>({ type: 'lockstep-module-manifest', product: catalog.product, module: input.id, name: displayName, version, appRange: input.appRange, releaseDate, file: { name, ...(await describeFile(inFeed)) } }, signer);
  const entry: ModuleVersion = { version, appRange: input.appRange, releaseDate, manifest };
  if (mod) {
    mod.name = displayName;
    mod.versions = [...mod.versions.filter((v) => compareVersions(v.version, version) !== 0), entry].sort((a, b) => compareVersions(a.version, b.version));
  } else {
    catalog.modules.push({ id: input.id, name: displayName, versions: [entry] });
  }
  const written = finish(feedDir, catalog, { validDays: input.validDays, now }, signer);
  return { catalogFile: path.join(feedDir, CATALOG_FILE), manifest, catalog: written };
}

/** Re-signs the catalog with a new expiry (a vendor's periodic job), optionally adding module releases or a floor. */
export function refreshCatalog(feedDir: string, options: CatalogOptions, signer: Signer): Catalog {
  const catalog = readCatalog(feedDir, signer);
  if (!catalog) throw new LockstepError('E_NOT_FOUND', `${path.join(feedDir, CATALOG_FILE)} does not exist; add a version first.`);
  return finish(feedDir, catalog, options, signer);
}
