/**
 * The file-name convention of a client's packaged schema migrations: `NNNN_what_it_does.js` (four to six digits, an
 * underscore, a plain name, `.js` or `.cjs`). The number is the schema level the file brings the database to, so
 * `0002_add_email.js` moves level 1 to level 2. One file per level; the vendor tool refuses anything else, so the
 * signed claim and the folder always agree on which file runs for which step.
 */
const MIGRATION_FILE = /^(\d{4,6})_[A-Za-z0-9][A-Za-z0-9_.-]{0,100}\.c?js$/;

/** The level a migration file brings, or null when the name does not follow the convention. */
export function levelOfMigrationFile(name: string): number | null {
  const m = MIGRATION_FILE.exec(name);
  if (!m) return null;
  const level = Number(m[1]);
  return level >= 1 ? level : null;
}

/** "1-2", "1–2" or "3": a range of schema levels as the vendor writes it; null when it is none. */
export function parseLevelRange(text: string): { min: number; max: number } | null {
  const m = /^\s*(\d{1,7})\s*(?:[-–]\s*(\d{1,7}))?\s*$/.exec(text);
  if (!m) return null;
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : Number(m[2]);
  return min <= max ? { min, max } : null;
}
