/**
 * The module packages a releasing workstation holds for the version it releases: the modules it has installed
 * (lockstep-modules.json), each package file where the module installer put it (modules/<id>/<signed file name>), and
 * each one's vendor-signed manifest from the signed catalog. The catalog is read only when modules are installed, so a
 * workstation without modules releases exactly as before.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CatalogModule } from '../../kernel/catalogSchema';
import { SignedDocument } from '../../kernel/signing';
import { compareVersions } from '../../kernel/version';
import { ModuleLocation } from '../moduleInstall';
import { readInstalledModules } from '../modules';

export interface ModulePackage {
  id: string;
  version: string;
  file: string;
  manifest: SignedDocument<unknown>;
}

export interface ModulePackageSource {
  /** The installed modules with a package file and a signed manifest; what lacks either is named in `missing`. */
  locate(): Promise<{ packages: ModulePackage[]; missing: string[] }>;
}

export class InstalledModuleSource implements ModulePackageSource {
  constructor(
    private readonly location: ModuleLocation,
    private readonly catalogModules: () => Promise<readonly CatalogModule[]>,
  ) {}

  async locate(): Promise<{ packages: ModulePackage[]; missing: string[] }> {
    const installed = readInstalledModules(this.location.listFile);
    if (Object.keys(installed).length === 0) return { packages: [], missing: [] };
    const modules = await this.catalogModules();
    const packages: ModulePackage[] = [];
    const missing: string[] = [];
    for (const [id, version] of Object.entries(installed)) {
      const manifest = modules.find((m) => m.id === id)?.versions.find((v) => compareVersions(v.version, version) === 0)?.manifest;
      const file = manifest ? path.join(this.location.dir, id, manifest.signed.file.name) : null;
      if (manifest && file && fs.existsSync(file)) packages.push({ id, version, file, manifest });
      else missing.push(`${id}@${version}`);
    }
    return { packages, missing };
  }
}
