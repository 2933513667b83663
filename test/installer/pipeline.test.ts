/**
 * The pipeline pieces on real files (no elevation): the write probe, archive safety, zip extraction, data folders
 * kept out of backup and replacement, the recovery decision table.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MemoryLogger } from '../../kernel/log';
import { extractTar } from '../../installer/archive/tar';
import { extractZip } from '../../installer/archive/zip';
import { Journal } from '../../installer/journal';
import { probeFolder } from '../../installer/probe';
import { decideRecovery } from '../../installer/recovery';
import { nodeSpawner } from '../../installer/spawn';
import { applyWithRights } from '../../installer/withRights';
import { appTree, makeTarGz, openTempDir, sha512File, treeHash, writeTree } from './support/fixtures';
import { VENDOR, signedFor } from './support/vendor';

const made: string[] = [];
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function tmp(): string {
  const dir = openTempDir('lockstep-pipe-');
  made.push(dir);
  return dir;
}

describe('write probe', () => {
  test('a writable folder passes and the probe leaves nothing behind', () => {
    const dir = tmp();
    assert.deepEqual(probeFolder(dir), { writable: true });
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  test('a read-only mount is refused even for root, where fs.access-style checks on permissions would pass', { concurrency: false }, () => {
    const dir = tmp();
    const ro = path.join(dir, 'ro');
    fs.mkdirSync(ro);
    assert.equal(spawnSync('mount', ['--bind', ro, ro]).status, 0);
    try {
      assert.equal(spawnSync('mount', ['-o', 'remount,bind,ro', ro]).status, 0);
      const r = probeFolder(ro);
      assert.deepEqual(r, { writable: false, refused: { dir: ro, code: 'EROFS' } });
    } finally {
      spawnSync('umount', [ro]);
    }
  });
});

describe('archives', () => {
  test('tar entries that leave the folder or write through a link are refused before anything is written there', async () => {
    const dir = tmp();
    const src = path.join(dir, 'src');
    writeTree(src, [{ path: 'escape', link: '/etc' }, { path: 'ok.txt', content: 'x' }]);
    const evil = path.join(dir, 'evil.tar');
    execFileSync('tar', ['-cf', evil, '-C', src, 'escape']);
    const out = path.join(dir, 'out');
    fs.mkdirSync(out);
    await assert.rejects(extractTar(evil, out), { code: 'E_INSTALL_FAILED', message: /link target \/etc leaves/ });

    const dotdot = path.join(dir, 'dotdot.tar');
    execFileSync('tar', ['-cf', dotdot, '-C', src, '--transform', 's,^ok.txt,../../ok.txt,', 'ok.txt']);
    const out2 = path.join(dir, 'out2');
    fs.mkdirSync(out2);
    await assert.rejects(extractTar(dotdot, out2), { code: 'E_INSTALL_FAILED', message: /leaves the install folder/ });
    assert.equal(fs.existsSync(path.join(dir, 'ok.txt')), false);
  });

  test('long names (pax) and modes survive; setuid bits do not', async () => {
    const dir = tmp();
    const long = `${'d'.repeat(120)}/${'f'.repeat(150)}.txt`;
    const tgz = makeTarGz(dir, 'long.tar.gz', [{ path: long, content: 'long' }, { path: 'bin/tool', content: '#!/bin/sh', mode: 0o4755 }]);
    const out = path.join(dir, 'out');
    fs.mkdirSync(out);
    const r = await extractTar(tgz, out);
    assert.equal(r.sha512.toString('hex'), sha512File(tgz));
    assert.equal(fs.readFileSync(path.join(out, long), 'utf8'), 'long');
    assert.equal(fs.statSync(path.join(out, 'bin/tool')).mode & 0o7777, 0o755);
  });

  test('zip: stored and deflated entries, a symbolic link, and a CRC error is refused', async () => {
    const dir = tmp();
    const zip = path.join(dir, 'app.zip');
    execFileSync('python3', ['-c', `
import zipfile, stat
z = zipfile.ZipFile(${JSON.stringify(zip)}, 'w')
z.writestr(zipfile.ZipInfo('Client.app/'), '')
z.writestr('Client.app/Contents/Info.plist', 'plist ' * 1000, compress_type=zipfile.ZIP_DEFLATED)
z.writestr('Client.app/lockstep-version.json', '{"version":"2.0.0"}', compress_type=zipfile.ZIP_STORED)
link = zipfile.ZipInfo('Client.app/Current')
link.create_system = 3
link.external_attr = (stat.S_IFLNK | 0o777) << 16
z.writestr(link, 'Contents')
z.close()
`]);
    const out = path.join(dir, 'out');
    fs.mkdirSync(out);
    await extractZip(zip, out);
    assert.equal(fs.readFileSync(path.join(out, 'Client.app/Contents/Info.plist'), 'utf8'), 'plist '.repeat(1000));
    assert.equal(fs.readlinkSync(path.join(out, 'Client.app/Current')), 'Contents');

    const bytes = fs.readFileSync(zip);
    const at = bytes.indexOf(Buffer.from('{"version"'));
    bytes[at + 2] = 'X'.charCodeAt(0);
    fs.writeFileSync(zip, bytes);
    const out2 = path.join(dir, 'out2');
    fs.mkdirSync(out2);
    await assert.rejects(extractZip(zip, out2), { code: 'E_INSTALL_FAILED', message: /CRC/ });
  });
});

describe('apply in-process (the user may write the folder)', () => {
  test('nested data folders are neither backed up nor replaced; the backup is the old tree, byte for byte', async () => {
    const dir = tmp();
    const installDir = path.join(dir, 'app');
    const oldFiles = appTree('1.0.0', [{ path: 'resources/userdata/db.sqlite', content: 'precious' }]);
    writeTree(installDir, oldFiles);
    const appOnly = path.join(dir, 'appOnly');
    writeTree(appOnly, oldFiles.filter((f) => !f.path.startsWith('resources/userdata')));
    const pkg = makeTarGz(dir, 'p.tar.gz', appTree('2.0.0', [{ path: 'resources/userdata/db.sqlite', content: 'vendor default' }]));
    const log = new MemoryLogger();
    const settings = { installDir, stateDir: path.join(dir, '.app.lockstep'), dataFolders: ['resources/userdata'], keepBackups: 2, healthTimeoutMs: 60_000 };
    const j = await applyWithRights({ id: 'inprocess-0001', kind: 'portable', packagePath: pkg, toVersion: '2.0.0', manifest: signedFor(pkg, '2.0.0') }, { settings, log, spawner: nodeSpawner, startedBy: 'tester' }, [VENDOR.publicKey]);
    assert.equal(j.phase, 'awaiting-health');
    assert.equal(fs.readFileSync(path.join(installDir, 'resources/userdata/db.sqlite'), 'utf8'), 'precious');
    assert.equal(JSON.parse(fs.readFileSync(path.join(installDir, 'lockstep-version.json'), 'utf8')).version, '2.0.0');
    assert.equal(treeHash(path.join(settings.stateDir, 'backups', 'inprocess-0001')).hash, treeHash(appOnly).hash);
    assert.deepEqual(log.entries.map((e) => e.event), ['apply.start', 'apply.installed']);
  });
});

describe('recovery decision', () => {
  const base = { phase: 'installing', backupStrategy: 'move', healthDeadline: '2030-01-01T00:00:00.000Z' } as unknown as Journal;
  const at = (phase: string, extra: Partial<Journal> = {}) => ({ ...base, phase, ...extra }) as Journal;
  const now = new Date('2030-01-01T00:00:00.000Z');

  test('every phase has its answer', () => {
    const table = ['prepared', 'staging', 'backing-up', 'installing', 'verifying', 'revert-clear', 'revert-return', 'confirmed', 'reverted', 'failed'].map((p) => [p, decideRecovery(at(p), now, false).type]);
    assert.deepEqual(Object.fromEntries(table), {
      prepared: 'discard', staging: 'discard', 'backing-up': 'revert', installing: 'revert', verifying: 'revert', 'revert-clear': 'revert', 'revert-return': 'revert', confirmed: 'none', reverted: 'none', failed: 'none',
    });
    assert.equal(decideRecovery(at('backing-up', { backupStrategy: 'copy' }), now, false).type, 'discard');
    assert.deepEqual(decideRecovery(null, now, false), { type: 'none', reason: 'no-journal' });
  });

  test('awaiting health: before the deadline wait, after it revert, once confirmed never', () => {
    const before = new Date(now.getTime() - 1);
    assert.deepEqual(decideRecovery(at('awaiting-health'), before, false), { type: 'none', reason: 'awaiting-health' });
    assert.deepEqual(decideRecovery(at('awaiting-health'), now, false), { type: 'revert', reason: 'unhealthy' });
    assert.deepEqual(decideRecovery(at('awaiting-health'), now, true), { type: 'none', reason: 'healthy' });
  });
});
