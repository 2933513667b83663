/**
 * S18 at the privilege boundary, for real: a user whom sudoers allows to run the privileged helper (and nothing else)
 * tries to install content the vendor did not sign — a self-made package with its correct SHA-512 under a manifest
 * signed with their own key, a vendor manifest edited after signing, a genuine vendor file of another version swapped
 * in, a key of their own placed wherever they can write. The helper, running as root, must refuse each by itself
 * (called directly through sudo, past every check of the unprivileged side), leave the install folder byte-identical
 * and — for refusals of the signature — not even start a journal. The CLI refuses the same before any elevation.
 * Last, the two README lines: `lockstep download --json > FILE` then `lockstep install --manifest FILE`.
 * Runs as root on Linux (CI does); .ci/setup-installer.sh installs what it needs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RealUser, CLI, canRunRealUserSuite, createUser, helperResult, runAs, sudoHelper } from './support/realUser';
import { MachineFixture, appTree, machineFixture, makeTarGz, openTempDir, treeHash } from './support/fixtures';
import { VENDOR, manifestFileFor, newSigner, sha512Base64, signedFor } from './support/vendor';

assert.ok(canRunRealUserSuite(), 'The real-user installer suite needs root on Linux with useradd, chpasswd, visudo, runuser, sudo and strace: run .ci/setup-installer.sh as root.');

const cleanups: string[] = [];
let user: RealUser;
before(() => {
  user = createUser();
});
after(() => {
  user.remove();
  for (const c of cleanups) fs.rmSync(c, { recursive: true, force: true });
});

function fixture(opts: Omit<Parameters<typeof machineFixture>[0], 'user'> = { installed: appTree('1.0.0') }): MachineFixture {
  const fx = machineFixture({ user, ...opts });
  cleanups.push(fx.root);
  return fx;
}

/** A request file the user writes for the helper (world-readable, in the packages folder). */
function requestFile(fx: MachineFixture, id: string, body: Record<string, unknown>): string {
  const file = path.join(fx.packages, `${id}.json`);
  fs.writeFileSync(file, JSON.stringify({ id, kind: 'portable', toVersion: '2.0.0', ...body }), { mode: 0o644 });
  return file;
}

function applyLog(fx: MachineFixture): string {
  const file = path.join(fx.stateDir, 'apply.log');
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
}

const journalExists = (fx: MachineFixture) => fs.existsSync(path.join(fx.stateDir, 'journal.json'));

/** A package the user made: their own code, a valid archive, claiming to be 2.0.0. */
function selfMade(fx: MachineFixture, name = 'app-2.0.0.tar.gz'): string {
  return makeTarGz(fx.packages, name, appTree('2.0.0', [{ path: 'resources/payload.sh', content: '#!/bin/sh\nid > /tmp/owned\n', mode: 0o755 }]));
}

