/**
 * The fleet view as CSV (RFC 4180: every field quoted, quotes doubled, CRLF between records), safe to open in a
 * spreadsheet. Host names and OS users come from the workstations themselves, so a hostile one could be a formula
 * (`=HYPERLINK(...)`) that a spreadsheet would run: any cell starting with = + - @ tab or CR gets a leading apostrophe,
 * which spreadsheets show as text.
 */
import type { FleetSummary } from '../../contract/fleet';

const FORMULA_START = /^[=+\-@\t\r]/;

export const FLEET_CSV_COLUMNS = [
  'host', 'user', 'workstation_id', 'installed_version', 'on_released', 'ring', 'last_start', 'days_since_start', 'stale',
  'last_result_code', 'last_result_at', 'last_result', 'grace', 'grace_until',
] as const;

export function csvCell(value: string | number | boolean | null): string {
  let text = value === null ? '' : String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  return `"${text.replace(/"/g, '""')}"`;
}

export function fleetCsv(summary: FleetSummary): string {
  const stale = new Set(summary.stale.map((w) => w.workstationId));
  const records = [
    FLEET_CSV_COLUMNS.map(csvCell).join(','),
    ...summary.workstations.map((w) =>
      [
        w.hostName, w.osUser, w.workstationId, w.installedVersion, w.onReleased, w.ring, w.lastStart, w.daysSinceStart, stale.has(w.workstationId),
        w.lastResultCode, w.lastResultAt, w.lastResult, w.grace?.state ?? null, w.grace?.until ?? null,
      ].map(csvCell).join(','),
    ),
  ];
  return records.join('\r\n') + '\r\n';
}
