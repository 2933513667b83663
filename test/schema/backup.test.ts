/**
 * The backup before a migration. SQLite: a VACUUM INTO copy beside the database, mode 0600, holding the database as
 * it was; `lockstep schema restore-backup` (real CLI process) says what is lost, needs --yes, restores and audits.
 * PostgreSQL: IT's backup command runs without a shell, and a failing one stops the release with nothing changed.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { isLockstepError } from '../../contract/errors';
import { FleetStore } from '../../db/fleetStore';
import { backends, migratedDb, tempDir } from '../helpers/backends';
import { identity } from '../helpers/actors';
import { dumpDatabase, fileMode, schemaEngine } from '../helpers/clientSchema';
import { simWorkstation } from '../helpers/workstationSim';
import { backupBeforeMigration, backupFileFor } from '../../engine/schema/backup';
import { DEFAULT_MIGRATION_SETTINGS } from '../../engine/schema/settings';

const sqlite = backends().find((b) => b.name === 'sqlite')!;
const pg = backends().find((b) => b.name === 'postgres');

describe('backup before a migration on sqlite', () => {
  test('a 0600 copy beside the database holds the level-2 database; restore-backup states the loss, needs --yes, restores, audits', async () => {
    const { db, tdb, cleanup } = await migratedDb(sqlite);
    try {
      const fleet = new FleetStore(db);
      await schemaEngine(fleet, identity('ws-admin'), '1.1.0').ledger.release('1.1.0');
      await db.knex('app_customers').insert([{ name: 'Ada', email: 'ada@x' }]);
      const before = await dumpDatabase(db, ['lockstep_schema_lease']);
      const r = await schemaEngine(fleet, identity('ws-admin'), '2.0.0', { settings: { backup: true } }).ledger.release('2.0.0');
      const file = r.schemaMove?.backup?.file;
      assert.ok(file, 'the release names its backup');
      const dbFile = tdb.url.slice('sqlite:'.length);
      assert.equal(path.dirname(file), path.dirname(dbFile), 'beside the database');
      assert.match(path.basename(file), /^shared\.db\.before-2\.0\.0-\d{8}T\d{6}Z\.backup$/);
      assert.equal(fileMode(file), 0o600);
      assert.equal((await fleet.schema.history())[0]!.backup, file, 'the history row points at it');
      await db.knex('app_customers').insert([{ name: 'Written after the release', email: null }]);

      const admin = simWorkstation({ id: 'ws-admin', dbUrl: tdb.configUrl, installed: '2.0.0', admin: true });
      admin.setInstalled('2.0.0');
      const asked = await admin.json<{ error: { code: string; message: string } }>(['schema', 'restore-backup', file]);
      assert.equal(asked.code, 2, 'a usage error');
      assert.equal(asked.body.error.code, 'E_USAGE');
      assert.match(asked.body.error.message, /schema level 2, released version 1\.1\.0 \(now: level 3, released 2\.0\.0\)\. Every change made since the backup is lost/);
      assert.equal((await fleet.schema.level())?.level, 3, 'nothing restored without --yes');
      const clerk = simWorkstation({ id: 'ws-clerk', dbUrl: tdb.configUrl, installed: '2.0.0' });
      const refused = await clerk.json<{ error: { code: string } }>(['schema', 'restore-backup', file, '--yes']);
      assert.equal(refused.body.error.code, 'E_NOT_ADMIN');

      const done = await admin.json<{ restored: { level: number; released: string } }>(['schema', 'restore-backup', file, '--yes']);
      assert.equal(done.code, 0, done.stderr);
      assert.deepEqual([done.body.restored.level, done.body.restored.released], [2, '1.1.0']);
      const after = await dumpDatabase(db, ['lockstep_schema_lease', 'lockstep_events']);
      const beforeWithoutEvents = Object.fromEntries(Object.entries(before).filter(([table]) => table !== 'lockstep_events'));
      assert.deepEqual(after, { ...beforeWithoutEvents, schema: (before['schema'] as Array<{ name: string }>).filter((r) => r.name !== 'lockstep_events') });
      const restoreRow = (await fleet.events({ action: 'schema-restore' }))[0];
      assert.deepEqual([restoreRow?.outcome, restoreRow?.detail?.['replacedLevel'], restoreRow?.detail?.['level']], ['ok', 3, 2]);
      const status = await admin.json<{ level: { level: number }; history: unknown[] }>(['schema', 'status']);
      assert.deepEqual([status.code, status.body.level.level, status.body.history.length], [0, 2, 1]);
    } finally {
      await cleanup();
    }
  });

  test('a link planted under the backup name is never followed: the backup fails with a code, the link target is untouched', async () => {
    const { db, tdb, cleanup } = await migratedDb(sqlite);
    try {
      const at = new Date('2026-11-30T23:00:00.000Z');
      const dbFile = tdb.url.slice('sqlite:'.length);
      const victim = path.join(tempDir('lockstep-victim-'), 'victim');
      fs.writeFileSync(victim, 'keep me');
      fs.symlinkSync(victim, backupFileFor(dbFile, '2.0.0', at));
      const settings = { ...DEFAULT_MIGRATION_SETTINGS, backup: true };
      await assert.rejects(backupBeforeMigration(db, settings, '2.0.0', () => at), (e: unknown) => isLockstepError(e, 'E_SCHEMA_BACKUP_FAILED') && /EEXIST/.test((e as Error).message));
      assert.equal(fs.readFileSync(victim, 'utf8'), 'keep me');
      assert.ok(fs.lstatSync(backupFileFor(dbFile, '2.0.0', at)).isSymbolicLink(), 'the planted link is left as it was');
    } finally {
      await cleanup();
    }
  });
});

if (pg) {
  describe('backup command before a migration on postgres', () => {
    test("IT's command runs with its arguments as given (no shell); exit code 0 lets the release go on", async () => {
      const { db, cleanup } = await migratedDb(pg);
      const dir = tempDir('lockstep-pgbackup-');
      try {
        const fleet = new FleetStore(db);
        await schemaEngine(fleet, identity('ws-admin'), '1.1.0').ledger.release('1.1.0');
        const script = path.join(dir, 'backup.js');
        fs.writeFileSync(script, `require('fs').writeFileSync(process.argv[2], JSON.stringify(process.argv.slice(3)));`);
        const out = path.join(dir, 'args-{version}.json');
        const backupCommand = [process.execPath, script, out, '$(touch pwned)', 'at-{time}'];
        const r = await schemaEngine(fleet, identity('ws-admin'), '2.0.0', { settings: { backup: true, backupCommand } }).ledger.release('2.0.0');
        assert.deepEqual(r.schemaMove?.backup, { file: null, how: 'command' });
        const args = JSON.parse(fs.readFileSync(path.join(dir, 'args-2.0.0.json'), 'utf8')) as string[];
        assert.equal(args[0], '$(touch pwned)', 'no shell expanded it');
        assert.match(args[1]!, /^at-\d{8}T\d{6}Z$/);
        assert.ok(!fs.existsSync(path.join(process.cwd(), 'pwned')));
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
        await cleanup();
      }
    });

    test('a failing backup command stops the release: nothing changed, lease free, coded error with the exit code', async () => {
      const { db, cleanup } = await migratedDb(pg);
      try {
        const fleet = new FleetStore(db);
        await schemaEngine(fleet, identity('ws-admin'), '1.1.0').ledger.release('1.1.0');
        const before = await dumpDatabase(db);
        const backupCommand = [process.execPath, '-e', 'process.stderr.write("pg_dump: connection refused"); process.exit(3)'];
        await assert.rejects(
          schemaEngine(fleet, identity('ws-admin'), '2.0.0', { settings: { backup: true, backupCommand } }).ledger.release('2.0.0'),
          (e: unknown) => isLockstepError(e, 'E_SCHEMA_BACKUP_FAILED') && e.details['exitCode'] === 3 && /connection refused/.test(String(e.details['stderr'])),
        );
        assert.deepEqual(await dumpDatabase(db), before);
        assert.equal(await fleet.schema.leaseHolder(), null);
        assert.equal((await fleet.releases.current('stable'))?.release?.version, '1.1.0');
      } finally {
        await cleanup();
      }
    });
  });
}
