/**
 * Size caps on signed documents read back from the shared database. Any database writer can store a gigabyte in a
 * text column; every workstation reading it would load it whole on each start. The length is checked in SQL, so an
 * oversized value never travels: the query returns a marker instead and the caller refuses the row.
 */
import { DbDialect } from '../kernel/dbUrl';

/** A vendor-signed manifest is a few kilobytes; a megabyte is far beyond any genuine one. */
export const MAX_MANIFEST_CHARS = 1024 * 1024;
/** A signed catalog lists every version with its notes (each capped at 200,000 characters). */
export const MAX_CATALOG_CHARS = 4 * 1024 * 1024;

/** What a capped manifest column reads as when the stored text is over the cap (never valid JSON). */
export const OVERSIZED_MANIFEST = 'lockstep:oversized-manifest';

/**
 * The character length of a text column, per dialect (`column` and `alias` are fixed names from code, never input),
 * optionally as a select expression named `alias`.
 */
export function textLengthSql(dialect: DbDialect, column: string, alias?: string): string {
  const as = alias ? ` as ${alias}` : '';
  switch (dialect) {
    case 'postgres':
      return `char_length(${column})${as}`;
    case 'mssql':
      return `(DATALENGTH(${column}) / 2)${as}`; // nvarchar: two bytes a character; LEN would skip trailing blanks
    case 'sqlite':
      return `length(${column})${as}`;
  }
}

/** `column` as a select expression that yields the text only while within `maxChars`, else `marker` (a literal). */
export function cappedTextSql(dialect: DbDialect, column: string, maxChars: number, marker: string, alias: string): string {
  if (!Number.isSafeInteger(maxChars) || maxChars <= 0) throw new Error('cap must be a positive integer');
  const quoted = `'${marker.replace(/'/g, "''")}'`;
  return `case when ${textLengthSql(dialect, column)} > ${maxChars} then ${dialect === 'mssql' ? `N${quoted}` : quoted} else ${column} end as ${alias}`;
}
