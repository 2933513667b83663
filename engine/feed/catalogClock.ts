/**
 * A catalog issued in the future: either the vendor's signing clock or this workstation's clock is wrong. It is not
 * refused (the signature holds, and refusing would stop updates for a clock error), but reported: a warning in the
 * log and a coded warning on the check result, because the "never older than the last catalog seen" rule measures
 * later catalogs against this date.
 */
import { Warning } from '../../contract/update';
import { Catalog } from '../../kernel/catalogSchema';

/** How far a catalog's issue time may lie ahead of this workstation's clock before it is reported. */
export const DEFAULT_CATALOG_CLOCK_SKEW_MS = 5 * 60_000;

export function futureIssueWarning(catalog: Pick<Catalog, 'issuedAt'>, now: Date, maxSkewMs: number = DEFAULT_CATALOG_CLOCK_SKEW_MS): Warning | null {
  const aheadMs = Date.parse(catalog.issuedAt) - now.getTime();
  if (!(aheadMs > maxSkewMs)) return null;
  return {
    code: 'W_CATALOG_FROM_FUTURE',
    issuedAt: catalog.issuedAt,
    checkedAt: now.toISOString(),
    aheadMs,
    message: `The catalog was issued ${catalog.issuedAt}, ${Math.round(aheadMs / 60_000)} minutes after this workstation's time (${now.toISOString()}). Check this computer's clock; if it is right, tell the vendor their signing clock is wrong.`,
  };
}
