/**
 * A vendor's host app, packaged for real: a folder with the vendor's package.json and main.js, lockstep installed in
 * its node_modules the way npm lays out a published package (copyLockstepPackage; its production dependencies
 * hard-linked from this repository's node_modules, as `npm ls --omit dev` lists them), packaged by electron-builder's Linux `dir` target with `lockstep/builder` merged in.
 *
 * Offline: Electron comes from a stand-in folder (`electronDist`, one executable named like Electron's; the version
 * given as `electronVersion`), and `npmRebuild: false` skips the native-module rebuild, the one step of a `dir` build
 * that downloads (Electron's headers for node-gyp). Nothing else is fetched.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Configuration } from 'app-builder-lib';

export const repoRoot = path.resolve(__dirname, '../../../..');
export const HOST_VERSION = '3.4.5';
export const PRODUCT = 'Host Client';

export interface PackagedHost {
  tmp: string;
  projectDir: string;
  /** electron-builder's linux-unpacked folder: what a .deb or an AppImage would carry. */
  appOutDir: string;
  resources: string;
  /** The lockstep package inside the archive (and inside app.asar.unpacked). */
  lockstepInArchive: string;
  /** Lines electron-builder logged. */
  log: string[];
  /** What the vendor's own afterPack hook saw (it must run after Lockstep's). */
  vendorHookSaw: { versionFile: string | null } | null;
  ms: number;
  cpuSeconds: number;
}

