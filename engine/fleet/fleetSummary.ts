/**
 * The fleet's convergence, computed from the registry rows and one "now" (the database server's clock), with no I/O:
 * the CLI (`lockstep fleet`) and the release management window show exactly these numbers.
 *
 * A retired workstation is left out until it starts again: a start after its retirement counts it again, so a
 * machine retired by mistake (or brought back) needs no second administrator action.
 */
import type { FleetFailure, FleetGrace, FleetSummary, FleetVersionCount, FleetWorkstation } from '../../contract/fleet';
import type { Workstation } from '../../db/types';
import { compareVersions, isVersion } from '../../kernel/version';

const DAY_MS = 86_400_000;

/** The failure codes older rows carry only in their text ("E_X: upgrade to … failed"), before codes had a column. */
const CODE_IN_TEXT = /^(E_[A-Z0-9_]{1,60}):/;

/**
 * Where a workstation stands in the outdated policy's grace period (fleetView.ts builds it from engine/grace.ts under
 * "warn for N days"); under plain block or warn none is passed and no workstation shows a grace period.
 */
export type FleetGraceHook = (w: Workstation) => FleetGrace | null;

export interface FleetSummaryInput {
  channel: string;
  released: string | null;
  scheduled?: { version: string; at: string } | null;
  rows: readonly Workstation[];
  now: Date;
  staleDays: number;
  grace?: FleetGraceHook;
}

export function isRetired(w: Workstation): boolean {
  return w.retiredAt !== null && Date.parse(w.lastStart) <= Date.parse(w.retiredAt);
}

export function failureCode(w: Workstation): string | null {
  return w.lastResultCode ?? CODE_IN_TEXT.exec(w.lastResult ?? '')?.[1] ?? null;
}

function sameVersion(a: string, b: string): boolean {
  // A version text a workstation wrote that does not parse is compared as text: it never matches a real release.
  return isVersion(a) && isVersion(b) ? compareVersions(a, b) === 0 : a === b;
}

export function summarizeFleet(input: FleetSummaryInput): FleetSummary {
  const nowMs = input.now.getTime();
  const counted = input.rows.filter((w) => !isRetired(w));
  const workstations: FleetWorkstation[] = counted.map((w) => ({
    workstationId: w.workstationId,
    hostName: w.hostName,
    osUser: w.osUser,
    installedVersion: w.installedVersion,
    ring: w.ring,
    lastStart: w.lastStart,
    daysSinceStart: Math.max(0, Math.floor((nowMs - Date.parse(w.lastStart)) / DAY_MS)),
    onReleased: input.released !== null && sameVersion(w.installedVersion, input.released),
    lastResult: w.lastResult,
    lastResultCode: failureCode(w),
    lastResultAt: w.lastResultAt,
    grace: input.grace?.(w) ?? null,
  }));
  const failed: FleetFailure[] = workstations
    .filter((w) => w.lastResultCode !== null)
    .map((w) => ({ workstationId: w.workstationId, hostName: w.hostName, code: w.lastResultCode!, at: w.lastResultAt, text: w.lastResult }))
    .sort((a, b) => (b.at ?? '').localeCompare(a.at ?? ''));
  return {
    channel: input.channel,
    released: input.released,
    scheduled: input.scheduled ?? null,
    at: input.now.toISOString(),
    staleDays: input.staleDays,
    total: workstations.length,
    onReleased: workstations.filter((w) => w.onReleased).length,
    versions: countVersions(workstations, input.released),
    workstations,
    testWorkstations: workstations.filter((w) => w.ring === 'test'),
    failed,
    stale: workstations.filter((w) => nowMs - Date.parse(w.lastStart) >= input.staleDays * DAY_MS).sort((a, b) => a.lastStart.localeCompare(b.lastStart)),
    retired: input.rows.filter(isRetired).map((w) => ({ workstationId: w.workstationId, hostName: w.hostName, retiredAt: w.retiredAt!, retiredBy: w.retiredBy })),
  };
}

function countVersions(workstations: readonly FleetWorkstation[], released: string | null): FleetVersionCount[] {
  const counts = new Map<string, number>();
  for (const w of workstations) counts.set(w.installedVersion, (counts.get(w.installedVersion) ?? 0) + 1);
  return [...counts.entries()]
    .map(([version, count]) => ({ version, count, released: released !== null && sameVersion(version, released) }))
    .sort((a, b) => b.count - a.count || (isVersion(a.version) && isVersion(b.version) ? compareVersions(b.version, a.version) : a.version.localeCompare(b.version)));
}
