/** The start-up gate's decision (S14), shared by the engine, the CLI's --json output and the renderer. */
import { ErrorInfo } from './errors';

export type OutdatedPolicy = 'block' | 'warn';

/**
 * What releasing the installed version does to the client's own database: its migrations move the schema from the
 * database's current level to the level the version brings.
 */
export interface SchemaMove {
  from: number;
  to: number;
  /** The version also works on `from` as it is, so a test installation may use the live database before the move. */
  worksOnCurrent: boolean;
}

/** The configured policy: the two ends, or "warn for N days after the release time, then block". */
export type OutdatedPolicySetting = OutdatedPolicy | { warnDays: number };

/** A release set for a chosen time, as the UI and the CLI show it ("scheduled for …"). */
export interface ScheduledInfo {
  version: string;
  at: string;
  by: string;
}

export type GateDecision =
  /** I = R: go on. */
  | { type: 'proceed'; installed: string; released: string }
  /** I < R (or I was withdrawn): upgrade to R by itself. */
  | { type: 'upgrade'; installed: string; released: string; downgrade: boolean }
  /** I > R, undecided: an administrator is asked "release I for all workstations?"; others are told it awaits release. */
  | { type: 'ask-release'; installed: string; released: string | null; canAnswer: boolean; migration?: SchemaMove; scheduled?: ScheduledInfo | null }
  /** I > R, recorded as a test installation here: go on, with a visible "test version" marker. */
  | { type: 'test-workstation'; installed: string; released: string | null; migration?: SchemaMove }
  /**
   * I < R and the upgrade cannot happen, or I does not work on the database's schema level (reason E_SCHEMA_LEVEL,
   * policy always `block`): the outdated notice; under `block` the app does not use the database.
   */
  | {
      type: 'outdated';
      installed: string;
      released: string;
      policy: OutdatedPolicy;
      reason: ErrorInfo | null;
      /** Under "warn for N days": the moment (server clock, ISO) after which this workstation is blocked. */
      deadline?: string | null;
      /** Milliseconds left until the deadline when decided (a countdown needs no trust in the local clock). */
      msLeft?: number | null;
    };

export type GateDecisionType = GateDecision['type'];

/** Whether the app may go on to business data after this decision. */
export function mayUseDatabase(decision: GateDecision): boolean {
  switch (decision.type) {
    case 'proceed':
      return true;
    case 'ask-release':
    case 'test-workstation':
      // A test installation that only works after its migration must not touch the live database.
      return !decision.migration || decision.migration.worksOnCurrent;
    case 'upgrade':
      return false; // the app restarts into the new version first
    case 'outdated':
      return decision.policy === 'warn';
  }
}
