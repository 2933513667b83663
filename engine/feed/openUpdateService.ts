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
import { localFloorFile, raiseLocalFloor, statedFloor } from '../../kernel/localFloor';
import { defaultStateDir } from '../../installer/journal';

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
  // The floor of every catalog verified here is remembered too: a database writer who later erases the stored
  // catalogs cannot make this workstation forget it (kernel/localFloor.ts).
  const floorFile = localFloorFile(config.installer.stateDir ?? defaultStateDir(config.installDir));
  const recordFloor = (stated: string | null): void => {
    try {
      raiseLocalFloor(floorFile, statedFloor(stated), 'feed');
    } catch (err) {
      log.warn('feed.floor-not-recorded', { file: floorFile, message: (err as Error).message }); // a per-machine state folder: the helper records it
    }
  };
  return new UpdateService({
    recordFloor,
    feed,
    channel: config.channel,
    installed: () => installed.installedVersion(),
    license: () => loadLicense(config.feed?.licenseFile, keys),
    modules: () => readInstalledModules(config.feed?.modulesFile ?? defaultModulesFile(config.installDir)),
    log,
    now: deps.now,
  });
}
