/**
 * A workstation process that starts (registry heartbeat), writes an audit row, takes a package-transfer slot and then
 * hangs as if mid-transfer, until the test kills it. Prints one JSON line once the slot is held.
 * Arguments: database URL, workstation id, lease time in ms.
 */
import { openDatabase } from '../../db/connection';
import { FleetStore } from '../../db/fleetStore';
import { LeaseStore } from '../../db/leaseStore';
import { parseDbUrl } from '../../kernel/dbUrl';
import { acquireSlot } from '../../engine/fleet/transferSlots';
import { MemoryLogger } from '../../kernel/log';

async function main(): Promise<void> {
  const [url, workstationId, ttl] = process.argv.slice(2);
  const db = await openDatabase(parseDbUrl(url!));
  const fleet = new FleetStore(db);
  await fleet.workstations.gateStart({ channel: 'stable', workstationId: workstationId!, installedKey: '1' }, { hostName: workstationId!, osUser: 'user', installedVersion: '1.0.0', ring: 'regular' });
  await fleet.audit({ action: 'check', outcome: 'ok', actor: { user: 'user', workstationId: workstationId! } });
  const settings = { maxConcurrentTransfers: 1, leaseTtlMs: Number(ttl), retryMinMs: 50, retryMaxMs: 100, maxWaitMs: 10_000 };
  const held = await acquireSlot(new LeaseStore(db), settings, workstationId!, new MemoryLogger());
  process.stdout.write(JSON.stringify({ slot: held.lease.slot, clock: Date.now() }) + '\n');
  setInterval(() => undefined, 60_000); // mid-transfer, until killed
}

main().catch((err: unknown) => {
  process.stderr.write(String((err as Error).stack ?? err) + '\n');
  process.exit(1);
});
