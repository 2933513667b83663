/**
 * An install that cannot build a native module says so itself, in one line, with the apt line to fix it.
 * Real npm (offline, local tarballs): a stand-in keytar whose build fails the way keytar's does without libsecret, a
 * stand-in better-sqlite3 that loads, both optional dependencies as in lockstep's package.json, and lockstep's
 * postinstall check. The machine's tools are chosen through PATH: a folder with sh, node and npm, plus stand-ins for
 * the tools the check asks about.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const repoRoot = path.resolve(__dirname, '../../..');
let tmp: string;

function write(file: string, text: string, mode = 0o644): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text, { mode });
}

/** A stand-in package packed by npm: `install` fails like a node-gyp build without libsecret when `buildFails`. */
function standIn(name: string, version: string, index: string, buildFails: boolean): string {
  const dir = path.join(tmp, 'src', `${name}-${version}`);
  const scripts = buildFails ? { install: `node -e "console.error('Package libsecret-1 was not found in the pkg-config search path'); process.exit(1)"` } : {};
  write(path.join(dir, 'package.json'), JSON.stringify({ name, version, main: 'index.js', scripts }));
  write(path.join(dir, 'index.js'), index);
  execFileSync('npm', ['pack', '--silent', '--pack-destination', tmp], { cwd: dir, stdio: 'ignore' });
  return path.join(tmp, `${name}-${version}.tgz`);
}

/** A PATH folder with sh, node and npm, and a stand-in (exit 0, or 1 for the libsecret query) for each tool named. */
function toolsFolder(name: string, tools: Record<string, 'present' | 'no-libsecret'>): string {
  const bin = path.join(tmp, name);
  fs.mkdirSync(bin);
  for (const real of ['sh', 'node', 'npm']) fs.symlinkSync(execFileSync('sh', ['-c', `command -v ${real}`], { encoding: 'utf8' }).trim(), path.join(bin, real));
  for (const [tool, kind] of Object.entries(tools)) {
    const body = kind === 'no-libsecret' ? 'case "$*" in *libsecret-1*) exit 1;; esac\nexit 0\n' : 'exit 0\n';
    write(path.join(bin, tool), `#!/bin/sh\n${body}`, 0o755);
  }
  return bin;
}

function project(name: string, keytarTarball: string, sqliteTarball: string): string {
  const dir = path.join(tmp, name);
  write(
    path.join(dir, 'package.json'),
    JSON.stringify({ name, version: '1.0.0', scripts: { postinstall: 'node scripts/check-native-modules.js' }, optionalDependencies: { keytar: `file:${keytarTarball}`, 'better-sqlite3': `file:${sqliteTarball}` } }),
  );
  fs.cpSync(path.join(repoRoot, 'scripts', 'check-native-modules.js'), path.join(dir, 'scripts', 'check-native-modules.js'));
  return dir;
}

function npmInstall(dir: string, bin: string): { status: number | null; stderrLines: string[] } {
  const env = { PATH: bin, HOME: process.env['HOME'] ?? tmp, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' };
  const r = spawnSync('npm', ['install', '--offline', '--no-package-lock'], { cwd: dir, env, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stderrLines: r.stderr.split('\n').filter((l) => l.trim() !== '') };
}

let electronKeytar: string;
let brokenKeytar: string;
let goodKeytar: string;
let goodSqlite: string;

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-installcheck-'));
  brokenKeytar = standIn('keytar', '7.9.0', "module.exports = require('./build/Release/keytar.node');\n", true);
  goodKeytar = standIn('keytar', '7.9.1', 'module.exports = { getPassword: async () => null };\n', false);
  electronKeytar = standIn('keytar', '7.9.2', "throw new Error('The module keytar.node was compiled against a different Node.js version using NODE_MODULE_VERSION 145. This version of Node.js requires NODE_MODULE_VERSION 115.');\n", false);
  goodSqlite = standIn('better-sqlite3', '12.0.0', 'module.exports = class Database { close() {} };\n', false);
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('a failed keytar build does not stop npm: the install fails with one line naming the packages this machine lacks', () => {
  const bin = toolsFolder('bin-bare', { 'pkg-config': 'no-libsecret', 'apt-get': 'present' });
  const r = npmInstall(project('bare', brokenKeytar, goodSqlite), bin);
  assert.notEqual(r.status, 0, 'the install fails');
  const ours = r.stderrLines.filter((l) => l.startsWith('lockstep:'));
  assert.deepEqual(ours, ['lockstep: keytar could not be built here (no prebuilt binary was downloaded): sudo apt-get install -y libsecret-1-dev build-essential python3, then run npm ci again.']);
});

test('only what is missing is named: a machine with a compiler and Python lacks just the libsecret headers', () => {
  const bin = toolsFolder('bin-tools', { 'pkg-config': 'no-libsecret', 'apt-get': 'present', 'c++': 'present', make: 'present', python3: 'present' });
  const r = npmInstall(project('tools', brokenKeytar, goodSqlite), bin);
  assert.notEqual(r.status, 0);
  assert.deepEqual(
    r.stderrLines.filter((l) => l.startsWith('lockstep:')),
    ['lockstep: keytar could not be built here (no prebuilt binary was downloaded): sudo apt-get install -y libsecret-1-dev, then run npm ci again.'],
  );
});

test('when the native modules load, the check is silent and the install succeeds', () => {
  const bin = toolsFolder('bin-ok', {});
  const r = npmInstall(project('ok', goodKeytar, goodSqlite), bin);
  assert.equal(r.status, 0, r.stderrLines.join('\n'));
  assert.deepEqual(r.stderrLines.filter((l) => l.startsWith('lockstep:')), []);
});

test('a module rebuilt for Electron (install-app-deps) is not a failed build: a later install passes', () => {
  const bin = toolsFolder('bin-electron', {});
  const r = npmInstall(project('electron-abi', electronKeytar, goodSqlite), bin);
  assert.equal(r.status, 0, r.stderrLines.join('\n'));
  assert.deepEqual(r.stderrLines.filter((l) => l.startsWith('lockstep:')), []);
});
