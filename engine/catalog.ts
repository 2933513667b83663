/**
 * The signed catalog (S3, S18, S21): fetched with a conditional request (an unchanged catalog costs one 304), verified
 * against the trusted vendor keys, validated (plain file names only), and refused when expired (freshness) or older
 * than one this workstation has already seen (a replayed old feed must not hide newer versions).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError, isLockstepError } from '../contract/errors';
import { Warning } from '../contract/update';
import { CATALOG_FILE, Catalog, CatalogSchema, NOTES_CUT_MARKER, capNotes, describeZodIssues } from '../kernel/catalogSchema';
import { futureIssueWarning } from './feed/catalogClock';
import { FeedContext, verifyManifest, verifyModuleManifest } from './feed/download';
import { SignedDocument, verifyDocument } from '../kernel/signing';
import { compareVersions } from '../kernel/version';

export interface FetchedCatalog {
  catalog: Catalog;
  /** The server answered 304: the cached copy was re-verified and used. */
  notModified: boolean;
  /** Set when the catalog's issue time lies ahead of this workstation's clock beyond the allowed skew (logged too). */
  clockWarning: Warning | null;
}

function reportFutureIssue(ctx: FeedContext, catalog: Catalog, now: Date): Warning | null {
  const warning = futureIssueWarning(catalog, now, ctx.catalogClockSkewMs);
  if (warning) ctx.log.warn('feed.catalog-from-future', { issuedAt: warning.issuedAt, checkedAt: warning.checkedAt, aheadMs: warning.aheadMs });
  return warning;
}

interface CatalogCache {
  etag: string | null;
  lastModified: string | null;
  issuedAt: string;
  text: string;
}

function cacheFile(cacheDir: string): string {
  return path.join(cacheDir, 'catalog-cache.json');
}

function readCache(cacheDir: string): CatalogCache | null {
  try {
    return JSON.parse(fs.readFileSync(cacheFile(cacheDir), 'utf8')) as CatalogCache;
  } catch {
    return null;
  }
}

function writeCache(cacheDir: string, cache: CatalogCache): void {
  fs.mkdirSync(cacheDir, { recursive: true });
  const file = cacheFile(cacheDir);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(cache));
  fs.renameSync(`${file}.tmp`, file);
}

/** Parses, verifies and validates catalog text. Throws E_SIGNATURE, E_FEED_INVALID or E_CATALOG_STALE. */
export function verifyCatalog(text: string, trustedKeys: readonly string[], now: Date): Catalog {
  let doc: SignedDocument<unknown>;
  try {
    doc = JSON.parse(text) as SignedDocument<unknown>;
  } catch {
    throw new LockstepError('E_SIGNATURE', 'The catalog is not valid JSON (damaged or changed in transit).');
  }
  verifyDocument(doc, trustedKeys, 'catalog');
  // After the signature (it covers the full notes): over-long notes degrade their own version, not the catalog.
  const cutNotes = capNotes(doc.signed);
  const parsed = CatalogSchema.safeParse(doc.signed);
  if (!parsed.success) throw new LockstepError('E_FEED_INVALID', `The signed catalog is malformed: ${describeZodIssues(parsed.error)}`);
  const catalog: Catalog = parsed.data;
  catalog.versions = catalog.versions.map((v, i) => (cutNotes.has(i) ? { ...v, notes: v.notes + NOTES_CUT_MARKER, notesTruncated: true } : v));
  for (const v of catalog.versions) {
    const manifest = verifyManifest(v.manifest, trustedKeys);
    if (compareVersions(manifest.version, v.version) !== 0 || manifest.channel !== v.channel) {
      throw new LockstepError('E_FEED_INVALID', `The manifest of version ${v.version} describes ${manifest.version} (${manifest.channel}).`, { version: v.version });
    }
  }
  for (const mod of catalog.modules) {
    for (const v of mod.versions) {
      if (!v.manifest) continue;
      const m = verifyModuleManifest(v.manifest, trustedKeys);
      if (m.module !== mod.id || compareVersions(m.version, v.version) !== 0 || m.appRange !== v.appRange) {
        throw new LockstepError('E_FEED_INVALID', `The package manifest of module ${mod.id} ${v.version} describes ${m.module} ${m.version} for app versions ${m.appRange}.`, { module: mod.id, version: v.version });
      }
    }
  }
  refuseExpired(catalog, now);
  return catalog;
}

