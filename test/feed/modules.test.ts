/**
 * Module updates end to end through the real CLI (S6): the vendor adds app packages and module packages to a feed
 * (feed add, feed add-module), a workstation checks, downloads the app with the ticked module (--skip-module unticks
 * one), and installs both together (install-update) into its install folder — a real portable package through the
 * installer, served from 127.0.0.1. Then the bytes on disk, lockstep-modules.json, and what the next check reports.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { tarGz } from '../../authoring/tarGz';
import { writeVersionFile } from '../../kernel/installation';
import { tempDir } from '../helpers/backends';
import { CLI, runNode } from '../helpers/workstationSim';
import { TestFeedServer } from './feedServer';

async function lockstep(args: string[]) {
  const r = await runNode(CLI, [...args, '--json']);
  try {
    return { code: r.code, body: JSON.parse(r.stdout) as Record<string, unknown> };
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}

function errorCode(body: Record<string, unknown>): string | undefined {
  return (body['error'] as { code?: string } | undefined)?.code;
}

/** Every file under `dir` with its bytes, relative paths sorted: a whole-folder comparison. */
function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out[path.relative(dir, p)] = fs.readFileSync(p).toString('base64');
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}

type Offered = { version: string; modules: Array<{ id: string; installed: string; status: string; updateTo: string | null }> };

