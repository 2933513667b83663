/**
 * Restoring a SQLite backup taken before a migration (engine/schema/backup.ts) over the shared database file. The
 * copy goes through SQLite's online backup API into the live file, so it takes the database's own locks: other
 * processes see the old database or the restored one, never a half-copied file. Everything written since the backup
 * is gone afterwards, which is why the command around this says so and asks first.
 */
import * as fs from 'node:fs';
import knexFactory, { Knex } from 'knex';
import { LockstepError } from '../contract/errors';
import { openRegularNoFollow } from '../kernel/noFollowFile';

export interface BackupContents {
  file: string;
  /** The client schema level recorded in the backup (null: none recorded). */
  level: number | null;
  /** The released version of `channel` in the backup. */
  released: string | null;
  /** The newest audit row in the backup: the backup holds nothing written after it. */
  lastEventAt: string | null;
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/** Reads what a backup holds; refuses anything that is not a regular SQLite file with Lockstep's tables. */
export async function inspectBackup(file: string, channel: string): Promise<BackupContents> {
  let opened;
  try {
    opened = openRegularNoFollow(file);
  } catch (err) {
    throw new LockstepError('E_NOT_FOUND', `${file} is not a backup file Lockstep can read (${(err as NodeJS.ErrnoException).code ?? 'error'}).`, { file });
  }
  const header = Buffer.alloc(16);
  try {
    fs.readSync(opened.fd, header, 0, 16, 0);
  } finally {
    fs.closeSync(opened.fd);
  }
  if (!header.equals(SQLITE_HEADER)) throw new LockstepError('E_USAGE', `${file} is not a SQLite database.`, { file });
  const db = openReadOnly(file);
  try {
    const level = (await db('lockstep_schema_level').where({ id: 1 }).first('level')) as { level: number } | undefined;
    const released = (await db('lockstep_current as c').join('lockstep_releases as r', 'r.id', 'c.release_id').where('c.channel', channel).first('r.version as version')) as { version: string } | undefined;
    const last = (await db('lockstep_events').max({ at: 'at' }).first()) as { at: string | null } | undefined;
    return { file, level: level ? Number(level.level) : null, released: released?.version ?? null, lastEventAt: last?.at ?? null };
  } catch (err) {
    throw new LockstepError('E_USAGE', `${file} is not a backup of a Lockstep shared database: ${(err as Error).message}`, { file });
  } finally {
    await db.destroy();
  }
}

function openReadOnly(file: string): Knex {
  return knexFactory({ client: 'better-sqlite3', useNullAsDefault: true, connection: { filename: file, options: { readonly: true } }, pool: { min: 0, max: 1 } });
}

/** Copies the backup over the live database file through SQLite's backup API. */
export async function restoreSqliteBackup(backupFile: string, liveFile: string): Promise<void> {
  const source = openReadOnly(backupFile);
  try {
    // The driver's own connection object carries SQLite's online backup (better-sqlite3's Database#backup).
    const conn = (await (source.client as { acquireConnection(): Promise<unknown> }).acquireConnection()) as { backup(dest: string): Promise<unknown> };
    try {
      await conn.backup(liveFile);
    } finally {
      await (source.client as { releaseConnection(c: unknown): Promise<void> }).releaseConnection(conn);
    }
  } finally {
    await source.destroy();
  }
}
