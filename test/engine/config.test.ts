import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { isLockstepError } from '../../contract/errors';
import { loadMachineConfig, loadUserSettings, saveUserSettings } from '../../kernel/config';
import { tempDir } from '../helpers/backends';

test('machine config: defaults applied, relative paths resolved against the file, BOM tolerated', () => {
  const dir = tempDir();
  const file = path.join(dir, 'lockstep.machine.json');
  fs.writeFileSync(file, '\uFEFF' + JSON.stringify({ installDir: 'app', database: { url: 'sqlite:shared.db' }, log: { dir: 'logs' } }));
  const c = loadMachineConfig(file);
  assert.equal(c.installDir, path.join(dir, 'app'));
  assert.equal(c.log.dir, path.join(dir, 'logs'));
  assert.deepEqual([c.channel, c.outdatedPolicy, c.administrators, c.workstation.ring, c.database.connectTimeoutMs], ['stable', 'block', [], 'regular', 10_000]);
});

test('per-user settings: round trip; a broken file is kept aside, never deleted, and defaults apply', () => {
  const dir = tempDir();
  const file = path.join(dir, 'settings.json');
  assert.deepEqual(loadUserSettings(file), { settings: { checkAtStart: false }, warning: null });
  saveUserSettings(file, { checkAtStart: true, locale: 'de' });
  assert.deepEqual(loadUserSettings(file).settings, { checkAtStart: true, locale: 'de' });
  fs.writeFileSync(file, '{"checkAtStart": "yes please"');
  const loaded = loadUserSettings(file);
  assert.deepEqual(loaded.settings, { checkAtStart: false });
  assert.match(loaded.warning ?? '', /not valid JSON.*kept as .*settings\.json\.broken-/);
  const aside = fs.readdirSync(dir).filter((f) => f.startsWith('settings.json.broken-'));
  assert.equal(aside.length, 1);
  assert.equal(fs.readFileSync(path.join(dir, aside[0]!), 'utf8'), '{"checkAtStart": "yes please"');
  assert.throws(() => saveUserSettings(file, { checkAtStart: true, locale: 'xx' as 'de' }));
  assert.ok(!fs.existsSync(file), 'an invalid save writes nothing');
});

test('machine config that does not exist: E_CONFIG_INVALID naming it', () => {
  const file = path.join(tempDir(), 'missing.json');
  assert.throws(() => loadMachineConfig(file), (e) => isLockstepError(e, 'E_CONFIG_INVALID') && (e as Error).message.includes(file) && /ENOENT/.test((e as Error).message));
});