describe('module updates through the CLI (S6)', () => {
  test('feed add-module → check → download (one module unticked) → install-update: new module bytes, the others untouched, the list and the next check agree', async () => {
    const dir = tempDir('lockstep-modules-');
    const server = { current: null as TestFeedServer | null };
    try {
      const feed = path.join(dir, 'feed');
      const build = path.join(dir, 'build');
      fs.mkdirSync(build);
      assert.equal((await lockstep(['keygen', '--out', path.join(dir, 'keys', 'acme')])).code, 0);
      const key = ['--key', path.join(dir, 'keys', 'acme.key'), '--feed', feed];
      const addApp = async (version: string) => {
        const pkg = path.join(build, `Acme-${version}-linux.tar.gz`);
        fs.writeFileSync(pkg, tarGz({ 'lockstep-version.json': JSON.stringify({ version }) + '\n', 'README.txt': `Acme ${version}\n` }));
        const r = await lockstep(['feed', 'add', pkg, '--version', version, '--platform', 'linux', '--product', 'Acme', ...key]);
        assert.equal(r.code, 0, JSON.stringify(r.body));
      };
      const moduleBytes = (id: string, version: string) => Buffer.from(`${id} module ${version} `.repeat(300));
      const addModule = async (id: string, version: string, range: string) => {
        const file = path.join(build, `${id}-${version}.module`);
        fs.writeFileSync(file, moduleBytes(id, version));
        const r = await lockstep(['feed', 'add-module', file, '--module', id, '--version', version, '--app-range', range, ...key]);
        assert.equal(r.code, 0, JSON.stringify(r.body));
      };
      await addApp('1.1.0');
      await addModule('reports', '1.1.0', '>=1.1.0 <2.0.0');
      await addModule('charts', '3.1', '>=1.1.0');
      // The scanner is only declared (no package) and only for app versions below 1.1.0: incompatible, no update.
      assert.equal((await lockstep(['feed', 'refresh', '--module', 'scanner@0.9:<1.1.0', ...key])).code, 0);
      assert.equal((await lockstep(['license', 'issue', '--number', 'ACME-7', '--edition', 'standard', '--contract-until', '2099-12-31', '--key', path.join(dir, 'keys', 'acme.key'), '--out', path.join(dir, 'license.json'), '--product', 'Acme'])).code, 0);
      server.current = await new TestFeedServer(feed).start();

      // A workstation on 1.0.0 with three modules IT installed.
      const ws = path.join(dir, 'ws');
      const app = path.join(ws, 'app');
      fs.mkdirSync(app, { recursive: true });
      writeVersionFile(app, '1.0.0');
      const listFile = path.join(app, 'lockstep-modules.json');
      fs.writeFileSync(listFile, JSON.stringify({ reports: '1.0.0', charts: '3.0', scanner: '0.9' }));
      const installedBefore: Record<string, Buffer> = { 'reports/reports-1.0.0.module': moduleBytes('reports', '1.0.0'), 'charts/charts-3.0.module': moduleBytes('charts', '3.0'), 'scanner/scanner.bin': Buffer.from('scanner 0.9'), 'scanner/lang/de.txt': Buffer.from('Scanner') };
      for (const [rel, bytes] of Object.entries(installedBefore)) {
        fs.mkdirSync(path.dirname(path.join(app, 'modules', rel)), { recursive: true });
        fs.writeFileSync(path.join(app, 'modules', rel), bytes);
      }
      const pub = fs.readFileSync(path.join(dir, 'keys', 'acme.pub'), 'utf8').trim();
      const config = path.join(ws, 'lockstep.machine.json');
      fs.writeFileSync(config, JSON.stringify({ installDir: 'app', database: { url: 'sqlite:shared.db' }, log: { dir: 'logs' }, feed: { url: server.current.url, licenseFile: path.join(dir, 'license.json'), trustedKeys: [pub], cacheDir: 'cache', retries: 1, retryDelayMs: 10 } }));
      const cfg = ['--config', config];

      const checked = await lockstep(['check', ...cfg]);
      assert.equal(checked.code, 0, JSON.stringify(checked.body));
      const offered = (checked.body['versions'] as Offered[])[0]!;
      assert.deepEqual(offered.modules.map((m) => [m.id, m.installed, m.status, m.updateTo]), [
        ['charts', '3.0', 'update-available', '3.1'],
        ['reports', '1.0.0', 'update-available', '1.1.0'],
        ['scanner', '0.9', 'incompatible', null],
      ]);

      // Charts unticked: only the reports package travels with the app.
      assert.equal(errorCode((await lockstep(['download', '--skip-module', 'nosuch', ...cfg])).body), 'E_USAGE');
      const got = await lockstep(['download', '--skip-module', 'charts', ...cfg]);
      assert.equal(got.code, 0, JSON.stringify(got.body));
      const modules = got.body['modules'] as Array<{ id: string; version: string; file: string }>;
      assert.deepEqual(modules.map((m) => [m.id, m.version, path.relative(ws, m.file)]), [['reports', '1.1.0', path.join('cache', 'downloads', 'reports-1.1.0.module')]]);
      assert.deepEqual(fs.readFileSync(modules[0]!.file), server.current.file('reports-1.1.0.module'));
      assert.equal(server.current.requestsFor('charts-3.1.module').length, 0, 'an unticked module is not fetched');
      const downloadJson = path.join(ws, 'download.json');
      fs.writeFileSync(downloadJson, JSON.stringify(got.body));
      const modulesBefore = tree(path.join(app, 'modules'));
      assert.deepEqual(JSON.parse(fs.readFileSync(listFile, 'utf8')), { reports: '1.0.0', charts: '3.0', scanner: '0.9' }, 'downloading installs nothing');

      // A module package changed after the download is refused before anything is touched.
      const good = fs.readFileSync(modules[0]!.file);
      fs.writeFileSync(modules[0]!.file, Buffer.concat([good.subarray(0, 10), Buffer.from('X'), good.subarray(11)]));
      const tampered = await lockstep(['install-update', '--manifest', downloadJson, ...cfg]);
      assert.equal(errorCode(tampered.body), 'E_CHECKSUM', JSON.stringify(tampered.body));
      assert.equal(JSON.parse(fs.readFileSync(path.join(app, 'lockstep-version.json'), 'utf8')).version, '1.0.0');
      assert.deepEqual(tree(path.join(app, 'modules')), modulesBefore);
      fs.writeFileSync(modules[0]!.file, good);

      const installed = await lockstep(['install-update', '--manifest', downloadJson, ...cfg]);
      assert.equal(installed.code, 0, JSON.stringify(installed.body));
      assert.equal(installed.body['installed'], '1.1.0');
      assert.equal(fs.readFileSync(path.join(app, 'README.txt'), 'utf8'), 'Acme 1.1.0\n');
      // The ticked module replaced, the unticked and the incompatible one byte for byte as they were.
      assert.deepEqual(tree(path.join(app, 'modules')), {
        'charts/charts-3.0.module': installedBefore['charts/charts-3.0.module']!.toString('base64'),
        'reports/reports-1.1.0.module': server.current.file('reports-1.1.0.module').toString('base64'),
        'scanner/lang/de.txt': installedBefore['scanner/lang/de.txt']!.toString('base64'),
        'scanner/scanner.bin': installedBefore['scanner/scanner.bin']!.toString('base64'),
      });
      assert.deepEqual(JSON.parse(fs.readFileSync(listFile, 'utf8')), { charts: '3.0', reports: '1.1.0', scanner: '0.9' });
      assert.deepEqual(installed.body['modules'], { charts: '3.0', reports: '1.1.0', scanner: '0.9' });
      assert.equal(fs.existsSync(path.join(ws, 'cache', 'module-install')), false, 'the carried copies are cleaned up');

      // The vendor publishes 1.2.0: the next check reports the installed module versions as they now are.
      await addApp('1.2.0');
      const next = await lockstep(['check', ...cfg]);
      assert.equal(next.code, 0, JSON.stringify(next.body));
      assert.equal(next.body['installed'], '1.1.0');
      assert.deepEqual((next.body['versions'] as Offered[])[0]!.modules.map((m) => [m.id, m.installed, m.status, m.updateTo]), [
        ['charts', '3.0', 'update-available', '3.1'],
        ['reports', '1.1.0', 'compatible', null],
        ['scanner', '0.9', 'incompatible', null],
      ]);
    } finally {
      await server.current?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
