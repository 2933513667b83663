/**
 * The packaged app, built here: a vendor's host app with `lockstep/builder` merged into its electron-builder
 * configuration, packaged by electron-builder (Linux `dir` target, stand-in Electron; support/hostApp.ts), then
 * inspected with @electron/asar — and what can run under plain Node from the built tree runs: the engine's download
 * writer starting its worker from app.asar.unpacked and hashing a file, the privileged helper in a dry run.
 * `npm run package:check` runs this file.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { versionFileIn } from '../../installer/layout';
import { HOST_VERSION, PackagedHost, packageHostApp } from './support/hostApp';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const asar = require('@electron/asar') as typeof import('@electron/asar');

let host: PackagedHost;

before(async () => {
  host = await packageHostApp();
});

after(() => {
  if (host) fs.rmSync(host.tmp, { recursive: true, force: true });
});

const archive = () => path.join(host.resources, 'app.asar');
const unpacked = (...rel: string[]) => path.join(host.resources, 'app.asar.unpacked', host.lockstepInArchive, ...rel);
const inArchive = (...rel: string[]) => path.join(host.lockstepInArchive, ...rel);

/** The archive's own record of a file: unpacked files are listed in the header but their bytes lie beside it. */
function entry(rel: string): { unpacked?: boolean; size?: number } {
  return asar.statFile(archive(), rel) as { unpacked?: boolean; size?: number };
}

test('electron-builder packaged the host app offline, in bounded time, with the fragment merged in', (t) => {
  // Bounded in CPU time (wall time on a machine shared by other jobs says little): ≈ 25 CPU-s measured, 20 s wall when idle.
  assert.ok(host.cpuSeconds < 90, `packaging took ${host.cpuSeconds} CPU-s (${host.ms} ms)`);
  t.diagnostic(`packaging: ${host.cpuSeconds.toFixed(1)} CPU-s, ${host.ms} ms`);
  assert.ok(fs.statSync(path.join(host.appOutDir, 'host-client')).mode & 0o100, 'the stand-in Electron became the app executable');
  const files = new Set(asar.listPackage(archive(), { isPack: false }).map((f) => f.replace(/^[\\/]/, '')));
  assert.ok(files.has('package.json') && files.has('main.js'), 'the vendor app is in the archive');
  assert.ok(files.has(inArchive('build', 'engine', 'feed', 'hashingWriter.js')), 'the engine is in the archive');
  assert.ok(files.has(inArchive('package.json')));
  assert.ok(!files.has(inArchive('build', 'test')), 'tests are not shipped');
  // publish to the vendor's generic feed: electron-builder wrote it into the app's resources
  assert.match(fs.readFileSync(path.join(host.resources, 'app-update.yml'), 'utf8'), /provider: generic\nurl: https:\/\/updates\.example\.invalid\/host-client/);
});

test('the version file is where installer/layout.ts says, naming the packaged version, before the vendor hook ran', () => {
  const file = versionFileIn(host.appOutDir);
  assert.equal(file, path.join(host.appOutDir, 'lockstep-version.json'));
  assert.deepEqual(JSON.parse(fs.readFileSync(file, 'utf8')), { version: HOST_VERSION });
  assert.deepEqual(host.vendorHookSaw, { versionFile: JSON.stringify({ version: HOST_VERSION }) + '\n' });
});

test('the hashing worker is unpacked, and the engine loaded from the archive starts it from app.asar.unpacked', async () => {
  const worker = path.join('build', 'engine', 'feed', 'hashingWriterWorker.js');
  assert.equal(entry(inArchive(worker)).unpacked, true, 'the archive marks the worker unpacked');
  assert.ok(fs.statSync(unpacked(worker)).isFile(), 'the worker lies in app.asar.unpacked');
  assert.notEqual(entry(inArchive('build', 'engine', 'feed', 'hashingWriter.js')).unpacked, true, 'the code that starts it stays packed');

  // Plain Node cannot read an archive, so it reads the archive's files from a folder of the same name beside the real
  // app.asar.unpacked — the same paths Electron gives __dirname. The worker is left out of that folder, as it is left
  // out of the archive's bytes: only the unpacked copy can be started.
  const view = path.join(host.tmp, 'view', 'resources');
  fs.mkdirSync(view, { recursive: true });
  asar.extractAll(archive(), path.join(view, 'app.asar'));
  fs.rmSync(path.join(view, 'app.asar', host.lockstepInArchive, worker));
  fs.symlinkSync(path.join(host.resources, 'app.asar.unpacked'), path.join(view, 'app.asar.unpacked'));
  const writerModule = path.join(view, 'app.asar', host.lockstepInArchive, 'build', 'engine', 'feed', 'hashingWriter.js');
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { HashingWriter } = require(writerModule) as typeof import('../../engine/feed/hashingWriter');

  const bytes = randomBytes(5 * 1024 * 1024 + 123);
  const part = path.join(host.tmp, 'download.part');
  const writer = await HashingWriter.open(part, 0);
  try {
    for (let off = 0; off < bytes.length; off += 64 * 1024) writer.append(bytes.subarray(off, off + 64 * 1024));
    assert.equal(await writer.digest(), createHash('sha512').update(bytes).digest('base64'));
  } finally {
    await writer.close();
  }
  assert.ok(fs.readFileSync(part).equals(bytes), 'the worker wrote every byte');
});

