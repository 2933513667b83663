/**
 * The schema claim a vendor signs into a version's manifest (`feed add --schema-works 1-2 --schema-brings 2
 * [--migrations DIR [--migrations-folder PATH]]`): the levels the version works on, the level it brings, and — with a
 * folder — every migration file's name, level (kernel/migrationFileName.ts) and SHA-512, plus where the folder lies
 * inside the app's resources. Refused with E_SCHEMA_CLAIM_INVALID when the claim and the files disagree, because a
 * workstation can only run what the claim covers, level by level.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError } from '../contract/errors';
import { levelOfMigrationFile, parseLevelRange } from '../kernel/migrationFileName';
import { SchemaClaim, SchemaClaimSchema, SchemaMigrationFile } from '../kernel/schemaClaim';
import { isPlainName } from '../kernel/plainName';

export interface SchemaClaimInput {
  /** "1-2" or "3". */
  works: string;
  brings: number | string;
  /** The vendor's folder of migration files; null/absent: the host registers its migrations in code. */
  migrationsDir?: string | null;
  /** The folder's path inside the app's resources (plain names joined by "/"); default: the folder's own name. */
  folder?: string;
}

function invalid(reason: string, details: Record<string, unknown> = {}): never {
  throw new LockstepError('E_SCHEMA_CLAIM_INVALID', `The schema claim is inconsistent: ${reason}`, { reason, ...details });
}

function parseBrings(value: number | string): number {
  const n = typeof value === 'number' ? value : /^\s*\d{1,7}\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isInteger(n) || n < 0) invalid(`"${value}" is not a schema level (a whole number from 0).`);
  return n;
}

function migrationFiles(dir: string): SchemaMigrationFile[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return invalid(`the migrations folder ${dir} cannot be read.`, { folder: dir });
  }
  const files: SchemaMigrationFile[] = [];
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    // A link or sub-folder would sign something other than the file the package carries.
    if (!e.isFile()) invalid(`${e.name} in the migrations folder is not a plain file.`, { file: e.name });
    const level = levelOfMigrationFile(e.name);
    if (level === null || !isPlainName(e.name)) invalid(`${e.name} does not follow the migration file convention NNNN_name.js (NNNN: the level it brings).`, { file: e.name });
    const sha512 = createHash('sha512').update(fs.readFileSync(path.join(dir, e.name))).digest('base64');
    files.push({ name: e.name, level, sha512 });
  }
  return files.sort((a, b) => a.level - b.level);
}

/** Every level from the first the version must be able to bring up to `brings` has exactly one file; none above it. */
function checkCoverage(files: SchemaMigrationFile[], works: { min: number; max: number }, brings: number): void {
  const byLevel = new Map<number, string>();
  for (const f of files) {
    const twin = byLevel.get(f.level);
    if (twin) invalid(`${twin} and ${f.name} both bring level ${f.level}.`, { file: f.name });
    if (f.level > brings) invalid(`${f.name} brings level ${f.level}, which the claim does not cover (it brings ${brings}).`, { file: f.name });
    byLevel.set(f.level, f.name);
  }
  // From the lowest level it works on (or its lowest file, if that is lower) every step up to `brings` must exist.
  const from = Math.min(works.min + 1, files[0]?.level ?? works.min + 1);
  for (let level = Math.max(from, 1); level <= brings; level++) {
    if (!byLevel.has(level)) invalid(`no migration file brings level ${level} (a gap between ${from - 1} and ${brings}).`, { level });
  }
}

export function buildSchemaClaim(input: SchemaClaimInput): SchemaClaim {
  const works = parseLevelRange(input.works);
  if (!works) invalid(`"${input.works}" is not a range of schema levels (for example 1-2 or 3).`);
  const brings = parseBrings(input.brings);
  if (brings < works.min || brings > works.max) invalid(`it brings level ${brings}, outside the levels it works on (${input.works.trim()}).`);
  let migrations: SchemaClaim['migrations'] = null;
  if (input.migrationsDir) {
    const files = migrationFiles(input.migrationsDir);
    checkCoverage(files, works, brings);
    migrations = { folder: input.folder ?? path.basename(path.resolve(input.migrationsDir)), files };
  } else if (input.folder) {
    invalid('--migrations-folder names where the migrations lie in the app; name the folder itself with --migrations.');
  }
  const parsed = SchemaClaimSchema.safeParse({ works, brings, migrations });
  if (!parsed.success) invalid(parsed.error.issues.map((i) => `${i.path.join('.') || 'claim'} ${i.message}`).join('; '));
  return parsed.data;
}
