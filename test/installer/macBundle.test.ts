/**
 * The macOS layout (installer/layout.ts) on real files: the install folder is the application bundle, the version file
 * is Contents/Resources/lockstep-version.json, and the mac zip (one top-level <Product>.app, as electron-builder makes
 * it) replaces the bundle's contents through the same signed, journaled pipeline. The layout follows the `.app` name,
 * so this runs on Linux; the macOS authorization prompt itself is only unit-tested (elevationModules.test.ts).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MemoryLogger } from '../../kernel/log';
import { readInstalledVersion } from '../../installer/apply';
import { defaultStateDir } from '../../installer/journal';
import { versionFileIn } from '../../installer/layout';
import { nodeSpawner } from '../../installer/spawn';
import { applyWithRights } from '../../installer/withRights';
import { TreeFile, openTempDir, treeHash, writeTree } from './support/fixtures';
import { VENDOR, signedFor } from './support/vendor';

const made: string[] = [];
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function bundle(version: string): TreeFile[] {
  return [
    { path: 'Contents/Info.plist', content: `<plist><string>${version}</string></plist>` },
    { path: 'Contents/MacOS/Lockstep Client', content: `#!/bin/sh\necho ${version}\n`, mode: 0o755 },
    { path: 'Contents/Resources/app.asar', content: `asar ${version}\n`.repeat(100) },
    { path: 'Contents/Resources/lockstep-version.json', content: JSON.stringify({ version }) + '\n' },
    { path: 'Contents/Frameworks/Electron Framework.framework/Versions/Current', link: 'A' },
  ];
}

/** A zip the way electron-builder's mac target makes it: the bundle folder at the top (zip -y keeps the links). */
function macZip(dir: string, name: string, tops: Record<string, TreeFile[]>): string {
  const src = fs.mkdtempSync(path.join(dir, 'zipsrc-'));
  for (const [top, files] of Object.entries(tops)) writeTree(path.join(src, top), files);
  const out = path.join(dir, name);
  execFileSync('python3', ['-c', `
import os, stat, sys, zipfile
src, out = sys.argv[1], sys.argv[2]
z = zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED)
for root, dirs, files in os.walk(src):
    for n in sorted(dirs) + sorted(files):
        p = os.path.join(root, n); rel = os.path.relpath(p, src)
        st = os.lstat(p)
        if stat.S_ISLNK(st.st_mode):
            i = zipfile.ZipInfo(rel); i.create_system = 3; i.external_attr = (stat.S_IFLNK | 0o777) << 16
            z.writestr(i, os.readlink(p))
        elif stat.S_ISDIR(st.st_mode):
            i = zipfile.ZipInfo(rel + '/'); i.create_system = 3; i.external_attr = (stat.S_IFDIR | 0o755) << 16
            z.writestr(i, '')
        else:
            z.write(p, rel)
z.close()
`, src, out]);
  fs.rmSync(src, { recursive: true, force: true });
  return out;
}

function site() {
  const dir = openTempDir('lockstep-mac-');
  made.push(dir);
  const installDir = path.join(dir, 'Applications', 'Lockstep Client.app');
  writeTree(installDir, bundle('1.0.0'));
  const settings = { installDir, stateDir: defaultStateDir(installDir), dataFolders: [], keepBackups: 2, healthTimeoutMs: 60_000 };
  const rc = { settings, log: new MemoryLogger(), spawner: nodeSpawner, startedBy: 'tester' };
  return { dir, installDir, settings, rc };
}

describe('macOS: the install folder is the .app bundle', () => {
  test('the version is read from Contents/Resources, and the mac zip replaces the bundle byte for byte (old one in the backup)', async () => {
    const { dir, installDir, settings, rc } = site();
    assert.equal(versionFileIn(installDir), path.join(installDir, 'Contents/Resources/lockstep-version.json'));
    assert.equal(readInstalledVersion(installDir), '1.0.0');
    const before = treeHash(installDir).hash;
    const zip = macZip(dir, 'Lockstep-Client-2.0.0-mac.zip', { 'Lockstep Client.app': bundle('2.0.0') });
    const expected = path.join(dir, 'expected');
    writeTree(expected, bundle('2.0.0'));

    const j = await applyWithRights({ id: 'mac-bundle-0001', kind: 'portable', packagePath: zip, toVersion: '2.0.0', manifest: signedFor(zip, '2.0.0') }, rc, [VENDOR.publicKey]);
    assert.deepEqual([j.phase, j.fromVersion], ['awaiting-health', '1.0.0']);
    assert.equal(readInstalledVersion(installDir), '2.0.0');
    assert.equal(treeHash(installDir).hash, treeHash(expected).hash, treeHash(installDir).listing.join('\n'));
    assert.equal(fs.existsSync(path.join(installDir, 'lockstep-version.json')), false, 'nothing written loose into the bundle');
    assert.equal(treeHash(path.join(settings.stateDir, 'backups', 'mac-bundle-0001')).hash, before);
  });

  test('a mac package without exactly one bundle at its top: E_INSTALL_FAILED, the bundle untouched', async () => {
    const { dir, installDir, rc } = site();
    const before = treeHash(installDir).hash;
    const two = macZip(dir, 'two.zip', { 'Lockstep Client.app': bundle('2.0.0'), 'Extra.app': bundle('2.0.0') });
    const loose = macZip(dir, 'loose.zip', { 'Lockstep Client.app': bundle('2.0.0'), 'README.txt': [] });
    for (const [i, zip] of [two, loose].entries()) {
      const j = await applyWithRights({ id: `mac-bad-000${i}`, kind: 'portable', packagePath: zip, toVersion: '2.0.0', manifest: signedFor(zip, '2.0.0') }, rc, [VENDOR.publicKey]);
      assert.deepEqual([j.phase, j.error?.code], ['failed', 'E_INSTALL_FAILED']);
      assert.match(j.error!.message, /exactly one application bundle/);
      assert.equal(treeHash(installDir).hash, before);
    }
  });
});
