/** Ready-made identities for tests that drive the engine in-process. */
import { FleetStore } from '../../db/fleetStore';
import { Identity } from '../../engine/identity';
import { FixedVersionSource } from '../../kernel/installation';
import { Ledger } from '../../engine/ledger';
import { MemoryLogger } from '../../kernel/log';
import { StartupGate, Upgrader } from '../../engine/startupGate';
import { parseVersion } from '../../kernel/version';

export function identity(id: string, isAdmin = true): Identity {
  return { workstationId: id, hostName: id.toUpperCase(), osUser: isAdmin ? 'admin' : 'clerk', isAdmin };
}

export function engineFor(fleet: FleetStore, who: Identity, installed: string, upgrader?: Upgrader, channel = 'stable') {
  const log = new MemoryLogger();
  const ledger = new Ledger(fleet, who, log, { channel });
  const gate = new StartupGate(fleet, who, new FixedVersionSource(parseVersion(installed)), ledger, log, { channel, policy: 'block', ring: 'regular' }, upgrader);
  return { ledger, gate, log };
}
