/** The vendor-signed manifest as a request carries it (app versions and modules alike): the signed text and its signature. */
import { z } from 'zod';

/** A manifest is a few hundred bytes per file; anything near this bound is not one. */
const MAX_MANIFEST_CHARS = 128 * 1024;

export const SignedManifestSchema = z
  .object({
    /** canonicalJson(manifest) as signed (DownloadedStep.manifestText, Release.manifest). */
    text: z.string().min(2).max(MAX_MANIFEST_CHARS),
    /** "ed25519:<keyId>:<base64>" (DownloadedStep.manifestSignature, Release.manifestSignature). */
    signature: z.string().max(200),
  })
  .strict();
export type SignedManifest = z.infer<typeof SignedManifestSchema>;
