/**
 * The package formats the delta benchmark compares, each made from a tree on disk the way its tool makes it:
 *  - tar.gz through Lockstep's own writer (authoring/tarGz.ts), plain and — where the writer offers it — rsyncable;
 *  - zip through Info-ZIP's `zip` (Debian package zip), what electron-builder's zip target resembles: each file
 *    deflated on its own;
 *  - AppImage-like: the squashfs image an AppImage carries, through `mksquashfs` (Debian package squashfs-tools), gzip,
 *    128 KiB blocks (the AppImage runtime in front of it is the same in every version and is left out).
 * Every input file has the same fixed mtime and the file order is sorted, so equal trees give equal packages.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tarGzWriter from '../../authoring/tarGz';
import { FIXED_MTIME, TreeFile } from './tree';

export interface PackageFormat {
  /** Short name for --formats. */
  key: string;
  name: string;
  ext: string;
  /** Why this format is skipped on this machine (a tool is missing), or null. */
  unavailable(): string | null;
  make(treeDir: string, files: TreeFile[], out: string): void;
}

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function readTree(treeDir: string, files: TreeFile[]): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const f of files) out[f.path] = fs.readFileSync(path.join(treeDir, f.path));
  return out;
}

/**
 * The rsyncable writer, when the branch that adds it is in this build: looked up by shape, so this benchmark runs
 * unchanged before and after it lands.
 */
type TarGzFn = (files: Record<string, Buffer | string>, mtime?: Date, options?: { rsyncable?: boolean }) => Buffer;
function rsyncableWriter(): ((files: Record<string, Buffer>) => Buffer) | null {
  const mod = tarGzWriter as unknown as Record<string, unknown>;
  for (const name of ['tarGzRsyncable', 'rsyncableTarGz']) if (typeof mod[name] === 'function') return (files) => (mod[name] as TarGzFn)(files, FIXED_MTIME);
  return null;
}

export const FORMATS: PackageFormat[] = [
  {
    key: 'tar',
    name: 'tar.gz (Lockstep writer, plain gzip)',
    ext: 'tar.gz',
    unavailable: () => null,
    make: (treeDir, files, out) => fs.writeFileSync(out, tarGzWriter.tarGz(readTree(treeDir, files), FIXED_MTIME)),
  },
  {
    key: 'tar-rsyncable',
    name: 'tar.gz (Lockstep writer, rsyncable)',
    ext: 'tar.gz',
    unavailable: () => (rsyncableWriter() ? null : 'authoring/tarGz.ts has no rsyncable writer in this build (branch i12-perf not merged)'),
    make: (treeDir, files, out) => fs.writeFileSync(out, rsyncableWriter()!(readTree(treeDir, files))),
  },
  {
    key: 'zip',
    name: 'zip (Info-ZIP zip)',
    ext: 'zip',
    unavailable: () => (has('zip') ? null : '`zip` is not installed (apt-get install -y zip)'),
    make: (treeDir, files, out) => {
      fs.rmSync(out, { force: true });
      execFileSync('zip', ['-q', '-X', '-D', out, '-@'], { cwd: treeDir, input: files.map((f) => f.path).join('\n') + '\n', maxBuffer: 1 << 26 });
    },
  },
  {
    key: 'appimage',
    name: 'AppImage squashfs (mksquashfs gzip)',
    ext: 'AppImage',
    unavailable: () => (has('mksquashfs') ? null : '`mksquashfs` is not installed (apt-get install -y squashfs-tools)'),
    make: (treeDir, _files, out) => {
      fs.rmSync(out, { force: true });
      execFileSync('mksquashfs', [treeDir, out, '-noappend', '-comp', 'gzip', '-b', '131072', '-all-root', '-mkfs-time', '0', '-all-time', String(Math.floor(FIXED_MTIME.getTime() / 1000)), '-no-progress', '-quiet', '-processors', '2'], { stdio: ['ignore', 'ignore', 'pipe'] });
    },
  },
];
