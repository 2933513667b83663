/**
 * The installed version's schema setup as the composition roots build it (engine/workstation.ts): its claim from a
 * signed manifest (installedClaim.ts) and its migrations — the packaged files under the app's resources, checked
 * against that claim, plus what the host registered in code.
 */
import type { FleetStore } from '../../db/fleetStore';
import type { MachineConfig } from '../../kernel/config';
import type { InstalledVersionSource } from '../../kernel/installation';
import type { Logger } from '../../kernel/log';
import type { ClientMigration } from '../../kernel/schemaClaim';
import { trustedKeys } from '../../kernel/trust';
import type { Host } from '../compose/host';
import { defaultCacheDir } from '../feed/context';
import type { SchemaSetup } from '../schema/setup';
import { installedClaim } from './installedClaim';
import { InstalledMigrationSource } from './migrationSource';

/** What a host passes about its schema: lockstep/electron start({ schema }) and openLockstep({ schema }). */
export interface HostSchemaOptions {
  /** Migrations registered in code, for levels the package carries no file for. */
  migrations?: ClientMigration[];
  /**
   * Where the signed claim's migrations folder lies. Default: the packaged Electron app's resources folder
   * (process.resourcesPath, where electron-builder's extraResources go), else the install folder.
   */
  resourcesDir?: string;
}

export interface InstalledSchemaDeps {
  config: MachineConfig;
  host: Pick<Host, 'electronApp'>;
  fleet: FleetStore;
  installed: InstalledVersionSource;
  log: Logger;
  options?: HostSchemaOptions;
}

export async function installedSchemaSetup(d: InstalledSchemaDeps): Promise<SchemaSetup> {
  const resourcesDir = d.options?.resourcesDir ?? d.host.electronApp?.resourcesPath ?? d.config.installDir;
  let version;
  try {
    version = d.installed.installedVersion();
  } catch {
    // No install folder here (an administrator's CLI): no claim; the gate reports the missing version itself.
    return { claim: null, migrations: new InstalledMigrationSource(null, resourcesDir, d.options?.migrations ?? []) };
  }
  const found = await installedClaim(
    {
      fleet: d.fleet,
      channel: d.config.channel,
      trustedKeys: trustedKeys(d.config),
      feedCacheDir: d.config.feed ? (d.config.feed.cacheDir ?? defaultCacheDir(d.config)) : null,
      log: d.log,
    },
    version,
  );
  if (found.claim) d.log.info('schema.claim', { version: version.raw, from: found.from, works: found.claim.works, brings: found.claim.brings });
  return { claim: found.claim, migrations: new InstalledMigrationSource(found.claim, resourcesDir, d.options?.migrations ?? []), version: version.raw };
}
