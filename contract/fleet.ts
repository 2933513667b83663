/**
 * The fleet view's numbers (release management window, `lockstep fleet`): computed once in the engine
 * (engine/fleet/fleetSummary.ts) and shown as they are by the CLI and the window. Shared with the renderer: types only.
 */

/** One workstation as the fleet view shows it. Times are the database server's clock (ISO). */
export interface FleetWorkstation {
  workstationId: string;
  hostName: string;
  osUser: string;
  installedVersion: string;
  ring: 'test' | 'regular';
  lastStart: string;
  /** Whole days since the last start (floor). */
  daysSinceStart: number;
  onReleased: boolean;
  lastResult: string | null;
  lastResultCode: string | null;
  lastResultAt: string | null;
  /** The grace period of the outdated policy, when the site has one (null: no grace period applies). */
  grace: FleetGrace | null;
}

/** Inside the grace period until `until`, or past it and blocked. */
export interface FleetGrace {
  state: 'inside' | 'blocked';
  until: string;
}

export interface FleetVersionCount {
  version: string;
  count: number;
  released: boolean;
}

export interface FleetFailure {
  workstationId: string;
  hostName: string;
  code: string;
  at: string | null;
  text: string | null;
}

export interface FleetSummary {
  channel: string;
  released: string | null;
  /** A release waiting for its time (null: none scheduled, or the site cannot schedule). */
  scheduled: { version: string; at: string } | null;
  /** The server clock the numbers were computed at. */
  at: string;
  staleDays: number;
  /** Workstations counted: every registered one except the retired ones that have not started since. */
  total: number;
  /** Of those, how many run the released version. */
  onReleased: number;
  /** Versions in use, most used first. */
  versions: FleetVersionCount[];
  workstations: FleetWorkstation[];
  testWorkstations: FleetWorkstation[];
  failed: FleetFailure[];
  /** Not started for `staleDays` days or more (still counted until retired). */
  stale: FleetWorkstation[];
  retired: Array<{ workstationId: string; hostName: string; retiredAt: string; retiredBy: string | null }>;
}