/** The repository's production dependency folders (hoisted), as npm lists them. */
function productionDependencies(): string[] {
  const out = execFileSync('npm', ['ls', '--omit', 'dev', '--all', '--parseable'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const dirs = [...new Set(out.split('\n').filter(Boolean))].filter((d) => d !== repoRoot && d.startsWith(path.join(repoRoot, 'node_modules') + path.sep)).sort();
  // a folder already copied with its parent (nested node_modules) is not copied again
  return dirs.filter((d, i) => !dirs.slice(0, i).some((parent) => d.startsWith(parent + path.sep)));
}

/**
 * lockstep as npm installs it from its tarball: the files `npm pack` publishes once package.json names them (`files`);
 * until then package.json, bin/ and the compiled build/ without tests and benchmarks.
 */
function copyLockstepPackage(dest: string): void {
  const pkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { files?: string[] };
  if (pkg.files) {
    const listed = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as Array<{ files: Array<{ path: string }> }>;
    for (const { path: rel } of listed[0]!.files) {
      fs.mkdirSync(path.dirname(path.join(dest, rel)), { recursive: true });
      fs.copyFileSync(path.join(repoRoot, rel), path.join(dest, rel));
    }
    return;
  }
  fs.mkdirSync(dest, { recursive: true });
  fs.copyFileSync(path.join(repoRoot, 'package.json'), path.join(dest, 'package.json'));
  fs.cpSync(path.join(repoRoot, 'bin'), path.join(dest, 'bin'), { recursive: true });
  fs.cpSync(path.join(repoRoot, 'build'), path.join(dest, 'build'), {
    recursive: true,
    filter: (src) => !/[\\/]build[\\/](test|bench)([\\/]|$)/.test(src) && !src.endsWith('.map'),
  });
}

/** A folder that looks like an unpacked Electron release to electron-builder: the executable and one locale. */
function standInElectron(dir: string): void {
  fs.mkdirSync(path.join(dir, 'locales'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'resources'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'electron'), '#!/bin/sh\necho "stand-in for the Electron binary" >&2\nexit 1\n', { mode: 0o755 });
  fs.writeFileSync(path.join(dir, 'locales', 'en-US.pak'), 'stand-in');
}

/** CPU seconds of this process and the children it waited for (npm, cp): a bound that holds on a loaded machine too. */
export function cpuSeconds(): number {
  if (!fs.existsSync('/proc/self/stat')) {
    const own = process.cpuUsage(); // elsewhere: this process only
    return (own.user + own.system) / 1e6;
  }
  const fields = fs.readFileSync('/proc/self/stat', 'utf8').replace(/^.*\) /, '').split(' ');
  // after "(comm) ": state is field 3, utime 14 … cstime 17 (1-based), in clock ticks (100 per second on Linux)
  return fields.slice(11, 15).reduce((sum, ticks) => sum + Number(ticks), 0) / 100;
}

export async function packageHostApp(): Promise<PackagedHost> {
  const started = Date.now();
  const cpuAtStart = cpuSeconds();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-package-'));
  const projectDir = path.join(tmp, 'host');
  const electronDist = path.join(tmp, 'electron-dist');
  standInElectron(electronDist);

  const lockstepPkg = JSON.parse(fs.readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { version: string };
  fs.mkdirSync(projectDir);
  fs.writeFileSync(
    path.join(projectDir, 'package.json'),
    JSON.stringify({ name: 'host-client', productName: PRODUCT, version: HOST_VERSION, description: 'A vendor client', author: 'Example Vendor', main: 'main.js', dependencies: { lockstep: lockstepPkg.version } }, null, 2),
  );
  fs.writeFileSync(path.join(projectDir, 'main.js'), "'use strict';\n// The vendor's main process; it would start Lockstep through lockstep/electron before opening its windows.\n");
  const nodeModules = path.join(projectDir, 'node_modules');
  for (const dir of productionDependencies()) {
    const dest = path.join(nodeModules, path.relative(path.join(repoRoot, 'node_modules'), dir));
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    execFileSync('cp', ['-al', dir, dest]); // hard links: instant, and nothing in the repository can be changed through them by a copy
  }
  copyLockstepPackage(path.join(nodeModules, 'lockstep'));

  const outDir = path.join(tmp, 'dist');
  const packaged: Pick<PackagedHost, 'vendorHookSaw'> = { vendorHookSaw: null };
  const vendorConfig: Configuration = {
    appId: 'com.example.host-client',
    productName: PRODUCT,
    directories: { output: outDir },
    electronDist,
    electronVersion: '41.7.1',
    npmRebuild: false,
    linux: { target: 'dir', category: 'Office' },
    // the vendor's own hook: it must still run, and after Lockstep's (the version file is there when it looks)
    afterPack: async (context) => {
      const file = path.join(context.appOutDir, 'lockstep-version.json');
      packaged.vendorHookSaw = { versionFile: fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : null };
    },
  };
  // the fragment as the vendor gets it: from the installed lockstep package (lockstep/builder)
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { withLockstep } = require(path.join(nodeModules, 'lockstep', 'build', 'builder', 'index.js')) as typeof import('../../../builder');
  const config = withLockstep(vendorConfig, { feedUrl: 'https://updates.example.invalid/host-client', channel: 'latest' });

  const log: string[] = [];
  // electron-builder logs to stdout, which the test runner reads: keep its lines instead (the builder-util it loads).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const builderUtil = require(require.resolve('builder-util', { paths: [require.resolve('app-builder-lib')] })) as { log: { stream: { write(s: string): boolean } } };
  const savedStream = builderUtil.log.stream;
  builderUtil.log.stream = { write: (s: string) => log.push(s) > 0 };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { build, Platform } = require('electron-builder') as typeof import('electron-builder');
    await build({ projectDir, targets: Platform.LINUX.createTarget('dir'), config, publish: 'never' });
  } finally {
    builderUtil.log.stream = savedStream;
  }
  const appOutDir = path.join(outDir, 'linux-unpacked');
  return {
    tmp,
    projectDir,
    appOutDir,
    resources: path.join(appOutDir, 'resources'),
    lockstepInArchive: path.join('node_modules', 'lockstep'),
    log,
    vendorHookSaw: packaged.vendorHookSaw,
    ms: Date.now() - started,
    cpuSeconds: cpuSeconds() - cpuAtStart,
  };
}
