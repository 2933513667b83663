/**
 * The shapes the vendor signs (S18, S20, S21): the catalog (every version, the modules, freshness), each version's
 * manifest (signed on its own so it can travel into the shared database), and the licence. Validated with zod AFTER
 * the signature verified, so a malformed but correctly signed feed is a vendor fault (E_FEED_INVALID) and a changed
 * one is tampering (E_SIGNATURE).
 */
import { z } from 'zod';
import { PLAIN_NAME, isPlainName, plainName } from './plainName';
import { SchemaClaimSchema } from './schemaClaim';
import { isVersion } from './version';

export { PLAIN_NAME, isPlainName, plainName };

const version = z.string().refine(isVersion, { message: 'is not a version number' });
const isoDate = z.string().refine((s) => !Number.isNaN(Date.parse(s)), { message: 'is not a date' });
const sha512 = z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'is not a base64 SHA-512');
const text = z.string().min(1).max(200);

export const PLATFORMS = ['win', 'mac', 'linux'] as const;
export type Platform = (typeof PLATFORMS)[number];

/** The feed's name for the OS a workstation runs (the files of a version are per platform). */
export function platformOf(nodePlatform: NodeJS.Platform): Platform {
  return nodePlatform === 'win32' ? 'win' : nodePlatform === 'darwin' ? 'mac' : 'linux';
}

export const ManifestFileSchema = z
  .object({
    name: plainName,
    platform: z.enum(PLATFORMS),
    /** installer (exe, dmg, AppImage, deb…), zip (mac auto-update), other. */
    kind: z.enum(['installer', 'zip', 'other']),
    size: z.number().int().min(0),
    sha512,
    /**
     * The file's electron-builder block map (gzipped JSON, published beside it): signed here so a workstation checks
     * it before parsing it and downloads only the blocks its base lacks. Absent: full downloads only.
     */
    blockMap: z.object({ name: plainName, size: z.number().int().min(1), sha512 }).strict().optional(),
  })
  .strict();

export const ManifestSchema = z
  .object({
    type: z.literal('lockstep-manifest'),
    product: text,
    version,
    channel: text,
    releaseDate: isoDate,
    files: z.array(ManifestFileSchema).min(1),
    /**
     * The vendor's security floor when this manifest was signed (S31). It travels with the version into the shared
     * database, so deleting the stored catalogs does not erase it; absent in manifests signed before it existed.
     */
    securityFloor: version.nullable().optional(),
    /** The client database's schema levels this version works on and brings (kernel/schemaClaim.ts). */
    schema: SchemaClaimSchema.nullable().optional(),
  })
  .strict();

const signedManifest = z.object({ signed: ManifestSchema, signature: z.string() }).strict();

/** The most release-notes characters a version shows; the vendor tool refuses more. */
export const NOTES_CAP = 200_000;
/** Appended (Markdown) to notes that were cut at NOTES_CAP. */
export const NOTES_CUT_MARKER = `\n\n…\n\n*(These release notes are longer than ${NOTES_CAP.toLocaleString('en-US')} characters and were cut here.)*`;

/**
 * Cuts every version's notes over NOTES_CAP, in place, on the verified document (the signature covers the full
 * text; this runs after it was checked): one version's long notes must not make the whole catalog unusable, so only
 * that version is degraded. Returns the versions that were cut, for the verifier to mark (notesTruncated).
 */
export function capNotes(signed: unknown): Set<number> {
  const cut = new Set<number>();
  const versions = (signed as { versions?: unknown } | null)?.versions;
  if (!Array.isArray(versions)) return cut;
  versions.forEach((v: unknown, i) => {
    const entry = v as { notes?: unknown } | null;
    if (typeof entry?.notes !== 'string' || entry.notes.length <= NOTES_CAP) return;
    // Never split a surrogate pair: a lone half would render as a replacement character.
    const end = /[\uD800-\uDBFF]/.test(entry.notes.charAt(NOTES_CAP - 1)) ? NOTES_CAP - 1 : NOTES_CAP;
    entry.notes = entry.notes.slice(0, end);
    cut.add(i);
  });
  return cut;
}

export const CatalogVersionSchema = z
  .object({
    version,
    channel: text,
    releaseDate: isoDate,
    /** Markdown release notes (rendered safely by the UI); longer ones are cut after verification (capNotes). */
    notes: z.string().max(NOTES_CAP),
    /** Editions that may install this version; empty = every edition. */
    editions: z.array(text),
    /** Stepping stone: installs below `below` must install `version` first (S5). */
    requires: z.object({ version, below: version }).strict().nullable(),
    /** Installs below this cannot be updated in place: a full reinstall is needed (S5). */
    reinstallBelow: version.nullable(),
    manifest: signedManifest,
  })
  .strict();

const moduleId = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/i);
const appRange = z.string().min(1).max(200);

/**
 * A module package (S6), signed on its own like an app version's manifest, so the file can be checked again right
 * before it is installed (and travel beside the app's manifest). One file per module version, the same on every
 * platform; `appRange` is repeated inside the signature so the compatibility claim cannot be edited in the catalog.
 */
export const ModuleManifestSchema = z
  .object({
    type: z.literal('lockstep-module-manifest'),
    product: text,
    module: moduleId,
    name: text,
    version,
    appRange,
    releaseDate: isoDate,
    file: z.object({ name: plainName, size: z.number().int().min(0), sha512 }).strict(),
  })
  .strict();

export const ModuleVersionSchema = z
  .object({
    version,
    appRange,
    releaseDate: isoDate,
    /** The signed package; absent when the vendor only declares the range of a version shipped another way. */
    manifest: z.object({ signed: ModuleManifestSchema, signature: z.string() }).strict().optional(),
  })
  .strict();

export const ModuleSchema = z
  .object({
    id: moduleId,
    name: text,
    versions: z.array(ModuleVersionSchema),
  })
  .strict();

export const CatalogSchema = z
  .object({
    type: z.literal('lockstep-catalog'),
    product: text,
    issuedAt: isoDate,
    /** Freshness: a catalog older than this is refused (E_CATALOG_STALE), so a replayed old feed cannot hide updates. */
    expiresAt: isoDate,
    /** The vendor's security floor: no release or rollback below it (S15). */
    securityFloor: version.nullable(),
    versions: z.array(CatalogVersionSchema),
    modules: z.array(ModuleSchema),
  })
  .strict();

export const LicenseSchema = z
  .object({
    type: z.literal('lockstep-license'),
    product: text,
    number: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/, 'must be letters, digits and dashes'),
    edition: text,
    /** Last day (inclusive, YYYY-MM-DD) of the update contract. */
    contractUntil: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    issuedAt: isoDate,
  })
  .strict();

export type ManifestFile = z.infer<typeof ManifestFileSchema>;
export type Manifest = z.infer<typeof ManifestSchema>;
/** `notesTruncated` is set by the verifier (never by the vendor) when the notes were cut at NOTES_CAP. */
export type CatalogVersion = z.infer<typeof CatalogVersionSchema> & { notesTruncated?: true };
export type CatalogModule = z.infer<typeof ModuleSchema>;
export type ModuleVersion = z.infer<typeof ModuleVersionSchema>;
export type ModuleManifest = z.infer<typeof ModuleManifestSchema>;
export type Catalog = Omit<z.infer<typeof CatalogSchema>, 'versions'> & { versions: CatalogVersion[] };
export type License = z.infer<typeof LicenseSchema>;

export const CATALOG_FILE = 'catalog.json';

export function describeZodIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`)
    .join('; ');
}
