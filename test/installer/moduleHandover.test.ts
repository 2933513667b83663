/**
 * The module part of a signed install request, in-process (the same code the privileged helper runs;
 * elevatedModules.test.ts runs it as root for a real unprivileged user): what is refused before anything is touched,
 * where modules may live, and that a module the new app package brings itself wins over the carried one.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MemoryLogger } from '../../kernel/log';
import { nodeSpawner } from '../../installer/spawn';
import { applyWithRights } from '../../installer/withRights';
import { TreeFile, appTree, makeTarGz, openTempDir, treeHash, writeTree } from './support/fixtures';
import { moduleBytes, modulePackage } from './support/modules';
import { VENDOR, signedFor } from './support/vendor';

const KEYS = [VENDOR.publicKey];

function setup(newApp: TreeFile[] = appTree('2.0.0')) {
  const dir = openTempDir('lockstep-module-handover-');
  const installDir = path.join(dir, 'app');
  writeTree(installDir, appTree('1.0.0', [
    { path: 'lockstep-modules.json', content: JSON.stringify({ reports: '1.0.0' }) },
    { path: 'modules/reports/reports-1.0.0.module', content: moduleBytes('reports', '1.0.0') },
  ]));
  const pkg = makeTarGz(dir, 'app-2.0.0.tar.gz', newApp);
  const settings = { installDir, stateDir: path.join(dir, '.app.lockstep'), dataFolders: ['data'], keepBackups: 2, healthTimeoutMs: 60_000 };
  const apply = (update: Array<{ id: string; file: string; manifest: { text: string; signature: string } }>, extra: Partial<typeof settings> & { modulesFile?: string } = {}) =>
    applyWithRights(
      { id: 'module-handover-1', kind: 'portable', packagePath: pkg, toVersion: '2.0.0', manifest: signedFor(pkg, '2.0.0'), modules: { update: update.map((u) => ({ id: u.id, packagePath: u.file, manifest: u.manifest })) } },
      { settings: { ...settings, ...extra }, log: new MemoryLogger(), spawner: nodeSpawner, startedBy: 'tester' },
      KEYS,
    );
  return { dir, installDir, settings, apply };
}

describe('modules in a signed install request', () => {
  test('refused before the install folder is touched: a module not installed here, one whose app range excludes the version, a package that is a link', async () => {
    const { dir, installDir, apply } = setup();
    try {
      const before = treeHash(installDir).hash;
      const charts = modulePackage(dir, 'charts', '3.1', '>=2.0.0');
      const j1 = await apply([charts]);
      assert.deepEqual([j1.phase, j1.error?.code], ['failed', 'E_USAGE']);
      await assert.rejects(apply([modulePackage(dir, 'reports', '1.1.0', '<2.0.0')]), { code: 'E_MODULE_INCOMPATIBLE' });
      const real = modulePackage(dir, 'reports', '1.1.0', '>=2.0.0');
      const link = path.join(dir, 'link', path.basename(real.file));
      fs.mkdirSync(path.dirname(link));
      fs.symlinkSync(real.file, link);
      const j3 = await apply([{ ...real, file: link }]);
      assert.deepEqual([j3.phase, j3.error?.code], ['failed', 'E_USAGE']);
      assert.equal(treeHash(installDir).hash, before);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a module list outside the install folder or in a data folder is not the helper\'s to change: E_NOT_PERMITTED, nothing touched', async () => {
    const { dir, installDir, apply } = setup();
    try {
      const before = treeHash(installDir).hash;
      const reports = modulePackage(dir, 'reports', '1.1.0', '>=2.0.0');
      for (const modulesFile of [path.join(dir, 'elsewhere', 'lockstep-modules.json'), path.join(installDir, 'data', 'lockstep-modules.json')]) {
        const j = await apply([reports], { modulesFile });
        assert.deepEqual([j.phase, j.error?.code], ['failed', 'E_NOT_PERMITTED'], modulesFile);
      }
      assert.equal(treeHash(installDir).hash, before);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a module the new app package brings itself is the vendor\'s choice and stays; the others are carried', async () => {
    const brought: TreeFile[] = [
      { path: 'lockstep-modules.json', content: JSON.stringify({ reports: '1.5.0' }) },
      { path: 'modules/reports/reports-1.5.0.module', content: 'bundled with the app' },
    ];
    const { dir, installDir, apply } = setup(appTree('2.0.0', brought));
    try {
      const j = await apply([modulePackage(dir, 'reports', '1.1.0', '>=2.0.0')]);
      assert.equal(j.phase, 'awaiting-health', JSON.stringify(j.error));
      assert.deepEqual(fs.readdirSync(path.join(installDir, 'modules/reports')), ['reports-1.5.0.module']);
      assert.deepEqual(JSON.parse(fs.readFileSync(path.join(installDir, 'lockstep-modules.json'), 'utf8')), { reports: '1.5.0' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
