/** Domain shapes the stores hand to the engine (ISO timestamps, numbers, narrowed states). */
import { ReleaseState, Ring } from './rows';

export interface Release {
  id: number;
  channel: string;
  version: string;
  versionKey: string;
  state: ReleaseState;
  manifest: string | null;
  manifestSignature: string | null;
  packageSize: number | null;
  packageSha512: string | null;
  notes: string | null;
  createdBy: string;
  createdFrom: string;
  createdAt: string;
  releasedBy: string | null;
  releasedFrom: string | null;
  releasedAt: string | null;
  withdrawnBy: string | null;
  withdrawnFrom: string | null;
  withdrawnAt: string | null;
}

export interface CurrentPointer {
  channel: string;
  revision: number;
  release: Release | null;
}

export interface Workstation {
  workstationId: string;
  hostName: string;
  osUser: string;
  installedVersion: string;
  ring: Ring;
  firstSeen: string;
  lastStart: string;
  lastResult: string | null;
  lastResultAt: string | null;
  /** The error code of the last result (null: it succeeded, or it was written before codes had a column). */
  lastResultCode: string | null;
  retiredAt: string | null;
  retiredBy: string | null;
}

export interface AuditEvent {
  id: number;
  at: string;
  action: string;
  outcome: string;
  actor: string;
  workstationId: string;
  channel: string | null;
  version: string | null;
  detail: Record<string, unknown> | null;
}

/** Who acts, from where: every write to the ledger carries it. */
export interface Actor {
  user: string;
  workstationId: string;
}

/** What the start-up gate needs, read in one go. */
export interface GateSnapshot {
  current: CurrentPointer | null;
  /** State of the release row for the installed version, if the ledger knows it. */
  installedState: ReleaseState | null;
  /** This workstation answered "No" (test only) for the installed version. */
  testMarked: boolean;
  /** The client database's schema level (lockstep_schema_level); null where none was ever recorded. */
  schemaLevel?: number | null;
  /** The channel's pending scheduled release, if any; `due` was judged by the database server's clock. */
  schedule?: ReleaseSchedule | null;
  /** The database server's time of the read (ISO), for deadlines measured from a release time. */
  serverNow?: string | null;
}

export type ScheduleState = 'pending' | 'applied' | 'cancelled' | 'superseded';

/** A release set for a chosen time (db/scheduleStore.ts). */
export interface ReleaseSchedule {
  id: number;
  releaseId: number;
  channel: string;
  version: string;
  dueAt: string;
  /** The pointer revision the administrator saw: the move at the due time compares-and-sets against it. */
  baseRevision: number;
  state: ScheduleState;
  scheduledBy: string;
  scheduledFrom: string;
  /** Whether the due time has passed on the database server's clock at the read that produced this. */
  due: boolean;
}
