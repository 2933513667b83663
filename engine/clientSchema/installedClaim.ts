/**
 * Where the installed version's schema claim comes from — only ever from a manifest whose vendor signature this
 * workstation verifies with its own trusted keys (built in plus the machine configuration), and which names exactly
 * the installed version:
 *  1. the version's row in the shared database (every released or uploaded version stores its signed manifest), else
 *  2. the signed catalog this workstation last fetched from the vendor feed (kept in its feed cache: each version's
 *     manifest is signed on its own), which covers a version installed from the feed and not yet released.
 * Neither source can be made to say something the vendor did not sign; a manifest that fails its check is E_SIGNATURE
 * and stops the start. With neither (a version installed by hand and never released), the version has no claim and,
 * like one signed before claims existed, works on every level: a database writer who removed the row gains nothing
 * he could not do with the database directly.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError } from '../../contract/errors';
import type { FleetStore } from '../../db/fleetStore';
import type { Manifest } from '../../kernel/catalogSchema';
import type { Logger } from '../../kernel/log';
import type { SchemaClaim } from '../../kernel/schemaClaim';
import type { SignedDocument } from '../../kernel/signing';
import { compareVersions, Version, versionSortKey } from '../../kernel/version';
import { verifyManifest } from '../feed/download';
import { storedClaim } from '../schema/storedClaim';

export interface InstalledClaimDeps {
  fleet: FleetStore;
  channel: string;
  trustedKeys: readonly string[];
  /** The feed cache folder (catalog-cache.json); null without a feed. */
  feedCacheDir: string | null;
  log: Logger;
}

export interface InstalledClaim {
  claim: SchemaClaim | null;
  /** Where the verified manifest came from (for the log and `schema status`). */
  from: 'database' | 'feed-cache' | 'none';
}

function verifiedFor(doc: SignedDocument<unknown>, keys: readonly string[], version: Version, where: string): Manifest {
  let manifest: Manifest;
  try {
    manifest = verifyManifest(doc, keys);
  } catch (err) {
    if (err instanceof LockstepError && err.code === 'E_SIGNATURE') {
      throw new LockstepError('E_SIGNATURE', `The manifest of the installed version ${version.raw} in ${where} is not what the vendor signed; its schema claim cannot be trusted. IT must check ${where}.`, { version: version.raw, where });
    }
    throw err;
  }
  // A genuine manifest of another version would lend this one its claim.
  if (compareVersions(manifest.version, version) !== 0) throw new LockstepError('E_SIGNATURE', `${where} holds the signed manifest of version ${manifest.version} for the installed version ${version.raw}.`, { version: version.raw, where });
  return manifest;
}

/** The claim in the installed version's row, checked like every stored claim (storedClaim.ts); null: no signed manifest there. */
async function fromDatabase(d: InstalledClaimDeps, version: Version): Promise<{ claim: SchemaClaim | null } | null> {
  // One row by its key: this runs on every start, where reading the whole ledger (manifests included) would cost.
  const row = await d.fleet.releases.find({ channel: d.channel, versionKey: versionSortKey(version) });
  if (!row || row.manifest === null || row.manifestSignature === null) return null;
  return { claim: storedClaim(row, d.trustedKeys) };
}

function fromFeedCache(d: InstalledClaimDeps, version: Version): Manifest | null {
  if (!d.feedCacheDir) return null;
  let entry: SignedDocument<unknown> | undefined;
  try {
    const cache = JSON.parse(fs.readFileSync(path.join(d.feedCacheDir, 'catalog-cache.json'), 'utf8')) as { text?: unknown };
    const catalog = JSON.parse(String(cache.text)) as { signed?: { versions?: Array<{ version?: unknown; manifest?: SignedDocument<unknown> }> } };
    entry = catalog.signed?.versions?.find((v) => typeof v.version === 'string' && compareVersions(v.version, version) === 0)?.manifest;
  } catch {
    return null; // no cache (yet): the feed was never reached from here
  }
  return entry ? verifiedFor(entry, d.trustedKeys, version, 'the feed cache') : null;
}

export async function installedClaim(d: InstalledClaimDeps, version: Version): Promise<InstalledClaim> {
  let stored: { claim: SchemaClaim | null } | null = null;
  try {
    stored = await fromDatabase(d, version);
  } catch (err) {
    // A manifest that fails its check stops here; a database not reachable (or not set up yet) leaves the feed cache.
    if (err instanceof LockstepError && err.code === 'E_SIGNATURE') throw err;
    d.log.warn('schema.claim-from-database-failed', { version: version.raw, message: (err as Error).message });
  }
  if (stored) return { claim: stored.claim, from: 'database' };
  const cached = fromFeedCache(d, version);
  if (cached) return { claim: cached.schema ?? null, from: 'feed-cache' };
  d.log.info('schema.no-signed-manifest', { version: version.raw });
  return { claim: null, from: 'none' };
}
