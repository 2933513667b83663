/**
 * The side with rights keeps the same floor record as the workstation (engine/fleet/localFloor.ts): a
 * verified manifest raises it, and no install goes below it. Whoever may run the privileged helper can hand it any
 * vendor-signed package, old ones included; the floor once verified on this machine still holds.
 */
import { LockstepError } from '../contract/errors';
import { higherFloor, localFloorFile, raiseLocalFloor, readLocalFloor, statedFloor } from '../kernel/localFloor';
import { Logger } from '../kernel/log';
import { compareVersions } from '../kernel/version';

/** `manifestText` must be the manifest whose signature was already verified. */
export function guardRecordedFloor(stateDir: string, toVersion: string, manifestText: string, log: Logger): void {
  const stated = statedFloor((JSON.parse(manifestText) as { securityFloor?: string | null }).securityFloor);
  const file = localFloorFile(stateDir);
  const floor = higherFloor(readLocalFloor(file), stated).floor;
  if (floor && compareVersions(toVersion, floor) < 0) {
    throw new LockstepError('E_BELOW_SECURITY_FLOOR', `Version ${toVersion} is below the vendor's security floor ${floor.raw} verified on this machine; it is not installed. Install version ${floor.raw} or later.`, { version: toVersion, floor: floor.raw });
  }
  try {
    raiseLocalFloor(file, stated, 'installer');
  } catch (err) {
    log.warn('apply.floor-not-recorded', { file, message: (err as Error).message });
  }
}