function refuseExpired(catalog: Catalog, now: Date): void {
  if (Date.parse(catalog.expiresAt) < now.getTime()) {
    throw new LockstepError('E_CATALOG_STALE', `The catalog expired on ${catalog.expiresAt}; the feed is no longer refreshed by the vendor (or an old copy is being served).`, {
      expiresAt: catalog.expiresAt,
    });
  }
}

/**
 * The catalog this process last verified, per cache folder: the exact text and the keys it was verified against, and
 * the result (frozen, so no caller can change what the next check reuses). An unchanged catalog (304) whose cached
 * text is that same text, checked against the same keys, needs neither the signatures nor the schema again — only the
 * expiry, which depends on the time. Any other text, or other keys, is verified in full.
 */
const verifiedHere = new Map<string, { text: string; keys: string; catalog: Catalog }>();

function keysKey(trustedKeys: readonly string[]): string {
  return trustedKeys.join('\n');
}

function verifiedOnce(ctx: FeedContext, text: string, now: Date): Catalog {
  const held = verifiedHere.get(ctx.cacheDir);
  const keys = keysKey(ctx.trustedKeys);
  if (held && held.text === text && held.keys === keys) {
    refuseExpired(held.catalog, now);
    return held.catalog;
  }
  const catalog = deepFreeze(verifyCatalog(text, ctx.trustedKeys, now));
  verifiedHere.set(ctx.cacheDir, { text, keys, catalog });
  return catalog;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export async function fetchCatalog(ctx: FeedContext, now: Date = new Date()): Promise<FetchedCatalog> {
  const url = new URL(CATALOG_FILE, ctx.feedUrl);
  const cache = readCache(ctx.cacheDir);
  const conditional: Record<string, string> = {};
  if (cache?.etag) conditional['If-None-Match'] = cache.etag;
  if (cache?.lastModified) conditional['If-Modified-Since'] = cache.lastModified;
  const res = await ctx.http.withRetries(url, 'checking for updates', () => ctx.source.get(url, conditional), undefined, (err, u, what) => ctx.source.translate(err, u, what));
  if (res.status === 304 && cache) {
    try {
      const catalog = verifiedOnce(ctx, cache.text, now);
      return { catalog, notModified: true, clockWarning: reportFutureIssue(ctx, catalog, now) };
    } catch (err) {
      // A cached copy that no longer verifies (keys changed, file damaged) is dropped; the next check fetches anew.
      if (!isLockstepError(err, 'E_CATALOG_STALE')) fs.rmSync(cacheFile(ctx.cacheDir), { force: true });
      throw err;
    }
  }
  const text = res.body.toString('utf8');
  const catalog = verifiedOnce(ctx, text, now);
  if (cache && Date.parse(catalog.issuedAt) < Date.parse(cache.issuedAt)) {
    throw new LockstepError('E_CATALOG_STALE', `The feed served a catalog issued ${catalog.issuedAt}, older than the one already seen (${cache.issuedAt}).`, {
      issuedAt: catalog.issuedAt,
      seen: cache.issuedAt,
    });
  }
  const header = (h: string | string[] | undefined) => (typeof h === 'string' ? h : null);
  writeCache(ctx.cacheDir, { etag: header(res.headers.etag), lastModified: header(res.headers['last-modified']), issuedAt: catalog.issuedAt, text });
  return { catalog, notModified: false, clockWarning: reportFutureIssue(ctx, catalog, now) };
}
