/**
 * A nearly full disk at install, for real: the install folder and its state folder on a small tmpfs, filled so that
 * the free space is about the size of the new tree (from a few pages less to a few pages more than the unpacked tree
 * takes, measured on the same tmpfs). Every attempt must end in E_DISK_FULL with no staging copy left behind and the
 * install folder byte-identical — the free space is checked before anything is written, so no attempt gets as far as
 * a journal write on a full disk. Runs as root on Linux.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RealUser, canRunRealUserSuite, createUser, helperResult, runAs, sudoHelper } from './support/realUser';
import { appTree, machineFixture, makeTarGz, treeHash } from './support/fixtures';
import { manifestFileFor, signedFor } from './support/vendor';

assert.ok(canRunRealUserSuite(), 'The real-user installer suite needs root on Linux with useradd, chpasswd, visudo, runuser, sudo and strace: run .ci/setup-installer.sh as root.');

const PAGE = 4096;
let user: RealUser;
const cleanups: Array<() => void> = [];
before(() => {
  user = createUser();
});
after(() => {
  for (const c of cleanups.reverse()) c();
  user.remove();
});

const freeBytes = (dir: string): number => {
  const st = fs.statfsSync(dir);
  return st.bavail * st.bsize;
};

/** Makes the free space of `mnt` exactly `target` bytes (page-aligned) with a filler file. */
function leaveFree(mnt: string, target: number): void {
  const filler = path.join(mnt, 'filler');
  fs.rmSync(filler, { force: true });
  const size = freeBytes(mnt) - target;
  assert.ok(size > 0, `room for a filler of ${size} bytes`);
  const fd = fs.openSync(filler, 'w', 0o600);
  try {
    const chunk = Buffer.alloc(1 << 20);
    for (let left = size; left > 0; left -= chunk.length) fs.writeSync(fd, chunk, 0, Math.min(chunk.length, left));
  } finally {
    fs.closeSync(fd);
  }
  assert.equal(freeBytes(mnt), target);
}

