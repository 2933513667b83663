/**
 * When a release happened, as one instant on the UTC time line, whatever the workstation's time zone. The catalog's
 * dates are ISO 8601 texts signed by the vendor: with an offset ("…Z", "…+02:00") they are exact; a bare date
 * ("2026-03-31") is midnight UTC (as Date.parse reads it); a date-time without an offset is read as UTC too — Date.parse
 * would read it in the workstation's local zone, and two workstations of one site must never disagree on a release.
 */
import { ErrorInfo } from '../contract/errors';

const LOCAL_DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;

/** Milliseconds since the epoch (NaN when the text is not a date; the catalog schema already refused those). */
export function releaseInstant(releaseDate: string): number {
  return Date.parse(LOCAL_DATE_TIME.test(releaseDate) ? `${releaseDate}Z` : releaseDate);
}

/** "2027-01-05 10:00 UTC": how a release instant is shown to a person. */
export function formatUtc(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/**
 * The availability rule: a version is not offered for installation before its release date. It is still listed
 * (the vendor published it, and IT sees when it becomes installable) with E_NOT_YET_RELEASED as the reason; from the
 * release instant on (release date <= now) it is offered. Null when the version may be offered.
 */
export function notYetReleased(target: { version: string; releaseDate: string }, now: Date): ErrorInfo | null {
  const at = releaseInstant(target.releaseDate);
  if (!(at > now.getTime())) return null;
  return {
    code: 'E_NOT_YET_RELEASED',
    message: `Version ${target.version} is dated ${formatUtc(at)} and is not offered before then.`,
    details: { version: target.version, releaseDate: target.releaseDate, releaseAt: formatUtc(at) },
  };
}
