/** IT's backup command in the machine configuration: argv only, and never a secret on its command line. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isLockstepError } from '../../contract/errors';
import { migrationSettings } from '../../engine/schema/settings';
import { machineConfigFrom } from '../../kernel/config';

const base = { installDir: 'app', database: { url: 'postgres://lockstep@db.example/site' } };

function withBackup(backup: unknown) {
  return machineConfigFrom({ ...base, database: { ...base.database, backup } }, '/etc/lockstep/lockstep.machine.json');
}

describe('database.backup in the machine configuration', () => {
  test('a command as an argument list becomes the migration settings', () => {
    const s = migrationSettings(withBackup({ command: ['/usr/bin/pg_dump', '--format=custom', '--file=/backup/site-{version}-{time}.dump', 'site'], timeoutMs: 600_000 }));
    assert.deepEqual([s.backup, s.backupCommand, s.backupTimeoutMs], [true, ['/usr/bin/pg_dump', '--format=custom', '--file=/backup/site-{version}-{time}.dump', 'site'], 600_000]);
    assert.equal(migrationSettings(machineConfigFrom(base, '/etc/lockstep/lockstep.machine.json')).backup, true, 'backup is on by default');
    assert.equal(migrationSettings(withBackup({ beforeMigration: false })).backup, false);
  });

  for (const arg of ['--password=hunter2', 'PGPASSWORD=x', 'postgres://site:hunter2@db/site', 'pwd: x', 'secret=1']) {
    test(`refuses a secret on the command line: ${arg}`, () => {
      assert.throws(() => withBackup({ command: ['/usr/bin/pg_dump', arg] }), (e: unknown) => isLockstepError(e, 'E_CONFIG_INVALID') && /must not carry a password/.test((e as Error).message) && !(e as Error).message.includes('hunter2'));
    });
  }
});