describe('the privileged helper verifies the vendor signature itself (S18)', () => {
  test('a self-made package with its correct SHA-512, signed with a key the machine does not trust: E_SIGNATURE, nothing touched', async () => {
    const fx = fixture();
    const own = newSigner();
    const pkg = selfMade(fx);
    const before = treeHash(fx.installDir).hash;

    // Through the CLI: refused before any elevation (no password asked, the helper never ran).
    const cli = await runAs(user, ['install', pkg, '--manifest', manifestFileFor(pkg, '2.0.0', signedFor(pkg, '2.0.0', own)), '--password-stdin', '--config', fx.configPath], user.password + '\n');
    assert.equal(cli.json.error?.code, 'E_SIGNATURE', cli.stdout + cli.stderr);
    assert.equal(fs.existsSync(fx.stateDir), false, 'no elevation happened');
    assert.match(fs.readFileSync(path.join(fx.logDir, 'lockstep.log'), 'utf8'), /install\.refused.*E_SIGNATURE/, 'the user-side log names the refusal');

    // Past the CLI, straight to the helper through sudo: the helper itself refuses.
    const request = requestFile(fx, 'self-made-000001', { packagePath: pkg, manifest: signedFor(pkg, '2.0.0', own) });
    const direct = helperResult((await sudoHelper(user, ['--request', request], user.password)).stdout);
    assert.equal(direct.error?.code, 'E_SIGNATURE', JSON.stringify(direct));
    assert.match(direct.error!.message, new RegExp(`key ${own.keyId}, which this workstation does not trust`));
    assert.equal(treeHash(fx.installDir).hash, before);
    assert.equal(journalExists(fx), false, 'the refusal came before any journal');
    assert.match(applyLog(fx), /apply\.refused.*E_SIGNATURE/, 'root logged the refusal');
    assert.equal(fs.existsSync('/tmp/owned'), false);
  });

  test('a vendor manifest edited after signing (the self-made file put in), or used for another version or file: E_SIGNATURE', async () => {
    const fx = fixture();
    const genuinePkg = makeTarGz(fx.packages, 'vendor', appTree('2.0.0'));
    const genuine = signedFor(genuinePkg, '2.0.0');
    const pkg = selfMade(fx);
    const edited = JSON.parse(genuine.text) as { files: Array<{ name: string; size: number; sha512: string }> };
    edited.files[0] = { ...edited.files[0]!, name: path.basename(pkg), size: fs.statSync(pkg).size, sha512: sha512Base64(pkg) };
    const before = treeHash(fx.installDir).hash;
    const cases = {
      edited: { packagePath: pkg, manifest: { text: JSON.stringify(edited), signature: genuine.signature } },
      otherVersion: { packagePath: pkg, toVersion: '2.0.1', manifest: signedFor(pkg, '2.0.0') },
      otherFile: { packagePath: pkg, manifest: genuine },
    };
    const messages: Record<string, string> = {};
    for (const [name, body] of Object.entries(cases)) {
      const result = helperResult((await sudoHelper(user, ['--request', requestFile(fx, `edited-${name}`, body)], user.password)).stdout);
      assert.equal(result.error?.code, 'E_SIGNATURE', `${name}: ${JSON.stringify(result)}`);
      messages[name] = result.error!.message;
    }
    assert.match(messages['edited']!, /changed after signing/);
    assert.match(messages['otherVersion']!, /describes version 2\.0\.0, not 2\.0\.1/);
    assert.match(messages['otherFile']!, /does not name the file app-2\.0\.0\.tar\.gz/);
    assert.equal(treeHash(fx.installDir).hash, before);
    assert.equal(journalExists(fx), false);
  });

  test('a package swapped for another signed version\'s file: E_CHECKSUM from the CLI before elevation and from the helper, old version in place', async () => {
    const fx = fixture();
    const v15 = makeTarGz(fx.packages, 'app-1.5.0.tar.gz', appTree('1.5.0'));
    const v20 = makeTarGz(fx.packages, 'app-2.0.0.tar.gz', appTree('2.0.0'));
    const manifest20 = signedFor(v20, '2.0.0');
    signedFor(v15, '1.5.0'); // 1.5.0 is genuinely signed too: its bytes are vendor content, just not 2.0.0's
    const swapDir = openTempDir('lockstep-swap-');
    cleanups.push(swapDir);
    const swapped = path.join(swapDir, 'app-2.0.0.tar.gz');
    fs.copyFileSync(v15, swapped);
    fs.chmodSync(swapped, 0o644);
    const before = treeHash(fx.installDir).hash;

    const cli = await runAs(user, ['install', swapped, '--manifest', manifestFileFor(v20, '2.0.0', manifest20), '--password-stdin', '--config', fx.configPath], user.password + '\n');
    assert.equal(cli.json.error?.code, 'E_CHECKSUM', cli.stdout + cli.stderr);
    assert.equal(fs.existsSync(fx.stateDir), false, 'no elevation happened');

    const direct = helperResult((await sudoHelper(user, ['--request', requestFile(fx, 'swapped-000001', { packagePath: swapped, manifest: manifest20 })], user.password)).stdout);
    assert.equal(direct.error?.code, 'E_CHECKSUM', JSON.stringify(direct));
    assert.equal(treeHash(fx.installDir).hash, before);
    const journal = JSON.parse(fs.readFileSync(path.join(fx.stateDir, 'journal.json'), 'utf8'));
    assert.deepEqual([journal.phase, journal.error.code, journal.history.map((h: { phase: string }) => h.phase)], ['failed', 'E_CHECKSUM', ['prepared', 'staging', 'failed']]);
    assert.deepEqual(fs.readdirSync(path.join(fx.stateDir, 'staging')), []);
  });

  test('a key the user placed where they can write is not trusted: their own config copy, a key inside the request', async () => {
    const fx = fixture();
    const own = newSigner();
    const pkg = selfMade(fx);
    const mine = signedFor(pkg, '2.0.0', own);
    const before = treeHash(fx.installDir).hash;

    // A copy of the machine configuration that also trusts the user's key, in a folder the user owns: the
    // unprivileged side accepts it (it is the user's own business); the helper reads only the machine's own
    // configuration from its fixed location, where the user's key is not trusted.
    const home = openTempDir('lockstep-userhome-');
    cleanups.push(home);
    fs.chownSync(home, user.uid, 0);
    const config = JSON.parse(fs.readFileSync(fx.configPath, 'utf8'));
    config.feed.trustedKeys.push(own.publicKey);
    const ownConfig = path.join(home, 'machine.json');
    fs.writeFileSync(ownConfig, JSON.stringify(config), { mode: 0o644 });
    fs.chownSync(ownConfig, user.uid, 0);
    const cli = await runAs(user, ['install', pkg, '--manifest', manifestFileFor(pkg, '2.0.0', mine), '--password-stdin', '--config', ownConfig], user.password + '\n');
    assert.equal(cli.json.error?.code, 'E_SIGNATURE', cli.stdout + cli.stderr);

    // The same file root-owned, but in the user's folder (they could swap it), named to the helper: not a usable
    // argument at all.
    const rootOwned = path.join(home, 'root-owned.json');
    fs.writeFileSync(rootOwned, JSON.stringify(config), { mode: 0o644 });
    const inUserFolder = helperResult((await sudoHelper(user, ['--request', requestFile(fx, 'userkey-000001', { packagePath: pkg, manifest: mine }), '--config', rootOwned], user.password)).stdout);
    assert.equal(inUserFolder.error?.code, 'E_USAGE', JSON.stringify(inUserFolder));

    // The key carried in the request: a request holds no keys (strict), so it is refused as malformed.
    const inRequest = helperResult((await sudoHelper(user, ['--request', requestFile(fx, 'userkey-000002', { packagePath: pkg, manifest: mine, trustedKeys: [own.publicKey] })], user.password)).stdout);
    assert.equal(inRequest.error?.code, 'E_USAGE', JSON.stringify(inRequest));
    assert.match(inRequest.error!.message, /trustedKeys/);

    // And with the real machine configuration, the user's key is just not trusted.
    const real = helperResult((await sudoHelper(user, ['--request', requestFile(fx, 'userkey-000003', { packagePath: pkg, manifest: mine })], user.password)).stdout);
    assert.equal(real.error?.code, 'E_SIGNATURE', JSON.stringify(real));
    assert.equal(treeHash(fx.installDir).hash, before);
    assert.equal(journalExists(fx), false);
  });
});

