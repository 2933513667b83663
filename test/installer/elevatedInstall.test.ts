/**
 * Installing for real as an unprivileged user (S8–S11): a user created for the test, a root-owned install folder, a
 * sudoers entry for exactly the privileged helper, `lockstep install` run through runuser with the portable package
 * kind. Runs as root on Linux (CI does); .ci/setup-installer.sh installs what it needs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RealUser, canRunRealUserSuite, createUser, runAs, sudoHelper } from './support/realUser';
import { appTree, filesBelow, machineFixture, makeTarGz, openTempDir, treeHash, writeTree } from './support/fixtures';
import { manifestFileFor, signedFor } from './support/vendor';

assert.ok(canRunRealUserSuite(), 'The real-user installer suite needs root on Linux with useradd, chpasswd, visudo, runuser, sudo and strace: run .ci/setup-installer.sh as root.');

const fixtures: string[] = [];
let user: RealUser;
before(() => {
  user = createUser();
});
after(() => {
  user.remove();
  for (const f of fixtures) fs.rmSync(f, { recursive: true, force: true });
});

function fixture(opts: Parameters<typeof machineFixture>[0]) {
  const fx = machineFixture({ user, ...opts });
  fixtures.push(fx.root);
  return fx;
}

/** The tree the package should produce, written by root the way the installer writes it (0644/0755, root-owned). */
function expectedTree(files: ReturnType<typeof appTree>): string {
  const dir = openTempDir('lockstep-expected-');
  fixtures.push(dir);
  writeTree(path.join(dir, 't'), files);
  return treeHash(path.join(dir, 't')).hash;
}

interface Scan {
  scans: number;
  scansWithHelper: number;
  leaks: string[];
}

/** Reads every process's command line and environment, looking for the password. */
function scanProcesses(secret: string, into: Scan): void {
  let helperSeen = false;
  for (const pid of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    for (const f of ['cmdline', 'environ']) {
      let text: string;
      try {
        text = fs.readFileSync(`/proc/${pid}/${f}`, 'latin1');
      } catch {
        continue; // the process ended meanwhile
      }
      if (text.includes(secret)) into.leaks.push(`/proc/${pid}/${f}`);
      if (f === 'cmdline' && text.includes('privilegedApply.js')) helperSeen = true;
    }
  }
  into.scans++;
  if (helperSeen) into.scansWithHelper++;
}

