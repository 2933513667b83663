/**
 * Crash safety, for real: the privileged helper is killed with SIGKILL at every rename it makes (strace injects the
 * signal at the N-th rename — each journal write and each move is one), then the next start (`lockstep install
 * recover` as the unprivileged user, elevated through sudo) must leave the install folder byte-identical to the old
 * or the new version. The same for a kill in the middle of a revert. Runs as root on Linux.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PRIVILEGED_FLAG } from '../../installer/elevation/win32';
import { HELPER_SCRIPT } from '../../installer/platform';
import { RealUser, canRunRealUserSuite, createUser, runAs } from './support/realUser';
import { MachineFixture, appTree, machineFixture, makeTarGz, openTempDir, placeHelperConfig, treeHash, writeTree } from './support/fixtures';
import { manifestFileFor, signedFor } from './support/vendor';

assert.ok(canRunRealUserSuite(), 'The real-user installer suite needs root on Linux with useradd, chpasswd, visudo, runuser, sudo and strace: run .ci/setup-installer.sh as root.');

let user: RealUser;
const cleanups: Array<() => void> = [];
before(() => {
  user = createUser();
});
after(() => {
  for (const c of cleanups.reverse()) c();
  user.remove();
});

function fixture(opts: Omit<Parameters<typeof machineFixture>[0], 'user'>): MachineFixture {
  const fx = machineFixture({ user, ...opts });
  placeHelperConfig(fx.configPath, 0); // the helper run as root directly (helperKilledAtRename) reads it too
  cleanups.unshift(() => fs.rmSync(fx.root, { recursive: true, force: true })); // runs last, after any umount
  return fx;
}

/** Runs the helper as root (as sudo would), killed by SIGKILL at its n-th rename. Returns true when it was killed. */
function helperKilledAtRename(n: number, args: string[]): boolean {
  const r = spawnSync('strace', ['-f', '-qq', '-o', '/dev/null', '-e', 'trace=rename,renameat,renameat2', '-e', `inject=rename,renameat,renameat2:signal=SIGKILL:when=${n}`, process.execPath, HELPER_SCRIPT, PRIVILEGED_FLAG, ...args], { encoding: 'utf8' });
  if (r.status === 0 && r.stdout.includes('LOCKSTEP-RESULT')) return false;
  assert.ok(r.status === 137 || r.signal === 'SIGKILL', `the helper was killed (status ${r.status}, ${r.stderr})`);
  return true;
}

function journalPhase(fx: MachineFixture): string {
  if (!fs.existsSync(path.join(fx.stateDir, 'journal.json'))) return '(no journal)';
  return (JSON.parse(fs.readFileSync(path.join(fx.stateDir, 'journal.json'), 'utf8')) as { phase: string }).phase;
}

function writeRequest(fx: MachineFixture, id: string, pkg: string, version: string): string {
  const file = path.join(fx.packages, `${id}.json`);
  fs.writeFileSync(file, JSON.stringify({ id, kind: 'portable', packagePath: pkg, toVersion: version, manifest: signedFor(pkg, version) }), { mode: 0o644 });
  return file;
}

function expectedHash(files: ReturnType<typeof appTree>): string {
  const dir = openTempDir('lockstep-expected-');
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  writeTree(path.join(dir, 't'), files);
  return treeHash(path.join(dir, 't')).hash;
}

