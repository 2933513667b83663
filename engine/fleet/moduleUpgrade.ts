/**
 * Which modules a workstation updates when it upgrades from the shared database (S6 across the fleet): for every
 * installed module, the version the release carries — checked exactly as Extras → Update… checks a module (vendor
 * signature of its manifest, the manifest naming this module and version, its app range admitting the new version,
 * and, once fetched, the signed size and SHA-512; ModuleInstaller.prepare checks the file again). A module the release
 * carries no admissible version of is reported, never silently dropped: it stays as it was (the app install carries
 * it) and the report goes to the audit log and the registry row.
 */
import { LockstepError } from '../../contract/errors';
import type { DownloadedModule } from '../../contract/update';
import { CarriedModule } from '../../db/releaseModuleStore';
import { Release } from '../../db/types';
import { verifyModuleManifest } from '../feed/download';
import { ModuleManifest } from '../../kernel/catalogSchema';
import { compareVersions } from '../../kernel/version';
import { satisfies } from '../../kernel/versionRange';

export interface ModulePlan {
  /** Module packages to install with the app (fetched and hash-checked). */
  ticked: DownloadedModule[];
  /** Installed modules the release brings no version of that admits the new app version: "id@version". */
  incompatible: string[];
}

export type FetchModule = (moduleRelease: Release, file: ModuleManifest['file']) => Promise<string>;

function verifiedManifest(carried: CarriedModule, trustedKeys: readonly string[]): ModuleManifest {
  let signed: unknown;
  try {
    signed = JSON.parse(carried.release.manifest ?? '');
  } catch {
    throw new LockstepError('E_SIGNATURE', `The stored manifest of module ${carried.moduleId} is not JSON; nothing was installed.`, { module: carried.moduleId });
  }
  const m = verifyModuleManifest({ signed, signature: carried.release.manifestSignature ?? '' }, trustedKeys);
  if (m.module !== carried.moduleId || compareVersions(m.version, carried.moduleVersion) !== 0 || compareVersions(m.version, carried.release.version) !== 0) {
    throw new LockstepError('E_SIGNATURE', `The module package stored as ${carried.moduleId} ${carried.moduleVersion} is signed as ${m.module} ${m.version}; nothing was installed.`, { module: carried.moduleId });
  }
  if (carried.release.packageSha512 !== null && carried.release.packageSha512 !== m.file.sha512) {
    throw new LockstepError('E_SIGNATURE', `The stored SHA-512 of module ${m.module} ${m.version} differs from the signed one; nothing was installed.`, { module: m.module });
  }
  return m;
}

export async function planModules(appVersion: string, installed: Record<string, string>, carried: readonly CarriedModule[], trustedKeys: readonly string[], fetch: FetchModule): Promise<ModulePlan> {
  const plan: ModulePlan = { ticked: [], incompatible: [] };
  for (const [id, version] of Object.entries(installed).sort(([a], [b]) => a.localeCompare(b))) {
    const entry = carried.find((c) => c.moduleId === id);
    const m = entry ? verifiedManifest(entry, trustedKeys) : null;
    if (!entry || !m || !satisfies(appVersion, m.appRange)) {
      plan.incompatible.push(`${id}@${version}`);
      continue;
    }
    if (compareVersions(m.version, version) === 0) continue; // already the version released with it
    const file = await fetch(entry.release, m.file);
    plan.ticked.push({ id, name: m.name, version: m.version, file, manifestText: entry.release.manifest!, manifestSignature: entry.release.manifestSignature! });
  }
  return plan;
}
