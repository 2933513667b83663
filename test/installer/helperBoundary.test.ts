/**
 * The privileged helper's own boundary, attacked for real by a user whom the sudoers rule (sudoersRule, the README's
 * line) allows to run it: the configuration cannot be named or swapped, a request cannot be a link, a FIFO or a
 * root-only file, nothing a root-only file holds reaches an error, and the pipeline follows the vendor-signed file,
 * not the request.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RealUser, canRunRealUserSuite, createUser, helperResult, killTree, sudoHelper } from './support/realUser';
import { MachineFixture, appTree, machineFixture, makeTarGz, openTempDir, treeHash } from './support/fixtures';
import { VENDOR, manifestOf, newSigner, signManifest, signedFor } from './support/vendor';

assert.ok(canRunRealUserSuite(), 'The real-user installer suite needs root on Linux with useradd, chpasswd, visudo, runuser, sudo and strace: run .ci/setup-installer.sh as root.');

const cleanups: Array<() => void> = [];
let user: RealUser;
before(() => {
  user = createUser();
});
after(() => {
  user.remove();
  for (const c of cleanups.reverse()) c();
});

function fixture(): MachineFixture {
  const fx = machineFixture({ user, installed: appTree('1.0.0') });
  cleanups.push(() => fs.rmSync(fx.root, { recursive: true, force: true }));
  return fx;
}

function userDir(prefix: string): string {
  const dir = openTempDir(prefix);
  fs.chownSync(dir, user.uid, 0);
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function requestFile(dir: string, id: string, body: Record<string, unknown>): string {
  const file = path.join(dir, `${id}.json`);
  fs.writeFileSync(file, JSON.stringify({ id, kind: 'portable', toVersion: '2.0.0', ...body }), { mode: 0o644 });
  fs.chownSync(file, user.uid, 0);
  return file;
}

const versionFile = (fx: MachineFixture) => fs.readFileSync(path.join(fx.installDir, 'lockstep-version.json'), 'utf8');
const journalExists = (fx: MachineFixture) => fs.existsSync(path.join(fx.stateDir, 'journal.json'));

/** The helper through sudo, ended after `ms` (a helper that blocks on a FIFO would otherwise hang the suite). */
async function sudoHelperWithin(args: string[], ms: number): Promise<{ result: ReturnType<typeof helperResult>; elapsedMs: number; output: string }> {
  const started = Date.now();
  const r = await sudoHelper(user, args, user.password, ms);
  return { result: helperResult(r.stdout), elapsedMs: Date.now() - started, output: r.stdout + r.stderr };
}

/** The user's swapping loop: a tight loop that flips `link` between two targets, as `user`, until killed. */
function swapLoop(dir: string, link: string, a: string, b: string, how: 'exchange' | 'rename'): ChildProcess {
  const script =
    how === 'exchange'
      ? `import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
os.symlink(${JSON.stringify(a)}, ${JSON.stringify(link)})
os.symlink(${JSON.stringify(b)}, ${JSON.stringify(link + '.other')})
AT_FDCWD = -100
RENAME_EXCHANGE = 2
while True:
    if libc.renameat2(AT_FDCWD, ${JSON.stringify(link)}.encode(), AT_FDCWD, ${JSON.stringify(link + '.other')}.encode(), RENAME_EXCHANGE) != 0:
        raise SystemExit('renameat2: errno %d' % ctypes.get_errno())
`
      : `import os
targets = [${JSON.stringify(a)}, ${JSON.stringify(b)}]
tmp = ${JSON.stringify(link + '.tmp')}
i = 0
while True:
    i ^= 1
    os.symlink(targets[i], tmp)
    os.rename(tmp, ${JSON.stringify(link)})
`;
  const file = path.join(dir, `swap-${how}.py`);
  fs.writeFileSync(file, script, { mode: 0o644 });
  return spawn('runuser', ['-u', user.name, '--', '/usr/bin/python3', file], { stdio: 'ignore' });
}

/**
 * The attack that worked: the user flips a symlink in sticky /tmp between the machine's configuration and their own
 * (the machine's plus their key) in a tight loop while asking the helper, 100 times per loop kind, to install a
 * package they signed themselves. Half the attempts name the link (--config after --request, which the sudoers rule's
 * `--request *` lets through to the helper), half name nothing (the helper's fixed location).
 */
