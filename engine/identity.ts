/** Who is acting, on which workstation, and whether configuration counts them as an administrator. */
import * as os from 'node:os';
import { Actor } from '../db/types';
import { MachineConfig } from '../kernel/config';

export interface Identity {
  workstationId: string;
  hostName: string;
  osUser: string;
  isAdmin: boolean;
}

export interface OsFacts {
  hostName(): string;
  userName(): string;
}

export const realOs: OsFacts = {
  hostName: () => os.hostname(),
  userName: () => os.userInfo().username,
};

/** Windows names users DOMAIN\name; configuration may list either form, case-insensitively. */
function userMatches(listed: string, user: string): boolean {
  const a = listed.trim().toLowerCase();
  const b = user.trim().toLowerCase();
  return a === b || a === b.split('\\').pop() || a.split('\\').pop() === b;
}

export function resolveIdentity(config: MachineConfig, facts: OsFacts = realOs): Identity {
  const hostName = config.workstation.hostName ?? facts.hostName();
  const osUser = facts.userName();
  return {
    workstationId: config.workstation.id ?? hostName.toLowerCase(),
    hostName,
    osUser,
    isAdmin: config.administrators.some((a) => userMatches(a, osUser)),
  };
}

export function actorOf(identity: Identity): Actor {
  return { user: identity.osUser, workstationId: identity.workstationId };
}
