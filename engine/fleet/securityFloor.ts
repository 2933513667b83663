/**
 * The vendor's security floor (S15): no release pointer may take a workstation below it. Known from the machine
 * configuration (IT) and from every vendor-signed catalog stored with a release; the highest wins. A catalog that
 * does not verify is ignored (and logged): a database writer can delete catalogs but never lower the floor with a
 * forged one, and the configuration floor holds regardless.
 */
import { PackageStore } from '../../db/packageStore';
import { CatalogSchema, capNotes } from '../../kernel/catalogSchema';
import { Logger } from '../../kernel/log';
import { FloorRecord } from '../../kernel/localFloor';
import { verifyDocument } from '../../kernel/signing';
import { Version, compareVersions, parseVersion } from '../../kernel/version';

function higher(a: Version | null, b: Version | null): Version | null {
  if (!a) return b;
  if (!b) return a;
  return compareVersions(a, b) >= 0 ? a : b;
}

export async function securityFloor(configured: string | undefined, packages: PackageStore, trustedKeys: readonly string[], log: Logger): Promise<Version | null> {
  return (await knownSecurityFloor(configured, packages, trustedKeys, log)).floor;
}

/**
 * The same, saying whether anything stated a floor at all: IT's configured floor, or any verified catalog (whose
 * `securityFloor: null` is the vendor saying "no floor"). Nothing stated = unknown, and unknown refuses a move back.
 */
export async function knownSecurityFloor(configured: string | undefined, packages: PackageStore, trustedKeys: readonly string[], log: Logger): Promise<FloorRecord> {
  let floor: Version | null = configured ? parseVersion(configured) : null;
  let known = Boolean(configured);
  for (const text of await packages.catalogs((releaseId, chars) => log.warn('fleet.catalog-ignored', { releaseId, chars, reason: 'oversized' }))) {
    try {
      const doc = JSON.parse(text) as { signed: unknown; signature: string };
      verifyDocument(doc, trustedKeys, 'stored catalog');
      capNotes(doc.signed); // over-long notes cut after the signature, as the feed check does: the floor still counts
      const catalog = CatalogSchema.parse(doc.signed);
      known = true;
      if (catalog.securityFloor) floor = higher(floor, parseVersion(catalog.securityFloor));
    } catch (err) {
      log.warn('fleet.catalog-ignored', { message: (err as Error).message });
    }
  }
  return { known, floor };
}
