/**
 * The fleet view's reads and its one write: the summary (engine/fleet/fleetSummary.ts over the registry rows and the
 * database server's clock) and retiring a workstation, which only an administrator may do, through the admin login
 * when the site has one, with an audit row in the same transaction.
 */
import { LockstepError } from '../../contract/errors';
import type { FleetSummary } from '../../contract/fleet';
import { FleetStore } from '../../db/fleetStore';
import { Workstation } from '../../db/types';
import { Logger } from '../../kernel/log';
import { Identity, actorOf } from '../identity';
import type { AdminSession } from '../ledger';
import { FleetGraceHook, summarizeFleet } from './fleetSummary';
import { workstationGrace } from '../grace';
import type { OutdatedPolicySetting } from '../../contract/gate';

export const DEFAULT_STALE_DAYS = 14;

export interface FleetViewOptions {
  channel: string;
  /** The admin login's session (S31), as the ledger uses it; absent: the workstation's own connection. */
  admin?: () => Promise<AdminSession>;
  /** The outdated policy: under "warn for N days" each outdated workstation shows its grace period (engine/grace.ts). */
  policy?: OutdatedPolicySetting;
}

export class FleetView {
  constructor(
    private readonly fleet: FleetStore,
    private readonly identity: Identity,
    private readonly log: Logger,
    private readonly options: FleetViewOptions,
  ) {}

  async summary(staleDays: number = DEFAULT_STALE_DAYS): Promise<FleetSummary> {
    if (!Number.isInteger(staleDays) || staleDays < 1 || staleDays > 3650) {
      throw new LockstepError('E_USAGE', `--stale-days must be a whole number of days from 1 to 3650, not "${staleDays}".`, { staleDays });
    }
    const [rows, current, now, pending] = await Promise.all([
      this.fleet.workstations.list(),
      this.fleet.releases.current(this.options.channel),
      this.fleet.workstations.serverTime(),
      this.fleet.schedules.pending(this.options.channel),
    ]);
    const release = current?.release ?? null;
    const scheduled = pending ? { version: pending.version, at: pending.dueAt } : null;
    const grace = graceHook(release ? { version: release.version, releasedAt: release.releasedAt } : null, now, this.options.policy);
    return summarizeFleet({ channel: this.options.channel, released: release?.version ?? null, scheduled, rows, now: new Date(now), staleDays, ...(grace ? { grace } : {}) });
  }

  /**
   * Retires the workstation named by its id (or by its host name when that names exactly one workstation). Retired
   * workstations leave the fleet's numbers until they start again.
   */
  async retire(name: string): Promise<Workstation> {
    if (!this.identity.isAdmin) {
      this.log.warn('fleet.retire-denied', { user: this.identity.osUser, workstation: name });
      throw new LockstepError('E_NOT_ADMIN', `Only an administrator may retire a workstation; ${this.identity.osUser} is not listed in "administrators".`, { user: this.identity.osUser });
    }
    const id = await this.resolve(name);
    const retired = await this.asAdmin((fleet) => fleet.workstations.retire(id, actorOf(this.identity)));
    if (!retired) throw notFound(name);
    this.log.info('fleet.retired', { workstation: id, by: this.identity.osUser });
    return retired;
  }

  private async resolve(name: string): Promise<string> {
    const rows = await this.fleet.workstations.list();
    if (rows.some((w) => w.workstationId === name)) return name;
    const byHost = rows.filter((w) => w.hostName.toLowerCase() === name.toLowerCase());
    if (byHost.length === 1) return byHost[0]!.workstationId;
    if (byHost.length > 1) {
      throw new LockstepError('E_USAGE', `Host name "${name}" names ${byHost.length} workstations; retire one by its workstation id (${byHost.map((w) => w.workstationId).join(', ')}).`, { name });
    }
    throw notFound(name);
  }

  private async asAdmin<T>(work: (fleet: FleetStore) => Promise<T>): Promise<T> {
    if (!this.options.admin) return work(this.fleet);
    const session = await this.options.admin();
    try {
      return await work(session.fleet);
    } finally {
      await session.close().catch((err: Error) => this.log.warn('fleet.admin-close-failed', { message: err.message }));
    }
  }
}

function notFound(name: string): LockstepError {
  return new LockstepError('E_NOT_FOUND', `No workstation "${name}" is registered; see lockstep fleet for the registered ones.`, { name });
}

/** Under "warn for N days": inside the grace period until the deadline, blocked after it; other policies show none. */
function graceHook(released: { version: string; releasedAt: string | null } | null, now: string, policy: OutdatedPolicySetting | undefined): FleetGraceHook | null {
  if (!policy || typeof policy === 'string') return null;
  return (w) => {
    const g = workstationGrace(w.installedVersion, released, now, policy);
    if (g.state === 'in-grace' && g.deadline) return { state: 'inside', until: g.deadline };
    if (g.state === 'blocked' && g.deadline) return { state: 'blocked', until: g.deadline };
    return null;
  };
}