describe('crash safety and the next start', () => {
  test('SIGKILL at every rename of an install: the next start leaves exactly the old or the new version', async () => {
    const data = { path: 'data/customer.db', content: 'customer data' };
    const oldFiles = [...appTree('1.0.0'), { path: 'old-only.txt', content: 'gone in 2.0.0' }];
    const fx = fixture({ installed: [...oldFiles, data], installer: { dataFolders: ['data'] } });
    const newFiles = appTree('2.0.0', [{ path: 'new-only.txt', content: 'new in 2.0.0' }]);
    const pkg = makeTarGz(fx.packages, 'app-2.0.0.tar.gz', newFiles);
    const oldHash = treeHash(fx.installDir).hash;
    const newHash = expectedHash([...newFiles, data]);
    const killedIn: string[] = [];
    let completed = false;
    for (let n = 1; n < 60 && !completed; n++) {
      const request = writeRequest(fx, `crash-${String(n).padStart(3, '0')}-install`, pkg, '2.0.0');
      if (!helperKilledAtRename(n, ['--request', request])) {
        completed = true;
        break;
      }
      killedIn.push(journalPhase(fx));
      const next = await runAs(user, ['install', 'recover', '--password-stdin', '--config', fx.configPath], user.password + '\n');
      assert.equal(next.code, 0, next.stdout + next.stderr);
      const now = treeHash(fx.installDir);
      assert.equal(now.hash, oldHash, `after a kill at rename ${n} (phase ${killedIn.at(-1)}) the old version is back:\n${now.listing.join('\n')}`);
      assert.ok(['reverted', 'failed'].includes(journalPhase(fx)) || killedIn.at(-1) === '(no journal)');
    }
    assert.ok(completed, 'the loop reached a run without a kill');
    assert.equal(treeHash(fx.installDir).hash, newHash, 'the uninterrupted run installed the new version');
    for (const phase of ['staging', 'backing-up', 'installing', 'verifying']) assert.ok(killedIn.includes(phase), `a kill hit phase ${phase}: ${killedIn.join(', ')}`);
  });

  test('SIGKILL in the middle of a revert: the next start finishes the revert', async () => {
    const fx = fixture({ installed: appTree('1.0.0', Array.from({ length: 2 }, (_, i) => ({ path: `top${i}.txt`, content: `old ${i}` }))) });
    const pkg = makeTarGz(fx.packages, 'app-2.0.0.tar.gz', appTree('2.0.0', Array.from({ length: 2 }, (_, i) => ({ path: `top${i}.txt`, content: `new ${i}` }))));
    const oldHash = treeHash(fx.installDir).hash;
    const revertPhases = new Set<string>();
    let nInstalling = 1; // the rename count is deterministic: find the first kill that lands in 'installing' once
    for (let m = 1; m < 60; m++) {
      // An install killed while its new files are half moved in …
      for (; ; nInstalling++) {
        const request = writeRequest(fx, `revert-${String(m).padStart(3, '0')}-${String(nInstalling).padStart(3, '0')}`, pkg, '2.0.0');
        assert.ok(helperKilledAtRename(nInstalling, ['--request', request]));
        if (journalPhase(fx) === 'installing' && fs.readdirSync(fx.installDir).some((f) => f.startsWith('top') && fs.readFileSync(path.join(fx.installDir, f), 'utf8').startsWith('new'))) break;
        await runAs(user, ['install', 'recover', '--password-stdin', '--config', fx.configPath], user.password + '\n');
      }
      // … whose recovery is itself killed at its m-th rename …
      const recoveryKilled = helperKilledAtRename(m, ['--recover']);
      if (recoveryKilled) revertPhases.add(journalPhase(fx));
      // … and the next start finishes it.
      const next = await runAs(user, ['install', 'recover', '--password-stdin', '--config', fx.configPath], user.password + '\n');
      assert.equal(next.code, 0, next.stdout + next.stderr);
      assert.equal(treeHash(fx.installDir).hash, oldHash, `after the revert was killed at rename ${m}`);
      if (!recoveryKilled) break;
    }
    assert.ok(revertPhases.has('revert-clear') && revertPhases.has('revert-return'), `kills hit both halves of the revert: ${[...revertPhases].join(', ')}`);
  });

  test('a full disk (tmpfs as the target): E_DISK_FULL and nothing lost', async () => {
    const fx = fixture({
      installed: appTree('1.0.0'),
      beforeInstall: (mnt) => {
        const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0755', 'tmpfs', mnt]);
        assert.equal(r.status, 0, String(r.stderr));
        cleanups.push(() => spawnSync('umount', ['-l', mnt]));
      },
    });
    const pkg = makeTarGz(fx.packages, 'app-2.0.0.tar.gz', appTree('2.0.0', [{ path: 'resources/big.bin', content: fs.readFileSync(process.execPath).subarray(0, 3_000_000) }]));
    const before = treeHash(fx.installDir);
    const run = await runAs(user, ['install', pkg, '--version', '2.0.0', '--manifest', manifestFileFor(pkg, '2.0.0'), '--password-stdin', '--config', fx.configPath], user.password + '\n');
    assert.equal(run.json.error?.code, 'E_DISK_FULL', run.stdout + run.stderr);
    assert.equal(treeHash(fx.installDir).hash, before.hash);
    assert.deepEqual(fs.readdirSync(path.join(fx.stateDir, 'staging')), []);
  });

  test('a version that never confirms its healthy start is reverted by the next start after the deadline; a confirmed one stays', async () => {
    // 3 s: room for one CLI start (runuser + node + sudo) under a loaded CI machine before the deadline passes
    const fx = fixture({ installed: appTree('1.0.0'), installer: { healthTimeoutMs: 3000, keepBackups: 1 } });
    const oldHash = treeHash(fx.installDir).hash;
    const pkg2 = makeTarGz(fx.packages, 'app-2.0.0.tar.gz', appTree('2.0.0'));
    const install = (pkg: string, version: string) => runAs(user, ['install', pkg, '--version', version, '--manifest', manifestFileFor(pkg, version), '--password-stdin', '--config', fx.configPath], user.password + '\n');
    const recover = () => runAs(user, ['install', 'recover', '--password-stdin', '--config', fx.configPath], user.password + '\n');
    const waitForDeadline = async () => {
      const deadline = Date.parse(JSON.parse(fs.readFileSync(path.join(fx.stateDir, 'journal.json'), 'utf8')).healthDeadline);
      await new Promise((r) => setTimeout(r, Math.max(0, deadline - Date.now()) + 20));
    };

    assert.equal((await install(pkg2, '2.0.0')).json['installed'], '2.0.0');
    const early = await recover();
    assert.deepEqual({ action: early.json['action'], reason: early.json['reason'], installed: early.json['installed'] }, { action: 'none', reason: 'awaiting-health', installed: '2.0.0' });
    await waitForDeadline();
    const late = await recover();
    assert.deepEqual({ action: late.json['action'], reason: late.json['reason'], phase: late.json['phase'], installed: late.json['installed'] }, { action: 'revert', reason: 'unhealthy', phase: 'reverted', installed: '1.0.0' });
    assert.equal(treeHash(fx.installDir).hash, oldHash);

    assert.equal((await install(pkg2, '2.0.0')).json['installed'], '2.0.0');
    const confirmed = await runAs(user, ['install', 'confirm', '--config', fx.configPath]);
    assert.equal(confirmed.json['confirmed'], true, confirmed.stdout + confirmed.stderr);
    await waitForDeadline();
    const kept = await recover();
    assert.deepEqual({ action: kept.json['action'], reason: kept.json['reason'], installed: kept.json['installed'] }, { action: 'none', reason: 'healthy', installed: '2.0.0' });

    // The next install archives the confirmed one and prunes to the last backup (keepBackups: 1).
    const pkg3 = makeTarGz(fx.packages, 'app-3.0.0.tar.gz', appTree('3.0.0'));
    const third = await install(pkg3, '3.0.0');
    assert.equal(third.json['installed'], '3.0.0', third.stdout);
    const backups = fs.readdirSync(path.join(fx.stateDir, 'backups'));
    assert.deepEqual(backups, [third.json['id']]);
    assert.equal(JSON.parse(fs.readFileSync(path.join(fx.stateDir, 'backups', backups[0]!, 'lockstep-version.json'), 'utf8')).version, '2.0.0');
  });
});
