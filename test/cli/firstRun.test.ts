/**
 * A newcomer's first commands: every coded error printed without --json carries the line that says what to do (in the
 * shell's language), and a command run without any machine configuration says how to get one — the demo it points
 * to does leave one, and the command then works with it.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { ERROR_CODES, LockstepError } from '../../contract/errors';
import { MESSAGES } from '../../contract/messages';
import { cliLocale, humanErrorText } from '../../cli/errorText';
import { tempDir } from '../helpers/backends';
import { CLI, runNode } from '../helpers/workstationSim';

/** The environment of a fresh shell: no LOCKSTEP_CONFIG, an English or a given locale. */
function shellEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], HOME: process.env['HOME'], LANG: 'C.UTF-8', ...extra };
  return env;
}

test('every error code has a what-to-do line in human mode, in the shell’s language', () => {
  for (const code of ERROR_CODES) {
    const text = humanErrorText(new LockstepError(code, `technical text for ${code}`), 'en');
    const [first, second, ...rest] = text.split('\n');
    assert.equal(first, `error ${code}: technical text for ${code}`);
    assert.ok(second!.startsWith('what to do: ') && second!.length > 'what to do: '.length + 5, `${code}: ${second}`);
    assert.deepEqual(rest, [''], 'two lines');
    assert.ok(MESSAGES[code], `${code} has localized text`);
  }
  assert.equal(humanErrorText(new LockstepError('E_DB_SCHEMA', 'x'), 'de').split('\n')[1], 'was tun: Die IT muss „lockstep db migrate“ ausführen.');
  assert.deepEqual(
    ['de_DE.UTF-8', 'fr_CH.UTF-8', 'C.UTF-8', ''].map((LANG) => cliLocale({ LANG })),
    ['de', 'fr', 'en', 'en'],
  );
  assert.equal(cliLocale({ LANG: 'de_DE.UTF-8', LC_ALL: 'fr_FR.UTF-8' }), 'fr', 'LC_ALL wins, as for every program');
});

test('the real CLI prints the what-to-do line after a usage error and a broken configuration', async () => {
  const usage = await runNode(CLI, ['release'], { env: shellEnv() });
  assert.equal(usage.code, 2);
  assert.deepEqual(usage.stderr.split('\n').slice(-2), ['what to do: Check the command with --help.', '']);
  assert.match(usage.stderr, /^error E_USAGE: Usage: lockstep release/);

  const dir = tempDir();
  const broken = path.join(dir, 'lockstep.machine.json');
  fs.writeFileSync(broken, '{ "installDir": ');
  const r = await runNode(CLI, ['status', '--config', broken], { env: shellEnv({ LANG: 'fr_FR.UTF-8' }) });
  assert.equal(r.code, 1);
  assert.deepEqual(r.stderr.split('\n'), [
    `error E_CONFIG_INVALID: The machine configuration ${broken} is not valid JSON (it ends too early). Check it with a JSON validator.`,
    'que faire: Demandez au service informatique de corriger le fichier de configuration indiqué dans les détails.',
    '',
  ]);
  assert.equal(fs.readFileSync(broken, 'utf8'), '{ "installDir": ', 'the file is left as it was');
});

test('without any machine configuration a command says how to get one; the demo it names leaves one that works', async () => {
  const cwd = tempDir();
  const expectedAction = 'what to do: Name one with --config FILE or the LOCKSTEP_CONFIG variable. To try Lockstep first, run "lockstep demo" (or "npm start" in its folder): it leaves one in .lockstep-dev/admin-pc/lockstep.machine.json.';

  const bare = await runNode(CLI, ['status'], { cwd, env: shellEnv() });
  assert.equal(bare.code, 1);
  assert.deepEqual(bare.stderr.split('\n'), [
    `error E_CONFIG_MISSING: There is no machine configuration at ${path.join(cwd, 'lockstep.machine.json')} (the default, ./lockstep.machine.json in the current folder).`,
    expectedAction,
    '',
  ]);

  const missing = path.join(cwd, 'nowhere', 'machine.json');
  const fromEnv = await runNode(CLI, ['releases', '--json'], { cwd, env: shellEnv({ LOCKSTEP_CONFIG: missing }) });
  assert.equal(fromEnv.code, 1);
  assert.deepEqual(JSON.parse(fromEnv.stdout), { error: { code: 'E_CONFIG_MISSING', message: `There is no machine configuration at ${missing} (named by LOCKSTEP_CONFIG).`, details: { file: missing } } });
  const fromFlag = await runNode(CLI, ['status', '--config', missing], { cwd, env: shellEnv() });
  assert.match(fromFlag.stderr, /\(named by --config\)\.\nwhat to do: Name one with --config/);

  // The way out it names: the demo leaves a configuration at that path, and the first command works with it.
  const demo = await runNode(CLI, ['demo', '--json'], { cwd, env: shellEnv() });
  assert.equal(demo.code, 0, demo.stderr);
  const left = path.join(cwd, '.lockstep-dev', 'admin-pc', 'lockstep.machine.json');
  assert.ok(fs.existsSync(left), left);
  const status = await runNode(CLI, ['status', '--json'], { cwd, env: shellEnv({ LOCKSTEP_CONFIG: left }) });
  assert.equal(status.code, 0, status.stdout + status.stderr);
  assert.equal((JSON.parse(status.stdout) as { installed: string }).installed, '2.0.0');
});
