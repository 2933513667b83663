/**
 * The client's migrations as the package carries them: each file the signed claim names is opened once, without
 * following a link (kernel/noFollowFile.ts), its bytes hashed and compared with the signed SHA-512, and compiled
 * from exactly those bytes — never loaded again by path, so a file swapped after the check changes nothing. Every
 * step of a request is verified before any is returned, so one changed file means nothing runs (E_SIGNATURE naming
 * it). A file exports `up(knex)` like a knex migration; it receives the release transaction.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import * as vm from 'node:vm';
import { LockstepError } from '../../contract/errors';
import { openRegularNoFollow, readUpTo } from '../../kernel/noFollowFile';
import type { ClientMigration, SchemaClaim, SchemaMigrationFile } from '../../kernel/schemaClaim';

/** More than any hand-written migration needs; a larger file is not read into memory. */
export const MAX_MIGRATION_BYTES = 4 * 1024 * 1024;

function notSigned(file: string, why: string): LockstepError {
  return new LockstepError('E_SIGNATURE', `The migration ${path.basename(file)} is not the file the vendor signed (${why}); no migration ran and the database is unchanged. Reinstall this version from a verified download.`, {
    file,
    why,
  });
}

/** The file's bytes, read once through one descriptor that cannot be a link, a FIFO or a device. */
function readOnce(file: string): Buffer {
  let opened;
  try {
    opened = openRegularNoFollow(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw notSigned(file, code === 'ELOOP' ? 'it is a symbolic link' : code === 'ENOENT' ? 'it is missing' : code === 'ENOTREG' ? 'it is not a regular file' : `it cannot be opened: ${code ?? (err as Error).message}`);
  }
  try {
    const bytes = readUpTo(opened.fd, MAX_MIGRATION_BYTES);
    if (!bytes) throw notSigned(file, `it is larger than ${MAX_MIGRATION_BYTES} bytes`);
    return bytes;
  } finally {
    fs.closeSync(opened.fd);
  }
}

/** Checks `bytes` against the signed hash; throws E_SIGNATURE naming the file when they differ. */
export function checkSigned(file: string, bytes: Buffer, expected: SchemaMigrationFile): void {
  const actual = createHash('sha512').update(bytes).digest();
  const signed = Buffer.from(expected.sha512, 'base64');
  if (signed.length !== actual.length || !timingSafeEqual(actual, signed)) throw notSigned(file, 'its SHA-512 differs from the signed one');
}

/** Compiles the verified bytes as a CommonJS module (what require() would do, minus reading the file again). */
export function compileMigration(file: string, bytes: Buffer, expected: SchemaMigrationFile): ClientMigration {
  const module = { exports: {} as Record<string, unknown> };
  const body = vm.compileFunction(bytes.toString('utf8'), ['exports', 'require', 'module', '__filename', '__dirname'], { filename: file });
  body.call(module.exports, module.exports, createRequire(file), module, file, path.dirname(file));
  const up = module.exports['up'];
  if (typeof up !== 'function') {
    throw new LockstepError('E_SCHEMA_CLAIM_INVALID', `The migration ${expected.name} exports no up(knex) function.`, { file, reason: 'no up(knex) export' });
  }
  return { name: expected.name, level: expected.level, up: (tx) => Promise.resolve((up as (k: unknown) => unknown)(tx)).then(() => undefined) };
}

/** Reads, verifies and compiles one signed migration file under `resourcesDir`. */
export function loadPackagedMigration(resourcesDir: string, folder: string, expected: SchemaMigrationFile): ClientMigration {
  const file = path.join(resourcesDir, ...folder.split('/'), expected.name);
  const bytes = readOnce(file);
  checkSigned(file, bytes, expected);
  return compileMigration(file, bytes, expected);
}

/** The signed file that brings `level`, if the claim's folder has one. */
export function packagedFileFor(claim: SchemaClaim | null, level: number): SchemaMigrationFile | null {
  return claim?.migrations?.files.find((f) => f.level === level) ?? null;
}
