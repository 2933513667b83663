/**
 * Modules the invoking user cannot write, handed to the privileged helper together with the app (S6 with S9/S18):
 * the request names each updated module's package file and carries the module's vendor-signed manifest — nothing
 * else. Which modules are installed, where they live and which vendor keys count come from the root-owned side (the
 * install folder's module list, the machine configuration), never from the request.
 *
 * Verified here exactly as the app's package is (signedRequest.ts): the signature against the trusted keys, the
 * manifest naming this module, the package file by the name the vendor signed, the module's app range admitting the
 * version being installed. The bytes are checked against the signed SHA-512 and size while staging copies them
 * (modulePlacement.ts), so a file swapped after the unprivileged side checked it ends as E_CHECKSUM.
 */
import * as path from 'node:path';
import { z } from 'zod';
import { LockstepError } from '../contract/errors';
import { ModuleManifest, ModuleManifestSchema, describeZodIssues } from '../kernel/catalogSchema';
import { verifyDocument } from '../kernel/signing';
import { satisfies } from '../kernel/versionRange';
import { SignedManifestSchema } from './signedManifest';

export const MODULES_DIR = 'modules';
export const MODULES_FILE = 'lockstep-modules.json';
export const MODULE_ID = /^[a-z0-9][a-z0-9._-]{0,63}$/i;

/** More modules than this in one request is not a workstation's module set. */
const MAX_MODULES = 64;

/**
 * What the unprivileged side asks for: the module updates (possibly none). Its presence alone means "carry and place
 * the installed modules across this install"; every installed module without an update is carried as it is.
 */
export const ModuleHandoverSchema = z
  .object({
    update: z
      .array(z.object({ id: z.string().regex(MODULE_ID), packagePath: z.string().min(1).max(4096), manifest: SignedManifestSchema }).strict())
      .max(MAX_MODULES),
  })
  .strict();
export type ModuleHandover = z.infer<typeof ModuleHandoverSchema>;

/** One module update as the side with rights carries it out: the expected bytes are the signed ones. */
export const VerifiedModuleSchema = z
  .object({
    id: z.string().regex(MODULE_ID),
    version: z.string().min(1).max(64),
    packagePath: z.string().min(1),
    fileName: z.string().min(1).max(255),
    sha512: z.string(),
    size: z.number().int().min(0),
    signedBy: z.string(),
  })
  .strict();
export type VerifiedModule = z.infer<typeof VerifiedModuleSchema>;

function refused(message: string, details: Record<string, unknown> = {}): LockstepError {
  return new LockstepError('E_SIGNATURE', `${message} Nothing was installed.`, details);
}

/** Verifies every module update of a request for app version `toVersion` against `trustedKeys`. */
export function verifyModuleHandover(handover: ModuleHandover, trustedKeys: readonly string[], toVersion: string): VerifiedModule[] {
  const seen = new Set<string>();
  return handover.update.map((u) => {
    if (seen.has(u.id)) throw new LockstepError('E_USAGE', `The install request names module ${u.id} twice.`, { module: u.id });
    seen.add(u.id);
    let document: unknown;
    try {
      document = JSON.parse(u.manifest.text);
    } catch {
      throw refused(`The signed manifest of module ${u.id} is not JSON.`, { module: u.id });
    }
    let keyId: string;
    try {
      keyId = verifyDocument({ signed: document, signature: u.manifest.signature }, trustedKeys, 'module manifest');
    } catch (err) {
      if (err instanceof LockstepError) throw refused(err.message, { module: u.id });
      throw err;
    }
    const parsed = ModuleManifestSchema.safeParse(document);
    if (!parsed.success) throw refused(`The signed manifest of module ${u.id} is malformed: ${describeZodIssues(parsed.error)}.`, { module: u.id });
    const m: ModuleManifest = parsed.data;
    if (m.module !== u.id) throw refused(`The manifest handed over for module ${u.id} is signed for module ${m.module}.`, { module: u.id, signedFor: m.module });
    if (path.basename(u.packagePath) !== m.file.name) throw refused(`Module ${u.id} ${m.version} is signed as ${m.file.name}, not ${path.basename(u.packagePath)}.`, { module: u.id });
    if (!satisfies(toVersion, m.appRange)) {
      throw new LockstepError('E_MODULE_INCOMPATIBLE', `Module ${u.id} ${m.version} supports app versions ${m.appRange}, not ${toVersion}. Nothing was installed.`, { module: u.id, version: m.version, appRange: m.appRange });
    }
    return { id: u.id, version: m.version, packagePath: u.packagePath, fileName: m.file.name, sha512: m.file.sha512, size: m.file.size, signedBy: keyId };
  });
}
