/**
 * The release notes of a version from the vendor-signed catalogs stored in the shared database with the released
 * packages, for the release question when this session has not checked the feed. Only a catalog whose signature
 * verifies with the vendor's keys counts (a database writer can store any text); the notes are the ones the vendor
 * signed, cut like the feed check cuts them, and rendered and sanitized by the caller like every other notes text.
 * Of several catalogs that describe the version, the newest (issuedAt) wins.
 */
import { PackageStore } from '../../db/packageStore';
import { CatalogSchema, NOTES_CUT_MARKER, capNotes } from '../../kernel/catalogSchema';
import { Logger } from '../../kernel/log';
import { verifyDocument } from '../../kernel/signing';
import { compareVersions, isVersion } from '../../kernel/version';

export async function storedReleaseNotes(packages: PackageStore, trustedKeys: readonly string[], version: string, log: Logger): Promise<string | null> {
  if (!isVersion(version)) return null;
  let best: { issuedAt: number; notes: string } | null = null;
  for (const text of await packages.catalogs((releaseId, chars) => log.warn('fleet.catalog-ignored', { releaseId, chars, reason: 'oversized' }))) {
    try {
      const doc = JSON.parse(text) as { signed: unknown; signature: string };
      verifyDocument(doc, trustedKeys, 'stored catalog');
      const cut = capNotes(doc.signed);
      const catalog = CatalogSchema.parse(doc.signed);
      const index = catalog.versions.findIndex((v) => isVersion(v.version) && compareVersions(v.version, version) === 0);
      if (index < 0) continue;
      const issuedAt = Date.parse(catalog.issuedAt);
      if (best && best.issuedAt >= issuedAt) continue;
      best = { issuedAt, notes: catalog.versions[index]!.notes + (cut.has(index) ? NOTES_CUT_MARKER : '') };
    } catch (err) {
      log.warn('fleet.catalog-ignored', { message: (err as Error).message });
    }
  }
  return best?.notes ?? null;
}