/** Runs a shell line as the user (the way a person types the README lines), password on standard input. */
function shellAs(u: RealUser, line: string, stdin: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('runuser', ['-u', u.name, '--', 'sh', '-c', line], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', HOME: '/nonexistent', LOCKSTEP: `${process.execPath} ${CLI}` }, cwd: '/' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe('lockstep download --json, then lockstep install --manifest (the README lines)', () => {
  test('a vendor feed in a folder: downloaded and verified as the user, installed through sudo, every file root-owned', async () => {
    const fx = fixture();
    const vendorDir = openTempDir('lockstep-vendor-');
    cleanups.push(vendorDir);
    const lockstep = (...args: string[]) => JSON.parse(execFileSync(process.execPath, [CLI, ...args, '--json']).toString());
    const keys = lockstep('keygen', '--out', path.join(vendorDir, 'vendor'));
    const newFiles = appTree('2.0.0', [{ path: 'resources/feature.bin', content: Buffer.alloc(100_000, 3) }]);
    const pkg = makeTarGz(vendorDir, 'Client-2.0.0.tar.gz', newFiles);
    const feedDir = path.join(vendorDir, 'feed');
    lockstep('feed', 'add', pkg, '--version', '2.0.0', '--feed', feedDir, '--key', keys.privateKeyFile, '--platform', 'linux', '--product', 'Client');
    const license = path.join(vendorDir, 'license.json');
    lockstep('license', 'issue', '--number', 'T-0001', '--edition', 'standard', '--contract-until', '2099-12-31', '--key', keys.privateKeyFile, '--out', license, '--product', 'Client');
    execFileSync('chmod', ['-R', 'a+rX', feedDir, license]); // the private key stays 0600
    const cache = path.join(fx.root, 'cache');
    fs.mkdirSync(cache);
    fs.chownSync(cache, user.uid, 0);
    const config = JSON.parse(fs.readFileSync(fx.configPath, 'utf8'));
    config.feed = { url: feedDir, licenseFile: license, cacheDir: cache, trustedKeys: [keys.publicKey] }; // IT trusts the vendor's key
    fs.writeFileSync(fx.configPath, JSON.stringify(config, null, 2), { mode: 0o644 });
    const work = openTempDir('lockstep-userwork-');
    cleanups.push(work);
    fs.chownSync(work, user.uid, 0);
    const downloaded = path.join(work, 'download.json');

    const run = await shellAs(
      user,
      `$LOCKSTEP download 2.0.0 --json --config ${fx.configPath} > ${downloaded} && $LOCKSTEP install --manifest ${downloaded} --password-stdin --json --config ${fx.configPath}`,
      user.password + '\n',
    );
    assert.equal(run.code, 0, run.stdout + run.stderr);
    const out = JSON.parse(run.stdout.trim().split('\n').pop()!);
    assert.deepEqual({ installed: out.installed, from: out.from, elevation: out.elevation }, { installed: '2.0.0', from: '1.0.0', elevation: 'sudo' });
    const step = JSON.parse(fs.readFileSync(downloaded, 'utf8')).steps[0];
    assert.equal(step.file, path.join(cache, 'downloads', 'Client-2.0.0.tar.gz'));

    const expectedDir = openTempDir('lockstep-expected-');
    cleanups.push(expectedDir);
    execFileSync('tar', ['-xzf', pkg, '-C', expectedDir]);
    const installed = treeHash(fx.installDir);
    assert.equal(installed.hash, treeHash(expectedDir).hash, installed.listing.join('\n'));
    assert.ok(installed.listing.every((l) => l.endsWith(' 0:0')), 'every entry is owned by root');
    const journal = JSON.parse(fs.readFileSync(path.join(fx.stateDir, 'journal.json'), 'utf8'));
    assert.equal(journal.request.signedBy, keys.keyId, 'root recorded which vendor key signed what it installed');
    assert.notEqual(keys.keyId, VENDOR.keyId);
  });
});