async function swapAttack(how: 'exchange' | 'rename'): Promise<void> {
  const previous = fs.readFileSync('/proc/sys/fs/protected_symlinks', 'utf8').trim();
  fs.writeFileSync('/proc/sys/fs/protected_symlinks', '0'); // the machine the attack worked on
  try {
    const fx = fixture();
    const own = newSigner();
    const home = userDir('lockstep-attacker-');
    const pkg = makeTarGz(home, 'app-2.0.0.tar.gz', appTree('2.0.0', [{ path: 'resources/payload.sh', content: '#!/bin/sh\nid > /tmp/owned\n', mode: 0o755 }]));
    fs.chownSync(pkg, user.uid, 0);
    const mine = signedFor(pkg, '2.0.0', own);
    const config = JSON.parse(fs.readFileSync(fx.configPath, 'utf8'));
    config.feed.trustedKeys.push(own.publicKey);
    const ownConfig = path.join(home, 'machine.json');
    fs.writeFileSync(ownConfig, JSON.stringify(config), { mode: 0o644 });
    fs.chownSync(ownConfig, user.uid, 0);
    const request = requestFile(home, 'swap-00000001', { packagePath: pkg, manifest: mine });
    const before = treeHash(fx.installDir).hash;
    const beforeVersion = versionFile(fx);
    const codes = new Map<string, number>();
    const link = path.join('/tmp', `lockstep-swap-${randomBytes(6).toString('hex')}`);
    const loop = swapLoop(home, link, fx.configPath, ownConfig, how);
    try {
      for (let i = 0; i < 100; i++) {
        const args = i % 2 === 0 ? ['--request', request, '--config', link] : ['--request', request];
        const result = helperResult((await sudoHelper(user, args, user.password)).stdout);
        const code = result.error?.code ?? 'INSTALLED';
        codes.set(code, (codes.get(code) ?? 0) + 1);
        assert.notEqual(code, 'INSTALLED', `attempt ${i}: ${JSON.stringify(result)}`);
        assert.equal(treeHash(fx.installDir).hash, before, `attempt ${i}: the install folder changed`);
      }
      assert.equal(loop.exitCode, null, 'the loop was still swapping at the end');
    } finally {
      killTree(loop.pid!);
      for (const s of ['', '.other', '.tmp']) fs.rmSync(link + s, { force: true });
    }
    // --config is not an argument the helper has; without it the user's key is simply not trusted.
    assert.deepEqual(Object.fromEntries(codes), { E_USAGE: 50, E_SIGNATURE: 50 });
    assert.equal(versionFile(fx), beforeVersion);
    assert.equal(journalExists(fx), false);
  } finally {
    fs.writeFileSync('/proc/sys/fs/protected_symlinks', previous);
  }
}