test('the privileged helper runs under plain Node from the unpacked tree (dry runs)', () => {
  const helper = unpacked('build', 'installer', 'privilegedApply.js');
  assert.equal(entry(inArchive('build', 'installer', 'privilegedApply.js')).unpacked, true);
  const run = (args: string[]) => {
    const r = spawnSync(process.execPath, [helper, ...args], { encoding: 'utf8', cwd: host.tmp, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' }, timeout: 30_000 });
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('LOCKSTEP-RESULT '));
    assert.equal(lines.length, 1, `one result line (stdout ${r.stdout}, stderr ${r.stderr})`);
    return { status: r.status, result: JSON.parse(lines[0]!.slice('LOCKSTEP-RESULT '.length)) as { error?: { code: string }; journal?: null } };
  };

  // Without a request: a usage error, answered by the helper's own code (everything it loads was found unpacked).
  const usage = run([]);
  assert.equal(usage.status, 2);
  assert.equal(usage.result.error?.code, 'E_USAGE');
});

test(
  'the helper is started as the app with one fixed first argument, and accepts it under plain Node',
  () => {
    const helper = unpacked('build', 'installer', 'privilegedApply.js');
    const r = spawnSync(process.execPath, [helper, '--lockstep-privileged-apply', '--recover'], { encoding: 'utf8', cwd: host.tmp, timeout: 30_000 });
    const line = r.stdout.split('\n').find((l) => l.startsWith('LOCKSTEP-RESULT '));
    assert.ok(line, r.stderr);
    const result = JSON.parse(line.slice('LOCKSTEP-RESULT '.length)) as { error?: { code: string } };
    // The configuration is read from its fixed root-owned place only; on this machine there is none, so the helper
    // says so with a coded error — but it must not call its own fixed argument a usage error.
    assert.ok(!result.error || !['E_USAGE', 'E_INTERNAL'].includes(result.error.code), JSON.stringify(result));
  },
);

test('native modules are found by install-app-deps (@electron/rebuild) in the vendor app and unpacked with their .node', async () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(host.projectDir, 'node_modules', 'lockstep', 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
  // What `electron-builder install-app-deps` (and npmRebuild) hands to @electron/rebuild: its module walker over the
  // app's production and optional dependencies, the types it rebuilds by default.
  const walkerFile = path.join(path.dirname(require.resolve('@electron/rebuild', { paths: [path.dirname(require.resolve('app-builder-lib'))] })), 'module-walker.js');
  const { ModuleWalker } = (await import(pathToFileURL(walkerFile).href)) as { ModuleWalker: new (buildPath: string, root: string, types: string[], prodDeps: Set<string>, only?: string[]) => { walkModules(): Promise<void>; nodeModulesPaths: Promise<string[]>; findAllModulesIn(p: string): Promise<void>; modulesToRebuild: string[] } };
  const walker = new ModuleWalker(host.projectDir, host.projectDir, ['prod', 'optional'], new Set());
  await walker.walkModules();
  for (const dir of await walker.nodeModulesPaths) await walker.findAllModulesIn(dir);
  const rebuilt = walker.modulesToRebuild.map((m) => path.relative(path.join(host.projectDir, 'node_modules'), m));
  for (const [name, binary] of [
    ['better-sqlite3', 'better_sqlite3.node'],
    ['keytar', 'keytar.node'],
  ] as const) {
    assert.ok(pkg.dependencies?.[name] ?? pkg.optionalDependencies?.[name], `${name} is a dependency of lockstep`);
    assert.ok(rebuilt.includes(name), `@electron/rebuild would rebuild ${name} (it found: ${rebuilt.filter((m) => fs.existsSync(path.join(host.projectDir, 'node_modules', m, 'binding.gyp'))).join(', ')})`);
    assert.ok(fs.existsSync(path.join(host.projectDir, 'node_modules', name, 'binding.gyp')), `${name} builds with node-gyp`);
    const rel = path.join('node_modules', name, 'build', 'Release', binary);
    assert.equal(entry(rel).unpacked, true, `${rel} is marked unpacked`);
    assert.ok(fs.statSync(path.join(host.resources, 'app.asar.unpacked', rel)).size > 0, `${rel} lies in app.asar.unpacked`);
  }
});
