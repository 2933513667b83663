/**
 * Modules (plug-ins, S6). Each installed module version declares the range of app versions it supports (in the signed
 * catalog). For a target version every installed module gets one status:
 *  - compatible       — the installed module version supports the target, and no newer one is offered;
 *  - update-available — a newer module version with a signed package supports the target: preselected, downloaded
 *                       and installed together with the app (a version the catalog lists without a package only
 *                       declares its range: nothing could be fetched, so it is never offered);
 *  - incompatible     — the catalog knows the module but no version of it supports the target: a warning the user
 *                       must confirm before updating;
 *  - not-released     — the catalog does not list the module at all (not released through this feed for any
 *                       version): the user must confirm as well, since nothing says it will work.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError } from '../contract/errors';
import { MODULES_FILE } from '../installer/moduleHandover';
import type { ModuleStatus, ModuleStatusType } from '../contract/update';
import { CatalogModule } from '../kernel/catalogSchema';
import { compareVersions, isVersion } from '../kernel/version';
import { satisfies } from '../kernel/versionRange';

export { MODULES_FILE };

export type { ModuleStatus, ModuleStatusType };

/** Installed modules: {"id": "version"} in the install folder (or the configured file); absent file = no modules. */
export function readInstalledModules(file: string): Record<string, string> {
  if (!fs.existsSync(file)) return {};
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new LockstepError('E_CONFIG_INVALID', `The module list ${file} is not valid JSON: ${(err as Error).message}`, { file });
  }
  if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new LockstepError('E_CONFIG_INVALID', `The module list ${file} must map module ids to versions.`, { file });
  const out: Record<string, string> = {};
  for (const [id, v] of Object.entries(data)) {
    if (typeof v !== 'string' || !isVersion(v)) throw new LockstepError('E_CONFIG_INVALID', `Module "${id}" in ${file} has no valid version.`, { file, module: id });
    out[id] = v;
  }
  return out;
}

export function defaultModulesFile(installDir: string): string {
  return path.join(installDir, MODULES_FILE);
}

export function moduleStatuses(installed: Record<string, string>, target: string, catalogModules: readonly CatalogModule[]): ModuleStatus[] {
  return Object.entries(installed)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([id, version]): ModuleStatus => {
      const mod = catalogModules.find((m) => m.id === id);
      if (!mod) return { id, name: id, installed: version, status: 'not-released', updateTo: null, preselected: false, requiresConfirmation: true };
      const current = mod.versions.find((v) => compareVersions(v.version, version) === 0);
      const newer = mod.versions
        .filter((v) => v.manifest && compareVersions(v.version, version) > 0 && satisfies(target, v.appRange))
        .sort((a, b) => compareVersions(b.version, a.version))[0];
      if (newer) return { id, name: mod.name, installed: version, status: 'update-available', updateTo: newer.version, preselected: true, requiresConfirmation: false };
      if (current && satisfies(target, current.appRange)) return { id, name: mod.name, installed: version, status: 'compatible', updateTo: null, preselected: false, requiresConfirmation: false };
      return { id, name: mod.name, installed: version, status: 'incompatible', updateTo: null, preselected: false, requiresConfirmation: true };
    });
}