describe('the privileged helper as the sudoers rule allows it', () => {
  test('the configuration cannot be swapped: 100 attempts against a symlink flipped by renameat2(RENAME_EXCHANGE) never install', () => swapAttack('exchange'));

  test('the configuration cannot be swapped: 100 more against a symlink replaced by rename() in a tight loop never install', () => swapAttack('rename'));

  test('no byte of a root-only file reaches an error: --config /etc/shadow, a root-only request', async () => {
    const fx = fixture();
    const secretLine = `root:$6$${randomBytes(24).toString('hex')}:19000:0:99999:7:::`;
    const secretDir = fs.mkdtempSync('/root/lockstep-secret-');
    cleanups.push(() => fs.rmSync(secretDir, { recursive: true, force: true }));
    const secret = path.join(secretDir, 'shadow');
    fs.writeFileSync(secret, `${secretLine}\n`, { mode: 0o600 });
    const secretJson = path.join('/etc', `lockstep-secret-${randomBytes(4).toString('hex')}.json`);
    fs.writeFileSync(secretJson, JSON.stringify({ [secretLine]: 1 }), { mode: 0o600 });
    cleanups.push(() => fs.rmSync(secretJson, { force: true }));
    const shadowFirst = fs.readFileSync('/etc/shadow', 'utf8').split('\n')[0]!;
    const pkg = makeTarGz(fx.packages, 'app-2.0.0.tar.gz', appTree('2.0.0'));
    const ok = requestFile(userDir('lockstep-req-'), 'secret-00000001', { packagePath: pkg, manifest: signedFor(pkg, '2.0.0') });
    // sudo itself refuses any other shape than the rule's; past it (after --request) the helper refuses --config.
    const shapeRefused = await sudoHelper(user, ['--config', '/etc/shadow', '--request', ok], user.password);
    assert.equal(helperResult(shapeRefused.stdout).error?.code, 'NO-RESULT');
    assert.match(shapeRefused.stderr, /not allowed to execute/);
    const runs = [
      await sudoHelper(user, ['--request', ok, '--config', '/etc/shadow'], user.password),
      await sudoHelper(user, ['--request', ok, '--config', secret], user.password),
      await sudoHelper(user, ['--request', secret], user.password),
      await sudoHelper(user, ['--request', secretJson], user.password),
    ];
    const codes = runs.map((r) => helperResult(r.stdout).error?.code);
    assert.deepEqual(codes, ['E_USAGE', 'E_USAGE', 'E_NOT_PERMITTED', 'E_NOT_PERMITTED']);
    for (const r of runs) {
      const out = r.stdout + r.stderr;
      for (const line of [secretLine, shadowFirst]) {
        // No 8 consecutive characters of either first line (user names such as "root:" are not the secret).
        for (let i = 5; i + 8 <= line.length; i++) assert.ok(!out.includes(line.slice(i, i + 8)), `output quotes ${line.slice(i, i + 8)}: ${out}`);
      }
    }
    assert.equal(journalExists(fx), false);
  });

  test('a request that is a symlink or a FIFO is refused at once, without hanging', async () => {
    const fx = fixture();
    const dir = userDir('lockstep-req-');
    const pkg = makeTarGz(fx.packages, 'app-2.0.0.tar.gz', appTree('2.0.0'));
    const real = requestFile(dir, 'link-00000001', { packagePath: pkg, manifest: signedFor(pkg, '2.0.0') });
    const link = path.join(dir, 'link.json');
    fs.symlinkSync(real, link);
    fs.lchownSync(link, user.uid, 0);
    const fifo = path.join(dir, 'fifo.json');
    execFileSync('runuser', ['-u', user.name, '--', 'mkfifo', fifo]);
    const before = treeHash(fx.installDir).hash;

    const viaLink = await sudoHelperWithin(['--request', link], 15_000);
    assert.equal(viaLink.result.error?.code, 'E_NOT_PERMITTED', viaLink.output);
    assert.match(viaLink.result.error!.message, /symbolic link/);
    const viaFifo = await sudoHelperWithin(['--request', fifo], 15_000);
    assert.equal(viaFifo.result.error?.code, 'E_NOT_PERMITTED', viaFifo.output);
    assert.match(viaFifo.result.error!.message, /not a regular file/);
    assert.ok(viaFifo.elapsedMs < 10_000, `refused in ${viaFifo.elapsedMs} ms`);
    assert.equal(treeHash(fx.installDir).hash, before);
    assert.equal(journalExists(fx), false);
  });

  test('the pipeline follows the signed file: a signed .tar.gz requested as an AppImage, or signed for Windows, is refused', async () => {
    const fx = fixture();
    const dir = userDir('lockstep-req-');
    const pkg = makeTarGz(fx.packages, 'app-2.0.0.tar.gz', appTree('2.0.0'));
    const before = treeHash(fx.installDir).hash;
    const beforeVersion = versionFile(fx);

    const asAppImage = helperResult((await sudoHelper(user, ['--request', requestFile(dir, 'kind-00000001', { kind: 'appimage', packagePath: pkg, manifest: signedFor(pkg, '2.0.0') })], user.password)).stdout);
    assert.equal(asAppImage.error?.code, 'E_SIGNATURE', JSON.stringify(asAppImage));
    assert.match(asAppImage.error!.message, /appimage package, but the signed file is a portable package/);

    const forWindows = manifestOf('2.0.0', [pkg]) as { files: Array<{ platform: string }> };
    forWindows.files[0]!.platform = 'win';
    const asWindows = helperResult((await sudoHelper(user, ['--request', requestFile(dir, 'plat-00000001', { packagePath: pkg, manifest: signManifest(forWindows, VENDOR) })], user.password)).stdout);
    assert.equal(asWindows.error?.code, 'E_SIGNATURE', JSON.stringify(asWindows));
    assert.match(asWindows.error!.message, /for win, not for this linux workstation/);

    assert.equal(treeHash(fx.installDir).hash, before);
    assert.equal(versionFile(fx), beforeVersion);
    assert.equal(journalExists(fx), false);

    // The same file requested as what it is installs: the refusals above are about the kind and platform only.
    const right = helperResult((await sudoHelper(user, ['--request', requestFile(dir, 'kind-00000002', { packagePath: pkg, manifest: signedFor(pkg, '2.0.0') })], user.password)).stdout);
    assert.equal(right.error, undefined, JSON.stringify(right));
    assert.match(versionFile(fx), /2\.0\.0/);
  });
});
