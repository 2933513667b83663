/**
 * The vendor CLI as a vendor runs it (real child processes): keygen, feed add, license issue, then a workstation's
 * `check` and `download` against that feed served on 127.0.0.1. The latest*.yml files are compared byte for byte
 * with electron-builder's own serializer (builder-util's serializeToYaml) and their sha512/size with the files.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { parse } from 'yaml';
import { writeVersionFile } from '../../kernel/installation';
import { tempDir } from '../helpers/backends';
import { CLI, runNode } from '../helpers/workstationSim';
import { TestFeedServer } from './feedServer';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { serializeToYaml } = require('builder-util/out/util') as { serializeToYaml: (o: unknown, skipInvalid?: boolean, noRefs?: boolean) => string };

async function lockstep(args: string[], stdin?: string) {
  const r = await runNode(CLI, [...args, '--json'], { stdin });
  let body: Record<string, unknown>;
  try {
    body = JSON.parse(r.stdout);
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
  return { code: r.code, body };
}

describe('vendor CLI', () => {
  test('keygen → feed add → license issue → check → download, with electron-builder-exact latest*.yml', async () => {
    const dir = tempDir('lockstep-vendor-');
    try {
      const key = await lockstep(['keygen', '--out', path.join(dir, 'keys', 'acme'), '--passphrase-stdin'], 'correct horse\n');
      assert.equal(key.code, 0);
      assert.equal(key.body['encrypted'], true);
      assert.match(fs.readFileSync(path.join(dir, 'keys', 'acme.key'), 'utf8'), /ENCRYPTED PRIVATE KEY/);
      assert.equal(fs.statSync(path.join(dir, 'keys', 'acme.key')).mode & 0o777, 0o600);
      const again = await lockstep(['keygen', '--out', path.join(dir, 'keys', 'acme')]);
      assert.equal((again.body['error'] as { code: string }).code, 'E_USAGE', 'a key is never overwritten');

      const build = path.join(dir, 'build');
      fs.mkdirSync(build);
      const feed = path.join(dir, 'feed');
      const keyArgs = ['--key', path.join(dir, 'keys', 'acme.key'), '--passphrase-stdin'];
      for (const [version, extra] of [['7.0.0.19', []], ['7.1', ['--requires', '7.0.0.19', '--module', 'crm@2.0:>=7.0 <8.0', '--edition', 'pro']]] as const) {
        for (const f of [`Acme Setup ${version}.exe`, `Acme-${version}-mac.zip`, `Acme-${version}.dmg`, `Acme-${version}.AppImage`]) fs.writeFileSync(path.join(build, f), `${f} bytes`.repeat(1000));
        fs.writeFileSync(path.join(build, 'notes.md'), `# ${version}\n\n- 'quoted' yes: no\n`);
        const added = await lockstep(['feed', 'add', ...fs.readdirSync(build).filter((f) => !f.endsWith('.md') && f.includes(version)).map((f) => path.join(build, f)), '--version', version, '--feed', feed, ...keyArgs, '--notes', path.join(build, 'notes.md'), '--product', 'Acme ERP', ...extra], 'correct horse\n');
        assert.equal(added.code, 0, JSON.stringify(added.body));
      }
      // The module update comes as a package: name, size, SHA-512 and its app range signed into the catalog (S6).
      fs.writeFileSync(path.join(build, 'crm-2.0.plugin'), 'crm 2.0 plugin '.repeat(700));
      const mod = await lockstep(['feed', 'add-module', path.join(build, 'crm-2.0.plugin'), '--module', 'crm', '--version', '2.0', '--app-range', '>=7.0 <8.0', '--name', 'CRM', '--feed', feed, ...keyArgs], 'correct horse\n');
      assert.equal(mod.code, 0, JSON.stringify(mod.body));
      const plugin = fs.readFileSync(path.join(build, 'crm-2.0.plugin'));
      assert.deepEqual(mod.body['file'], { name: 'crm-2.0.plugin', size: plugin.length, sha512: createHash('sha512').update(plugin).digest('base64') });
      assert.deepEqual(fs.readFileSync(path.join(feed, 'crm-2.0.plugin')), plugin);
      const clash = await lockstep(['feed', 'add-module', path.join(build, 'Acme-7.1.AppImage'), '--module', 'crm', '--version', '2.1', '--app-range', '>=7.0', '--feed', feed, ...keyArgs], 'correct horse\n');
      assert.equal((clash.body['error'] as { code: string }).code, 'E_USAGE', 'a module package never takes an installer\'s name');
      const badRange = await lockstep(['feed', 'add-module', path.join(build, 'crm-2.0.plugin'), '--module', 'crm', '--version', '2.0', '--app-range', '>=seven', '--feed', feed, ...keyArgs], 'correct horse\n');
      assert.equal((badRange.body['error'] as { code: string }).code, 'E_USAGE');

      const badKey = await lockstep(['feed', 'add', path.join(build, 'Acme-7.1.AppImage'), '--version', '7.2', '--feed', feed, '--key', path.join(dir, 'keys', 'acme.key')]);
      assert.equal((badKey.body['error'] as { code: string }).code, 'E_USAGE');

      // electron-builder layout: one file per platform, newest version, same bytes as electron-builder would write.
      assert.deepEqual(fs.readdirSync(feed).filter((f) => f.endsWith('.yml')).sort(), ['latest-linux.yml', 'latest-mac.yml', 'latest.yml']);
      for (const yml of ['latest.yml', 'latest-mac.yml', 'latest-linux.yml']) {
        const text = fs.readFileSync(path.join(feed, yml), 'utf8');
        const info = parse(text, { version: '1.1' });
        assert.equal(text, serializeToYaml(info, false, true), `${yml} is byte-identical to electron-builder's serializer`);
        assert.equal(info.version, '7.1');
        for (const f of info.files) {
          const bytes = fs.readFileSync(path.join(feed, f.url));
          assert.equal(f.size, bytes.length);
          assert.equal(f.sha512, createHash('sha512').update(bytes).digest('base64'));
        }
        assert.deepEqual(Object.keys(info), ['version', 'files', 'path', 'sha512', 'releaseNotes', 'releaseDate']);
        assert.equal(info.path, info.files[0].url);
      }
      const mac = parse(fs.readFileSync(path.join(feed, 'latest-mac.yml'), 'utf8'));
      assert.deepEqual(mac.files.map((f: { url: string }) => f.url), ['Acme-7.1-mac.zip', 'Acme-7.1.dmg'], 'zip first, as electron-builder sorts');

      const lic = await lockstep(['license', 'issue', '--number', 'ACME-42', '--edition', 'pro', '--contract-until', '2099-12-31', ...keyArgs, '--out', path.join(dir, 'license.json'), '--product', 'Acme ERP'], 'correct horse\n');
      assert.equal(lic.code, 0);

      const server = await new TestFeedServer(feed).start();
      try {
        const ws = path.join(dir, 'ws');
        fs.mkdirSync(path.join(ws, 'app'), { recursive: true });
        writeVersionFile(path.join(ws, 'app'), '7.0.0.3');
        fs.writeFileSync(path.join(ws, 'app', 'lockstep-modules.json'), JSON.stringify({ crm: '1.0' }));
        const pub = fs.readFileSync(path.join(dir, 'keys', 'acme.pub'), 'utf8').trim();
        const config = path.join(ws, 'lockstep.machine.json');
        fs.writeFileSync(config, JSON.stringify({ installDir: 'app', database: { url: 'sqlite:shared.db' }, log: { dir: 'logs' }, feed: { url: server.url, licenseFile: path.join(dir, 'license.json'), trustedKeys: [pub], cacheDir: 'cache' } }));
        const checked = await lockstep(['check', '--config', config]);
        assert.equal(checked.code, 0, JSON.stringify(checked.body));
        const versions = checked.body['versions'] as Array<{ version: string; installable: boolean; chain: string[]; modules: Array<{ id: string; status: string; updateTo: string | null }> }>;
        assert.deepEqual(versions.map((v) => [v.version, v.installable, v.chain]), [
          ['7.1', true, ['7.0.0.19', '7.1']],
          ['7.0.0.19', true, ['7.0.0.19']],
        ]);
        assert.deepEqual(versions[0]!.modules.map((m) => [m.id, m.status, m.updateTo]), [['crm', 'update-available', '2.0']]);
        const got = await lockstep(['download', '--config', config]);
        assert.equal(got.code, 0, JSON.stringify(got.body));
        assert.deepEqual((got.body['steps'] as Array<{ version: string }>).map((s) => s.version), ['7.0.0.19', '7.1']);
        assert.deepEqual(fs.readFileSync(got.body['file'] as string), fs.readFileSync(path.join(feed, 'Acme-7.1.AppImage')));
        // The preselected module update came with the app, through the same verified download path.
        const modules = got.body['modules'] as Array<{ id: string; version: string; file: string }>;
        assert.deepEqual(modules.map((m) => [m.id, m.version, path.relative(ws, m.file)]), [['crm', '2.0', path.join('cache', 'downloads', 'crm-2.0.plugin')]]);
        assert.deepEqual(fs.readFileSync(modules[0]!.file), fs.readFileSync(path.join(feed, 'crm-2.0.plugin')));
      } finally {
        await server.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
