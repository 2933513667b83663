/**
 * The backup before a release migrates the client's database. SQLite: `VACUUM INTO` a new file beside the database
 * (a consistent copy while others keep reading), created empty first with mode 0600 so the copy of business data is
 * never readable by other local users. PostgreSQL / SQL Server: the command IT configured (database.backup.command),
 * run without a shell; only exit code 0 counts as a backup. The release transaction protects the database either way;
 * the backup is what an administrator restores when the new version turns out wrong after the release.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError } from '../../contract/errors';
import { Db } from '../../db/connection';
import { O_NOFOLLOW } from '../../kernel/noFollowFile';
import { MigrationSettings } from './settings';

export interface BackupDone {
  /** The SQLite copy, or null where IT's command made the backup (its own place). */
  file: string | null;
  how: 'vacuum-into' | 'command';
}

/** 2026-11-30T23:15:01.123Z → 20261130T231501Z (file names). */
function stampOf(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** `shared.db` → `shared.db.before-2.0.0-20261130T231501Z.backup`, beside it. */
export function backupFileFor(dbFile: string, version: string, at: Date): string {
  return path.join(path.dirname(dbFile), `${path.basename(dbFile)}.before-${version.replace(/[^A-Za-z0-9.+-]/g, '_')}-${stampOf(at)}.backup`);
}

function failed(why: string, details: Record<string, unknown>, cause?: unknown): LockstepError {
  return new LockstepError('E_SCHEMA_BACKUP_FAILED', `The backup before the migration failed (${why}); nothing was changed.`, details, { cause });
}

/** Backs the database up as configured; null where no backup is configured for this kind of database. */
export async function backupBeforeMigration(db: Db, settings: MigrationSettings, version: string, now: () => Date = () => new Date()): Promise<BackupDone | null> {
  if (!settings.backup) return null;
  if (db.target.dialect === 'sqlite') return { file: await vacuumInto(db, backupFileFor(db.target.file, version, now())), how: 'vacuum-into' };
  if (!settings.backupCommand) return null;
  await runBackupCommand(settings.backupCommand, { version, time: stampOf(now()) }, settings.backupTimeoutMs);
  return { file: null, how: 'command' };
}

async function vacuumInto(db: Db, file: string): Promise<string> {
  let fd: number;
  try {
    // A new name only (O_EXCL), never through a link: VACUUM INTO then fills this empty 0600 file.
    fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | O_NOFOLLOW, 0o600);
  } catch (err) {
    throw failed(`${file} cannot be created: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, { file }, err);
  }
  try {
    fs.fchmodSync(fd, 0o600);
  } finally {
    fs.closeSync(fd);
  }
  try {
    await db.knex.raw('VACUUM INTO ?', [file]);
  } catch (err) {
    fs.rmSync(file, { force: true });
    throw failed(`VACUUM INTO ${file}: ${(err as Error).message}`, { file }, err);
  }
  return file;
}

/** Runs IT's command; `{version}` and `{time}` in an argument are filled in (for the backup's file name). */
function runBackupCommand(argv: readonly string[], values: { version: string; time: string }, timeoutMs: number): Promise<void> {
  const args = argv.map((a) => a.replace(/\{version\}/g, values.version).replace(/\{time\}/g, values.time));
  const program = args[0]!;
  return new Promise((resolve, reject) => {
    let stderr = '';
    const child = spawn(program, args.slice(1), { shell: false, stdio: ['ignore', 'ignore', 'pipe'], timeout: timeoutMs, windowsHide: true });
    child.stderr.on('data', (b: Buffer) => {
      stderr = (stderr + b.toString('utf8')).slice(-2000);
    });
    child.on('error', (err) => reject(failed(`${program} could not be started: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { program }, err)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      reject(failed(`${program} ended with ${signal ? `signal ${signal}` : `exit code ${code}`}`, { program, exitCode: code, signal, stderr: stderr.trim().slice(-400) }));
    });
  });
}
