/**
 * A revert at the next start after an elevated install asks no second time where IT allowed the helper's --recover
 * without a password (sudoersRule's recoverWithoutPassword): a real unprivileged user installs 2.0.0 through sudo with
 * its password (the one elevation that asks), the version never confirms its healthy start, and the next start's
 * recover — run with no credentials at all — reverts to 1.0.0 through `sudo -n`. Under the plain rule the same recover
 * still needs the password and, with none given, refuses with the install folder untouched.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RealUser, canRunRealUserSuite, createUser, runAs } from './support/realUser';
import { appTree, machineFixture, makeTarGz, treeHash } from './support/fixtures';
import { manifestFileFor } from './support/vendor';

assert.ok(canRunRealUserSuite(), 'The real-user installer suite needs root on Linux with useradd, chpasswd, visudo, runuser, sudo and strace: run .ci/setup-installer.sh as root.');

const fixtures: string[] = [];
let quiet: RealUser;
let plain: RealUser;
before(() => {
  quiet = createUser({ recoverWithoutPassword: true });
  plain = createUser();
});
after(() => {
  quiet.remove();
  plain.remove();
  for (const f of fixtures) fs.rmSync(f, { recursive: true, force: true });
});

/** Installs 2.0.0 over 1.0.0 as `user` with its password, then waits out the health deadline unconfirmed. */
async function unhealthyInstall(user: RealUser) {
  const fx = machineFixture({ user, installed: appTree('1.0.0'), installer: { healthTimeoutMs: 1000 } });
  fixtures.push(fx.root);
  const oldHash = treeHash(fx.installDir).hash;
  const pkg = makeTarGz(fx.packages, 'app-2.0.0.tar.gz', appTree('2.0.0'));
  const install = await runAs(user, ['install', pkg, '--version', '2.0.0', '--manifest', manifestFileFor(pkg, '2.0.0'), '--password-stdin', '--config', fx.configPath], user.password + '\n');
  assert.deepEqual([install.json['installed'], install.json['elevation']], ['2.0.0', 'sudo'], install.stdout + install.stderr);
  const journal = () => JSON.parse(fs.readFileSync(path.join(fx.stateDir, 'journal.json'), 'utf8')) as { phase: string; healthDeadline: string; history: Array<{ phase: string }> };
  const deadline = Date.parse(journal().healthDeadline);
  // Waiting is the subject here: the deadline is a time, not an event another process signals.
  await new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now()) + 20));
  return { fx, oldHash, newHash: treeHash(fx.installDir).hash, journal };
}

describe('revert at the next start after an elevated install', () => {
  test('with --recover allowed without a password: reverted with no credentials at all (one elevation asked, once)', async () => {
    const { fx, oldHash, journal } = await unhealthyInstall(quiet);
    // No --password-stdin: a prompt would have nothing to answer with and the recover would be refused.
    const recover = await runAs(quiet, ['install', 'recover', '--config', fx.configPath]);
    assert.deepEqual(
      { code: recover.code, action: recover.json['action'], reason: recover.json['reason'], phase: recover.json['phase'], installed: recover.json['installed'], elevation: recover.json['elevation'] },
      { code: 0, action: 'revert', reason: 'unhealthy', phase: 'reverted', installed: '1.0.0', elevation: 'sudo-n' },
      recover.stdout + recover.stderr,
    );
    assert.equal(treeHash(fx.installDir).hash, oldHash, 'the install folder is 1.0.0 again, byte for byte');
    assert.equal(journal().phase, 'reverted');
    const userLog = fs.readdirSync(fx.logDir).map((f) => fs.readFileSync(path.join(fx.logDir, f), 'utf8')).join('\n');
    assert.equal((userLog.match(/"install\.start"/g) ?? []).length, 1);
    assert.equal((userLog.match(/"elevate":true/g) ?? []).length, 1, 'exactly one elevation that asked for credentials');
  });

  test('under the plain rule the revert still needs the password: refused without one, nothing changed', async () => {
    const { fx, newHash, journal } = await unhealthyInstall(plain);
    const recover = await runAs(plain, ['install', 'recover', '--config', fx.configPath]);
    assert.equal(recover.json.error?.code, 'E_ELEVATION_DENIED', recover.stdout + recover.stderr);
    assert.equal(treeHash(fx.installDir).hash, newHash);
    assert.equal(journal().phase, 'awaiting-health');
    const withPassword = await runAs(plain, ['install', 'recover', '--password-stdin', '--config', fx.configPath], plain.password + '\n');
    assert.deepEqual([withPassword.json['phase'], withPassword.json['elevation']], ['reverted', 'sudo'], withPassword.stdout + withPassword.stderr);
  });
});
