/**
 * The electron-builder configuration, validated offline the way electron-builder itself does before packaging
 * (app-builder-lib's getConfig + validateConfiguration); packaging cannot run on these machines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { lockstepBuildConfig } from '../../builder';

// Deep imports: app-builder-lib exports neither function from its index.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { getConfig, validateConfiguration } = require('app-builder-lib/out/util/config/config') as {
  getConfig(projectDir: string, configPath: string | null, fromOptions: unknown): Promise<Record<string, any>>; // eslint-disable-line @typescript-eslint/no-explicit-any
  validateConfiguration(config: unknown, logger: unknown): Promise<void>;
};
// the builder-util instance app-builder-lib itself loads (it may carry its own copy)
// eslint-disable-next-line @typescript-eslint/no-require-imports
const builderUtil = require(require.resolve('builder-util', { paths: [require.resolve('app-builder-lib')] })) as {
  DebugLogger: new (enabled?: boolean) => unknown;
  log: { stream: { write(s: string): boolean } };
};
const { DebugLogger } = builderUtil;

// electron-builder logs to stdout, which the test runner uses to talk to this process: keep its lines for the assertion.
const builderLog: string[] = [];
builderUtil.log.stream = { write: (s: string) => builderLog.push(s) > 0 };

const root = path.resolve(__dirname, '../../..');

test('installer/electron-builder.yml passes electron-builder validation and says what S9 needs', async () => {
  const config = await getConfig(root, path.join(root, 'installer/electron-builder.yml'), null);
  await validateConfiguration(config, new DebugLogger(false));
  assert.ok(builderLog.some((l) => l.includes('electron-builder.yml')), 'electron-builder loaded our file');
  assert.deepEqual(
    {
      nsis: { oneClick: config['nsis'].oneClick, perMachine: config['nsis'].perMachine, allowElevation: config['nsis'].allowElevation },
      win: config['win'].target.map((t: { target: string }) => t.target),
      mac: config['mac'].target.map((t: { target: string }) => t.target),
      linux: config['linux'].target.map((t: { target: string }) => t.target),
      publish: config['publish'].map((p: { provider: string }) => p.provider),
      // The version file: top of the install folder on Windows/Linux, inside the signed bundle's Resources on macOS.
      versionFile: {
        all: config['extraFiles'] ?? null,
        win: config['win'].extraFiles,
        linux: config['linux'].extraFiles,
        mac: { extraFiles: config['mac'].extraFiles ?? null, extraResources: config['mac'].extraResources },
      },
    },
    {
      nsis: { oneClick: false, perMachine: true, allowElevation: true },
      win: ['nsis'],
      mac: ['dmg', 'zip'],
      linux: ['AppImage', 'deb'],
      publish: ['generic'],
      versionFile: {
        all: null,
        win: [{ from: 'build/lockstep-version.json', to: 'lockstep-version.json' }],
        linux: [{ from: 'build/lockstep-version.json', to: 'lockstep-version.json' }],
        mac: { extraFiles: null, extraResources: [{ from: 'build/lockstep-version.json', to: 'lockstep-version.json' }] },
      },
    },
  );
});

test('the app that is Lockstep itself unpacks what lockstep/builder unpacks in a vendor app', async () => {
  const config = await getConfig(root, path.join(root, 'installer/electron-builder.yml'), null);
  assert.deepEqual(config['asarUnpack'], lockstepBuildConfig({ packageDir: '' }).asarUnpack);
});

test('a broken configuration is rejected by the same validation (the test can fail)', async () => {
  const config = await getConfig(root, path.join(root, 'installer/electron-builder.yml'), null);
  await assert.rejects(validateConfiguration({ ...config, nsis: { ...config['nsis'], perMachine: 'yes' } }, new DebugLogger(false)), /perMachine|configuration/i);
});
