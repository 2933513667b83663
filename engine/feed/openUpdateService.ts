/**
 * Composition of the update service for plain Node (CLI, tests, benchmarks) from the machine configuration: the
 * installed version from the install folder, the verified licence (its number is the only identifying header), the
 * installed modules, and the feed context. Needs no database: checking and downloading work before the fleet does.
 */
import * as path from 'node:path';
import { MachineConfig } from '../../kernel/config';
import { VersionFileSource } from '../../kernel/installation';
import { loadLicense } from '../license';
import { Logger, RotatingFileLogger } from '../../kernel/log';
import { defaultModulesFile, readInstalledModules } from '../modules';
import { SecretStore } from '../secrets';
import { trustedKeys } from '../../kernel/trust';
import { UpdateService } from '../updateService';
import { Platform } from '../../kernel/catalogSchema';
import { feedContext } from './context';

export interface SessionDeps {
  secrets: SecretStore;
  platform: Platform;
  defaultLogDir: string;
  logger?: Logger;
  now?: () => Date;
  sleep?: (ms: number) => Promise<void>;
}

export async function openUpdateService(config: MachineConfig, deps: SessionDeps): Promise<UpdateService> {
  const log = deps.logger ?? new RotatingFileLogger(path.join(config.log.dir ?? deps.defaultLogDir, 'lockstep.log'), config.log.maxBytes, config.log.keep);
  const keys = trustedKeys(config);
  // The licence number rides on every feed request; a missing licence still lets the error surface through check().
  let licenseNumber: string | null = null;
  try {
    licenseNumber = loadLicense(config.feed?.licenseFile, keys).number;
  } catch {
    licenseNumber = null;
  }
  const feed = await feedContext(config, { secrets: deps.secrets, log, platform: deps.platform, licenseNumber, sleep: deps.sleep });
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
