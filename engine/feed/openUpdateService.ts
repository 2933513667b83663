/**
 * Composition of the update service for plain Node (CLI, tests, benchmarks) from the machine configuration: the
 * installed version from the install folder, the verified licence (its number is the only identifying header), the
 * installed modules, and the feed context. Needs no database: checking and downloading work before the fleet does.
 */
import { MachineConfig } from '../../kernel/config';
import { VersionFileSource } from '../../kernel/installation';
import { loadLicense } from '../license';
import { Logger } from '../../kernel/log';
import { defaultModulesFile, readInstalledModules } from '../modules';
import { trustedKeys } from '../../kernel/trust';
import { UpdateService } from '../updateService';
import { Host, feedContextFor, logFor } from '../compose/host';

export interface UpdateServiceDeps {
  host: Host;
  logger?: Logger;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

export async function openUpdateService(config: MachineConfig, deps: UpdateServiceDeps): Promise<UpdateService> {
  const log = deps.logger ?? logFor(config, deps.host);
  const keys = trustedKeys(config);
  // The licence number rides on every feed request; a missing licence still lets the error surface through check().
  let licenseNumber: string | null = null;
  try {
    licenseNumber = loadLicense(config.feed?.licenseFile, keys).number;
  } catch {
    licenseNumber = null;
  }
  const feed = await feedContextFor(config, deps.host, log, licenseNumber, deps.sleep);
  const installed = new VersionFileSource(config.installDir);
  return new UpdateService({
    feed,
    channel: config.channel,
    installed: () => installed.installedVersion(),
    license: () => loadLicense(config.feed?.licenseFile, keys),
    modules: () => readInstalledModules(config.feed?.modulesFile ?? defaultModulesFile(config.installDir)),
    log,
    now: deps.now,
  });
}