describe('lockstep install as an unprivileged user (sudo -S)', () => {
  test('right password: installed, every file owned by root, the new version in place, the password nowhere', async () => {
    const fx = fixture({ installed: appTree('1.0.0', [{ path: 'data/customer.db', content: 'customer data' }]), installer: { dataFolders: ['data'] } });
    const newFiles = appTree('2.0.0', [{ path: 'resources/extra.bin', content: Buffer.alloc(300_000, 7) }]);
    const pkg = makeTarGz(fx.packages, 'app-2.0.0.tar.gz', newFiles);
    const scan: Scan = { scans: 0, scansWithHelper: 0, leaks: [] };
    let done = false;
    const running = runAs(user, ['install', pkg, '--version', '2.0.0', '--manifest', manifestFileFor(pkg, '2.0.0'), '--password-stdin', '--config', fx.configPath], user.password + '\n').finally(() => (done = true));
    while (!done) {
      scanProcesses(user.password, scan);
      await new Promise((r) => setImmediate(r));
    }
    const run = await running;
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.deepEqual({ installed: run.json['installed'], from: run.json['from'], elevation: run.json['elevation'] }, { installed: '2.0.0', from: '1.0.0', elevation: 'sudo' });

    const installed = treeHash(fx.installDir);
    const expected = expectedTree([...newFiles, { path: 'data/customer.db', content: 'customer data' }]);
    assert.equal(installed.hash, expected, installed.listing.join('\n'));
    assert.ok(installed.listing.every((l) => l.endsWith(' 0:0')), 'every entry is owned by root');

    assert.ok(scan.scansWithHelper > 0, `the /proc scan overlapped the elevated helper (${scan.scans} scans)`);
    assert.deepEqual(scan.leaks, []);
    const requestDirs = fs.readdirSync('/tmp').filter((n) => n.startsWith('lockstep-request-')).map((n) => path.join('/tmp', n));
    const leakedInFiles = [...filesBelow(fx.root), ...requestDirs.flatMap(filesBelow)].filter((f) => fs.readFileSync(f).includes(user.password));
    assert.deepEqual(leakedInFiles, []);
    assert.ok(filesBelow(fx.logDir).length > 0 && fs.existsSync(path.join(fx.stateDir, 'apply.log')), 'both sides wrote their logs');
  });

  test('wrong password: E_ELEVATION_DENIED and the install folder byte-identical', async () => {
    const fx = fixture({ installed: appTree('1.0.0') });
    const pkg = makeTarGz(fx.packages, 'app-2.0.0.tar.gz', appTree('2.0.0'));
    const before = treeHash(fx.installDir);
    const run = await runAs(user, ['install', pkg, '--version', '2.0.0', '--manifest', manifestFileFor(pkg, '2.0.0'), '--password-stdin', '--config', fx.configPath], 'not-the-password\n');
    assert.equal(run.json.error?.code, 'E_ELEVATION_DENIED', run.stdout + run.stderr);
    assert.notEqual(run.code, 0);
    assert.equal(treeHash(fx.installDir).hash, before.hash);
    assert.equal(fs.existsSync(path.join(fx.stateDir, 'journal.json')), false, 'the helper never ran');
  });

  test('an archive that breaks halfway after files were written: E_INSTALL_FAILED, byte-identical, staging removed', async () => {
    const fx = fixture({ installed: appTree('1.0.0') });
    const files = appTree('2.0.0', Array.from({ length: 40 }, (_, i) => ({ path: `resources/chunk${i}.bin`, content: randomBytes(30_000) })));
    const whole = makeTarGz(fx.packages, 'whole.tar.gz', files);
    const broken = path.join(fx.packages, 'broken.tar.gz');
    const bytes = fs.readFileSync(whole);
    fs.writeFileSync(broken, bytes.subarray(0, Math.floor(bytes.length * 0.6)), { mode: 0o644 });
    const before = treeHash(fx.installDir);
    const run = await runAs(user, ['install', broken, '--version', '2.0.0', '--manifest', manifestFileFor(broken, '2.0.0'), '--password-stdin', '--config', fx.configPath], user.password + '\n');
    assert.equal(run.json.error?.code, 'E_INSTALL_FAILED', run.stdout + run.stderr);
    assert.equal(treeHash(fx.installDir).hash, before.hash);
    assert.deepEqual(fs.readdirSync(path.join(fx.stateDir, 'staging')), []);
    const journal = JSON.parse(fs.readFileSync(path.join(fx.stateDir, 'journal.json'), 'utf8'));
    assert.equal(journal.phase, 'failed');
    assert.ok(journal.history.some((h: { phase: string }) => h.phase === 'staging'));
  });

  test('a real installer (.deb via dpkg) that fails halfway after writing files: rolled back byte-identical, E_INSTALL_FAILED', async () => {
    const fx = fixture({ installed: appTree('1.0.0', [{ path: 'data/customer.db', content: 'customer data' }]), installer: { dataFolders: ['data'] } });
    const name = `lockstep-test-${path.basename(fx.root).toLowerCase().replace(/[^a-z0-9]/g, '')}`;
    const debRoot = path.join(fx.packages, 'debroot');
    writeTree(path.join(debRoot, fx.installDir.slice(1)), appTree('2.0.0', [{ path: 'data/customer.db', content: 'overwritten!' }, { path: 'new-only.bin', content: 'new' }]));
    writeTree(path.join(debRoot, 'DEBIAN'), [
      { path: 'control', content: `Package: ${name}\nVersion: 2.0.0\nArchitecture: all\nMaintainer: Lockstep tests <t@example.invalid>\nDescription: fails in postinst\n` },
      { path: 'postinst', content: '#!/bin/sh\necho "postinst fails on purpose" >&2\nexit 1\n', mode: 0o755 },
    ]);
    const deb = path.join(fx.packages, `${name}.deb`);
    execFileSync('dpkg-deb', ['--root-owner-group', '--build', debRoot, deb], { stdio: 'ignore' });
    fs.chmodSync(deb, 0o644);
    fixtures.push(deb); // removed with the fixture; the dpkg record is purged below
    const before = treeHash(fx.installDir);
    try {
      const run = await runAs(user, ['install', deb, '--kind', 'deb', '--version', '2.0.0', '--manifest', manifestFileFor(deb, '2.0.0'), '--password-stdin', '--config', fx.configPath], user.password + '\n');
      assert.equal(run.json.error?.code, 'E_INSTALL_FAILED', run.stdout + run.stderr);
      assert.match(run.json.error?.message ?? '', /postinst|dpkg/);
      // dpkg really unpacked its files before failing: it records the package as half-configured.
      assert.match(execFileSync('dpkg-query', ['-W', '-f', '${Status}', name]).toString(), /half-configured/);
      assert.equal(treeHash(fx.installDir).hash, before.hash, 'the install folder is byte-identical again');
      const journal = JSON.parse(fs.readFileSync(path.join(fx.stateDir, 'journal.json'), 'utf8'));
      assert.deepEqual(journal.history.map((h: { phase: string }) => h.phase), ['prepared', 'staging', 'backing-up', 'installing', 'revert-clear', 'revert-return', 'reverted']);
    } finally {
      spawnSync('dpkg', ['--purge', '--force-all', name], { stdio: 'ignore' });
    }
  });

  test('a package whose bytes are not the signed ones: E_CHECKSUM before any elevation, nothing changed', async () => {
    const fx = fixture({ installed: appTree('1.0.0') });
    const pkg = makeTarGz(fx.packages, 'app-2.0.0.tar.gz', appTree('2.0.0'));
    const manifest = manifestFileFor(pkg, '2.0.0');
    const bytes = fs.readFileSync(pkg);
    bytes[bytes.length >> 1]! ^= 0xff; // same name, same size, one byte changed after signing
    fs.writeFileSync(pkg, bytes);
    const before = treeHash(fx.installDir);
    const run = await runAs(user, ['install', pkg, '--manifest', manifest, '--password-stdin', '--config', fx.configPath], user.password + '\n');
    assert.equal(run.json.error?.code, 'E_CHECKSUM', run.stdout + run.stderr);
    assert.match(run.json.error?.message ?? '', /SHA-512 differs from the signed one/);
    assert.equal(treeHash(fx.installDir).hash, before.hash);
    assert.equal(fs.existsSync(fx.stateDir), false, 'the helper never ran (no elevation for a package it would refuse)');
  });

  test('--sha512, when given, must be the signed one', async () => {
    const fx = fixture({ installed: appTree('1.0.0') });
    const pkg = makeTarGz(fx.packages, 'app-2.0.0.tar.gz', appTree('2.0.0'));
    const before = treeHash(fx.installDir);
    const run = await runAs(user, ['install', pkg, '--manifest', manifestFileFor(pkg, '2.0.0'), '--sha512', 'ab'.repeat(64), '--password-stdin', '--config', fx.configPath], user.password + '\n');
    assert.equal(run.json.error?.code, 'E_CHECKSUM', run.stdout + run.stderr);
    assert.equal(treeHash(fx.installDir).hash, before.hash);
    assert.equal(fs.existsSync(fx.stateDir), false);
  });

  test('who may update (S10): a user not on the list gets E_NOT_PERMITTED, also when calling the helper directly', async () => {
    const fx = fixture({ installed: appTree('1.0.0'), installer: { allowedUsers: ['someone-else'] } });
    const pkg = makeTarGz(fx.packages, 'app-2.0.0.tar.gz', appTree('2.0.0'));
    const before = treeHash(fx.installDir);
    const run = await runAs(user, ['install', pkg, '--version', '2.0.0', '--manifest', manifestFileFor(pkg, '2.0.0'), '--password-stdin', '--config', fx.configPath], user.password + '\n');
    assert.equal(run.json.error?.code, 'E_NOT_PERMITTED', run.stdout + run.stderr);

    const request = path.join(fx.packages, 'request.json');
    fs.writeFileSync(request, JSON.stringify({ id: 'bypass-attempt-1', kind: 'portable', packagePath: pkg, toVersion: '2.0.0', manifest: signedFor(pkg, '2.0.0') }), { mode: 0o644 });
    const direct = await sudoHelper(user, ['--request', request], user.password);
    assert.match(direct.stdout, /"code":"E_NOT_PERMITTED"/);
    assert.equal(treeHash(fx.installDir).hash, before.hash);
  });

  test('the helper refuses a configuration the user could have written (no redirecting root elsewhere)', async () => {
    const fx = fixture({ installed: appTree('1.0.0') });
    const pkg = makeTarGz(fx.packages, 'app-2.0.0.tar.gz', appTree('2.0.0'));
    const own = openTempDir('lockstep-userconf-');
    fixtures.push(own);
    fs.chownSync(own, user.uid, 0);
    const target = path.join(own, 'victim');
    fs.mkdirSync(target);
    const conf = path.join(own, 'machine.json');
    fs.writeFileSync(conf, JSON.stringify({ installDir: target, database: { url: 'sqlite:x.db' } }));
    fs.chownSync(conf, user.uid, 0);
    const request = path.join(fx.packages, 'request2.json');
    fs.writeFileSync(request, JSON.stringify({ id: 'bypass-attempt-2', kind: 'portable', packagePath: pkg, toVersion: '2.0.0', manifest: signedFor(pkg, '2.0.0') }), { mode: 0o644 });
    // The helper takes no configuration name at all: --config is a usage error, the fixed location is what counts.
    const direct = await sudoHelper(user, ['--request', request, '--config', conf], user.password);
    assert.match(direct.stdout, /"code":"E_USAGE"/);
    assert.deepEqual(fs.readdirSync(target), []);
  });
});
