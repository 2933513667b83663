/**
 * The privileged helper refuses a version below the security floor of the root-owned machine configuration, before it
 * reads the package or writes anything — being allowed to run it is no way to downgrade to a version with a known hole.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { assertAboveFloor, runPrivilegedMain } from '../../installer/privilegedApply';
import { isLockstepError } from '../../contract/errors';

test('a request below the configured security floor is refused with nothing written', async () => {
  // The helper trusts a configuration only where nobody but root (or its own account) can change it: not in /tmp, nor
  // in a checkout that lies there (CI's may), so the folder is made in this account's home.
  const dir = fs.mkdtempSync(path.join(os.homedir(), '.lockstep-floor-test-'));
  fs.chmodSync(dir, 0o755);
  try {
    const app = path.join(dir, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'lockstep-version.json'), JSON.stringify({ version: '7.2.0' }));
    const config = path.join(dir, 'lockstep.machine.json');
    fs.writeFileSync(config, JSON.stringify({ installDir: 'app', database: { url: 'sqlite:shared.db' }, fleet: { securityFloor: '7.1.0' }, log: { dir: 'logs' } }));
    const pkg = path.join(dir, 'old.tar.gz');
    fs.writeFileSync(pkg, 'not even a package');
    const request = path.join(dir, 'request.json');
    fs.writeFileSync(request, JSON.stringify({ id: 'req-00000001', kind: 'portable', packagePath: pkg, toVersion: '7.0.9', manifest: { text: '{}', signature: 'ed25519:x:y' } }));
    const before = fs.readdirSync(dir).sort();
    const { code, result } = await runPrivilegedMain(['--lockstep-privileged-apply', '--request', request], {}, { configLocation: config });
    assert.equal(code, 2);
    assert.deepEqual(result, {
      error: { code: 'E_BELOW_SECURITY_FLOOR', message: 'Version 7.0.9 is below the security floor 7.1.0 set in the machine configuration; it is not installed.', details: { version: '7.0.9', floor: '7.1.0' } },
    });
    assert.deepEqual(fs.readdirSync(dir).sort(), before, 'no journal, state folder or log was written');
    assert.equal(fs.readFileSync(path.join(app, 'lockstep-version.json'), 'utf8'), JSON.stringify({ version: '7.2.0' }));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the floor compares versions, not text', () => {
  assert.doesNotThrow(() => assertAboveFloor('7.10.0', '7.9.0'));
  assert.doesNotThrow(() => assertAboveFloor('7.1.0', '7.1.0'));
  assert.doesNotThrow(() => assertAboveFloor('1.0.0', undefined));
  assert.throws(() => assertAboveFloor('7.1.0-rc.1', '7.1.0'), (e) => isLockstepError(e, 'E_BELOW_SECURITY_FLOOR'));
});
