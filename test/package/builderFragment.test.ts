/**
 * lockstep/builder without packaging: the fragment passes electron-builder's own validation once merged into a
 * vendor's configuration, the merge keeps what the vendor set, wrong options are coded errors naming the option,
 * and the version file goes where the installer reads it on every OS (macOS: inside the bundle).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Configuration, PackContext } from 'app-builder-lib';
import { lockstepBuildConfig, mergeBuildConfig, withLockstep, writeVersionFileAfterPack } from '../../builder';
import { isLockstepError } from '../../contract/errors';
import { asarUnpackedPath } from '../../kernel/asarUnpacked';
import { versionFileIn } from '../../installer/layout';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { validateConfiguration } = require('app-builder-lib/out/util/config/config') as { validateConfiguration(config: unknown, logger: unknown): Promise<void> };
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { DebugLogger } = require(require.resolve('builder-util', { paths: [require.resolve('app-builder-lib')] })) as { DebugLogger: new (enabled?: boolean) => unknown };

const vendor: Configuration = {
  appId: 'com.example.client',
  productName: 'Example Client',
  asarUnpack: 'resources/ffmpeg/**',
  nsis: { oneClick: false, perMachine: true },
  linux: { target: ['AppImage', 'deb'], category: 'Office' },
};

test('merged into a vendor configuration, the fragment passes electron-builder validation and keeps the vendor settings', async () => {
  const merged = withLockstep(vendor, { feedUrl: 'https://updates.example.com/client', channel: 'beta' });
  await validateConfiguration(merged, new DebugLogger(false));
  const { afterPack, ...rest } = merged;
  assert.equal(typeof afterPack, 'function');
  assert.deepEqual(rest, {
    appId: 'com.example.client',
    productName: 'Example Client',
    asarUnpack: [
      'resources/ffmpeg/**',
      'node_modules/lockstep/build/engine/feed/hashingWriterWorker.js',
      'node_modules/lockstep/build/installer/**',
      'node_modules/lockstep/build/kernel/**',
      'node_modules/lockstep/build/contract/**',
      '**/node_modules/zod/**',
      '**/node_modules/semver/**',
      '**/*.node',
    ],
    nsis: { oneClick: false, perMachine: true, packElevateHelper: true },
    linux: { target: ['AppImage', 'deb'], category: 'Office' },
    publish: [{ provider: 'generic', url: 'https://updates.example.com/client', channel: 'beta' }],
  });
  assert.deepEqual(vendor.asarUnpack, 'resources/ffmpeg/**', 'the vendor object is not changed');
  // the app that is Lockstep itself keeps its files at the top of the app folder
  assert.deepEqual((lockstepBuildConfig({ packageDir: '' }).asarUnpack as string[]).slice(0, 2), ['build/engine/feed/hashingWriterWorker.js', 'build/installer/**']);
});

test('the vendor hooks still run, after Lockstep writes the version file (functions and module paths)', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-builder-'));
  try {
    const seen: string[] = [];
    const hookModule = path.join(tmp, 'hook.js');
    fs.writeFileSync(hookModule, `exports.default = (ctx) => { require('fs').appendFileSync(${JSON.stringify(path.join(tmp, 'seen'))}, require('fs').readFileSync(ctx.appOutDir + '/lockstep-version.json', 'utf8')); };\n`);
    const context = fakeContext(tmp, 'linux', '4.0.1');
    for (const afterPack of [async (ctx: PackContext) => void seen.push(fs.readFileSync(versionFileIn(ctx.appOutDir), 'utf8')), hookModule]) {
      const merged = withLockstep({ ...vendor, afterPack });
      await (merged.afterPack as (c: PackContext) => Promise<void>)(context);
    }
    assert.deepEqual(seen, ['{"version":"4.0.1"}\n']);
    assert.equal(fs.readFileSync(path.join(tmp, 'seen'), 'utf8'), '{"version":"4.0.1"}\n');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('the version file lies at the top of the tree on Linux and Windows, inside the bundle on macOS', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-builder-'));
  try {
    const bundle = path.join(tmp, 'mac', 'Example Client.app');
    fs.mkdirSync(path.join(bundle, 'Contents', 'Resources'), { recursive: true });
    assert.equal(await writeVersionFileAfterPack(fakeContext(path.join(tmp, 'mac'), 'darwin', '5.0.0')), path.join(bundle, 'Contents', 'Resources', 'lockstep-version.json'));
    assert.equal(fs.readFileSync(versionFileIn(bundle), 'utf8'), '{"version":"5.0.0"}\n');
    assert.deepEqual(fs.readdirSync(path.join(tmp, 'mac')), ['Example Client.app'], 'nothing loose beside the bundle');
    fs.mkdirSync(path.join(tmp, 'win'));
    assert.equal(await writeVersionFileAfterPack(fakeContext(path.join(tmp, 'win'), 'win32', '5.0.0')), path.join(tmp, 'win', 'lockstep-version.json'));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('a wrong option or a setting Lockstep cannot work without is a coded error naming it', () => {
  const cases: Array<[() => unknown, string]> = [
    [() => lockstepBuildConfig({ feedURL: 'https://x' } as never), 'feedURL'],
    [() => lockstepBuildConfig({ feedUrl: 'ftp://updates.example.com' }), 'feedUrl'],
    [() => lockstepBuildConfig({ feedUrl: 'https://user:secret@updates.example.com' }), 'feedUrl'],
    [() => lockstepBuildConfig({ channel: 'beta/../x' }), 'channel'],
    [() => lockstepBuildConfig({ packageDir: '../lockstep' }), 'packageDir'],
    [() => lockstepBuildConfig({ packageDir: 'C:\\app\\node_modules\\lockstep' }), 'packageDir'],
    [() => lockstepBuildConfig({ channel: 'beta' }), 'channel'],
    [() => withLockstep({ ...vendor, nsis: { packElevateHelper: false } }), 'nsis.packElevateHelper'],
  ];
  for (const [call, option] of cases) {
    assert.throws(call, (err) => isLockstepError(err, 'E_USAGE') && err.details['option'] === option && err.message.includes(option), option);
  }
  assert.throws(() => mergeBuildConfig(null as never, {}), (err) => isLockstepError(err, 'E_USAGE'));
});

test('a file inside an archive is started from the unpacked twin; other paths are left alone', () => {
  assert.equal(asarUnpackedPath('/opt/Client/resources/app.asar/node_modules/lockstep/build/engine/feed/w.js'), '/opt/Client/resources/app.asar.unpacked/node_modules/lockstep/build/engine/feed/w.js');
  assert.equal(asarUnpackedPath('/opt/Client/resources/app.asar.unpacked/x/w.js'), '/opt/Client/resources/app.asar.unpacked/x/w.js');
  assert.equal(asarUnpackedPath('/work/lockstep/build/engine/feed/w.js'), '/work/lockstep/build/engine/feed/w.js');
});

function fakeContext(appOutDir: string, electronPlatformName: string, version: string): PackContext {
  // the fields of electron-builder's pack context the fragment reads; the project is one with electron-builder installed
  return { appOutDir, electronPlatformName, packager: { appInfo: { version, productFilename: 'Example Client', type: undefined }, info: { projectDir: path.resolve(__dirname, '../../..') } } } as unknown as PackContext;
}