describe('a nearly full disk at install', () => {
  test('free space about the size of the new tree: E_DISK_FULL every time, no staging left, the install folder unchanged', async () => {
    let mnt = '';
    const fx = machineFixture({
      user,
      installed: appTree('1.0.0'),
      beforeInstall: (m) => {
        mnt = m;
        const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=12m,mode=0755', 'tmpfs', m]);
        assert.equal(r.status, 0, String(r.stderr));
      },
    });
    cleanups.push(() => fs.rmSync(fx.root, { recursive: true, force: true }));
    cleanups.push(() => spawnSync('umount', ['-l', mnt]));
    const pkg = makeTarGz(fx.packages, 'app-2.0.0.tar.gz', appTree('2.0.0', [{ path: 'resources/big.bin', content: randomBytes(2 << 20) }]));
    const manifest = manifestFileFor(pkg, '2.0.0');

    // What the unpacked tree takes on this very file system.
    const scratch = path.join(mnt, 'scratch');
    fs.mkdirSync(scratch);
    const freeBefore = freeBytes(mnt);
    execFileSync('tar', ['-xzf', pkg, '-C', scratch]);
    const treeSize = freeBefore - freeBytes(mnt);
    fs.rmSync(scratch, { recursive: true });

    const installed = treeHash(fx.installDir);
    const outcomes: string[] = [];
    for (let pages = -4; pages <= 12; pages += 2) {
      leaveFree(mnt, treeSize + pages * PAGE);
      const run = await runAs(user, ['install', pkg, '--version', '2.0.0', '--manifest', manifest, '--password-stdin', '--config', fx.configPath], user.password + '\n');
      const staging = path.join(fx.stateDir, 'staging');
      const left = fs.existsSync(staging) ? fs.readdirSync(staging) : [];
      outcomes.push(`${pages} pages: ${run.json.error?.code ?? `installed ${String(run.json['installed'])}`}, staging ${left.length ? left.join(',') : 'empty'}, install folder ${treeHash(fx.installDir).hash === installed.hash ? 'unchanged' : 'changed'}`);
      fs.rmSync(staging, { recursive: true, force: true }); // so one attempt's leftovers do not decide the next
    }
    assert.deepEqual(outcomes, outcomes.map((o) => `${o.split(':')[0]}: E_DISK_FULL, staging empty, install folder unchanged`));
  });

  test('out of inodes (bytes to spare, so the space check passes): whichever file creation or journal write fails, E_DISK_FULL, no staging left, unchanged', async () => {
    let mnt = '';
    const fx = machineFixture({
      user,
      installed: appTree('1.0.0'),
      beforeInstall: (m) => {
        mnt = m;
        const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64m,nr_inodes=400,mode=0755', 'tmpfs', m]);
        assert.equal(r.status, 0, String(r.stderr));
      },
    });
    cleanups.push(() => fs.rmSync(fx.root, { recursive: true, force: true }));
    cleanups.push(() => spawnSync('umount', ['-l', mnt]));
    const newFiles = appTree('2.0.0', Array.from({ length: 12 }, (_, i) => ({ path: `resources/part${i}.bin`, content: `part ${i}` })));
    const pkg = makeTarGz(fx.packages, 'app-2.0.0.tar.gz', newFiles);
    const installed = treeHash(fx.installDir);
    const fillers = path.join(mnt, 'fillers');
    fs.mkdirSync(fillers);
    const freeInodes = (): number => fs.statfsSync(mnt).ffree;

    const outcomes: string[] = [];
    // From too few inodes for the state folder itself up to enough for everything: stop at the first install that goes through.
    for (const [n, spare] of [2, 3, 4, 5, 6, 7, 8, 10, 13, 17, 22, 30, 40, 55, 75, 100, 150].entries()) {
      fs.rmSync(fillers, { recursive: true, force: true });
      fs.mkdirSync(fillers);
      for (let i = 0; freeInodes() > spare; i++) fs.writeFileSync(path.join(fillers, String(i)), '');
      const request = path.join(fx.packages, `inodes-${String(n).padStart(6, '0')}.json`);
      fs.writeFileSync(request, JSON.stringify({ id: `inodes-${String(n).padStart(6, '0')}`, kind: 'portable', packagePath: pkg, toVersion: '2.0.0', manifest: signedFor(pkg, '2.0.0') }), { mode: 0o644 });
      const result = helperResult((await sudoHelper(user, ['--request', request], user.password)).stdout);
      const staging = path.join(fx.stateDir, 'staging');
      const left = fs.existsSync(staging) ? fs.readdirSync(staging) : [];
      const journal = path.join(fx.stateDir, 'journal.json');
      const phase = fs.existsSync(journal) ? (JSON.parse(fs.readFileSync(journal, 'utf8')) as { phase: string }).phase : 'none';
      const code = result.error?.code ?? `installed ${String(result['to'])}`;
      outcomes.push(`${spare} inodes: ${code}, journal ${phase === 'failed' ? 'failed or none' : phase === 'none' ? 'failed or none' : phase}, staging ${left.length ? left.join(',') : 'empty'}, install folder ${treeHash(fx.installDir).hash === installed.hash ? 'unchanged' : 'changed'}`);
      if (!result.error) break;
      fs.rmSync(staging, { recursive: true, force: true });
    }
    const failures = outcomes.slice(0, -1);
    assert.ok(failures.length >= 5, `several attempts ran out of inodes:\n${outcomes.join('\n')}`);
    assert.deepEqual(failures, failures.map((o) => `${o.split(':')[0]}: E_DISK_FULL, journal failed or none, staging empty, install folder unchanged`));
    assert.match(outcomes.at(-1)!, /installed 2\.0\.0, journal awaiting-health, staging empty, install folder changed$/, outcomes.join('\n'));
  });
});
