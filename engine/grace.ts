/**
 * The grace period of the outdated policy "warn for N days, then block", as a pure function: the deadline runs from
 * the release time (the database server's `released_at`) and is judged against the server's now. Shared by the gate,
 * the release watcher, the CLI and the fleet view.
 *
 * Failing closed: a release without a release time has no deadline to grant, so it blocks; a release time in the
 * future of the server (a clock or a database writer gone wrong) counts from now, never later.
 */
import type { ErrorInfo } from '../contract/errors';
import { GateDecision, OutdatedPolicy, OutdatedPolicySetting } from '../contract/gate';
import type { GateSnapshot } from '../db/types';
import { compareVersions, isVersion } from '../kernel/version';

const DAY_MS = 24 * 3600_000;

export interface GraceStatus {
  /** What applies now: warn (inside the grace period, or the plain warn policy) or block. */
  policy: OutdatedPolicy;
  /** ISO deadline under "warn for N days"; null for the plain policies. */
  deadline: string | null;
  /** Milliseconds left until the deadline (0 once passed); null for the plain policies. */
  msLeft: number | null;
  /** Inside a grace period (warn now, blocked after the deadline). */
  inGrace: boolean;
}

export function graceStatus(releasedAt: string | null, now: string | number | Date, policy: OutdatedPolicySetting): GraceStatus {
  if (policy === 'block' || policy === 'warn') return { policy, deadline: null, msLeft: null, inGrace: false };
  const nowMs = new Date(now).getTime();
  const releasedMs = releasedAt === null ? Number.NaN : Date.parse(releasedAt);
  if (!Number.isFinite(releasedMs) || !Number.isFinite(nowMs)) return { policy: 'block', deadline: null, msLeft: 0, inGrace: false };
  const deadlineMs = Math.min(releasedMs, nowMs) + policy.warnDays * DAY_MS;
  const msLeft = Math.max(0, deadlineMs - nowMs);
  return { policy: msLeft > 0 ? 'warn' : 'block', deadline: new Date(deadlineMs).toISOString(), msLeft, inGrace: msLeft > 0 };
}

/** The grace of one gate read: its release's time, judged against the server's clock of that same read. */
export function graceOfRead(snapshot: GateSnapshot | null | undefined, policy: OutdatedPolicySetting): GraceStatus {
  return graceStatus(snapshot?.current?.release?.releasedAt ?? null, snapshot?.serverNow ?? Date.now(), policy);
}

/** The outdated notice with what the grace period grants now (deadline and time left only under "warn for N days"). */
export function outdatedNotice(installed: string, released: string, grace: GraceStatus, reason: ErrorInfo | null): Extract<GateDecision, { type: 'outdated' }> {
  return { type: 'outdated', installed, released, policy: grace.policy, reason, ...(grace.msLeft !== null ? { deadline: grace.deadline, msLeft: grace.msLeft } : {}) };
}

/** One registry row against the released version, as `lockstep workstations` and the fleet view show it. */
export type WorkstationGraceState = 'current' | 'ahead' | 'in-grace' | 'warned' | 'blocked' | 'unknown';

export function workstationGrace(installed: string, released: { version: string; releasedAt: string | null } | null, now: string | number | Date, policy: OutdatedPolicySetting): { state: WorkstationGraceState; deadline: string | null } {
  if (!released || !isVersion(installed) || !isVersion(released.version)) return { state: 'unknown', deadline: null };
  const order = compareVersions(installed, released.version);
  if (order === 0) return { state: 'current', deadline: null };
  if (order > 0) return { state: 'ahead', deadline: null };
  const g = graceStatus(released.releasedAt, now, policy);
  return { state: g.inGrace ? 'in-grace' : g.policy === 'warn' ? 'warned' : 'blocked', deadline: g.deadline };
}
