/**
 * The privileged helper's command line has one shape on every OS — the app (or node + the helper script) with
 * --lockstep-privileged-apply first, no variables, no configuration name — and sudoersRule spells the rule that allows
 * exactly that shape (visudo accepts it, also for an install path with spaces). The configuration location is fixed
 * per OS from the app id electron-builder packages.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PRIVILEGED_FLAG, uacInvocation } from '../../installer/elevation/win32';
import { pkexecInvocation, sudoInvocation } from '../../installer/elevation/linux';
import { APP_ID, builtInMachineConfigLocation } from '../../installer/machineConfigLocation';
import { HELPER_SCRIPT, helperCommandFor } from '../../installer/platform';
import { privilegedArgs, runPrivilegedMain, sudoersRule } from '../../installer/privilegedApply';
import type { PlatformOptions } from '../../installer/platform';

const base = { config: {} as PlatformOptions['config'], log: {} as PlatformOptions['log'], prompt: async () => null, platform: 'linux' as const };

test('one shape: the app executable with the fixed first argument and no variables; plain Node runs the script the same way', () => {
  const packaged = helperCommandFor({ ...base, electronApp: { execPath: '/opt/Lockstep Client/lockstep-client', resourcesPath: '/opt/Lockstep Client/resources' } });
  assert.deepEqual(packaged(['--request', '/tmp/r.json']), { command: '/opt/Lockstep Client/lockstep-client', args: [PRIVILEGED_FLAG, '--request', '/tmp/r.json'] });
  assert.deepEqual(packaged(['--recover']), { command: '/opt/Lockstep Client/lockstep-client', args: [PRIVILEGED_FLAG, '--recover'] });
  const node = helperCommandFor(base);
  assert.deepEqual(node(['--recover']), { command: process.execPath, args: [HELPER_SCRIPT, PRIVILEGED_FLAG, '--recover'] });
  // sudo and pkexec run exactly that, without an `env` prefix.
  assert.deepEqual(sudoInvocation(packaged(['--recover'])).args.slice(4), ['--', '/opt/Lockstep Client/lockstep-client', PRIVILEGED_FLAG, '--recover']);
  assert.deepEqual(pkexecInvocation(packaged(['--recover'])).args, ['/opt/Lockstep Client/lockstep-client', PRIVILEGED_FLAG, '--recover']);
  // UAC: the same argument once.
  const app = { execPath: 'C:\\Program Files\\Client\\client.exe', resourcesPath: 'C:\\Program Files\\Client\\resources' };
  assert.deepEqual(uacInvocation(app, packaged(['--recover']).args).args, ['-wait', app.execPath, PRIVILEGED_FLAG, '--recover']);
});

test('the Electron entry recognises the helper by the flag right after the program (packaged) or the app folder (development)', () => {
  assert.deepEqual(privilegedArgs(['/opt/app/client', PRIVILEGED_FLAG, '--recover']), [PRIVILEGED_FLAG, '--recover']);
  assert.deepEqual(privilegedArgs(['/usr/bin/electron', '.', PRIVILEGED_FLAG, '--request', 'r']), [PRIVILEGED_FLAG, '--request', 'r']);
  assert.equal(privilegedArgs(['/opt/app/client']), null);
  assert.equal(privilegedArgs(['/opt/app/client', '--config=x', 'y', PRIVILEGED_FLAG]), null);
});

test('the sudoers rule names exactly that shape, and visudo accepts it (spaces in the path escaped)', () => {
  assert.equal(
    sudoersRule('%lockstep-updaters', '/opt/Lockstep Client/lockstep-client'),
    '%lockstep-updaters ALL=(root) /opt/Lockstep\\ Client/lockstep-client --lockstep-privileged-apply --request *, /opt/Lockstep\\ Client/lockstep-client --lockstep-privileged-apply --recover',
  );
  assert.equal(
    sudoersRule('%lockstep-updaters', '/usr/bin/node', '/opt/app/build/installer/privilegedApply.js'),
    '%lockstep-updaters ALL=(root) /usr/bin/node /opt/app/build/installer/privilegedApply.js --lockstep-privileged-apply --request *, /usr/bin/node /opt/app/build/installer/privilegedApply.js --lockstep-privileged-apply --recover',
  );
  if (process.platform !== 'linux' || !fs.existsSync('/usr/sbin/visudo')) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-sudoers-'));
  try {
    const file = path.join(dir, 'rule');
    fs.writeFileSync(file, `${sudoersRule('%lockstep-updaters', '/opt/Lockstep Client/lockstep-client')}\n`, { mode: 0o440 });
    execFileSync('/usr/sbin/visudo', ['-c', '-q', '-f', file]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the configuration location is fixed per OS from the packaged app id', () => {
  const yml = fs.readFileSync(path.resolve(__dirname, '../../../installer/electron-builder.yml'), 'utf8');
  assert.equal(/^appId:\s*(\S+)/m.exec(yml)?.[1], APP_ID);
  assert.equal(builtInMachineConfigLocation('linux'), `/etc/${APP_ID}/lockstep.machine.json`);
  assert.equal(builtInMachineConfigLocation('darwin'), `/Library/Application Support/${APP_ID}/lockstep.machine.json`);
  assert.equal(builtInMachineConfigLocation('win32'), `C:\\ProgramData\\${APP_ID}\\lockstep.machine.json`);
});

test('any other command line is a usage error that names no file: no flag, --config, both or neither of --request/--recover', async () => {
  for (const argv of [['--request', 'r'], [PRIVILEGED_FLAG, '--config', '/etc/shadow', '--recover'], [PRIVILEGED_FLAG], [PRIVILEGED_FLAG, '--recover', '--request', 'r']]) {
    const { code, result } = await runPrivilegedMain(argv, {});
    assert.equal(code, 2);
    assert.equal((result['error'] as { code: string }).code, 'E_USAGE', JSON.stringify(argv));
    assert.doesNotMatch(JSON.stringify(result), /shadow/);
  }
});
