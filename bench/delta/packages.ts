/**
 * The package formats the delta benchmark compares, each made from a tree on disk the way its tool makes it:
 *  - tar.gz through Lockstep's own writer (authoring/tarGz.ts, rsyncable), and the same tar gzipped plainly for
 *    comparison;
 *  - zip through Info-ZIP's `zip` (Debian package zip), what electron-builder's zip target resembles: each file
 *    deflated on its own;
 *  - AppImage-like: the squashfs image an AppImage carries, through `mksquashfs` (Debian package squashfs-tools), gzip,
 *    128 KiB blocks (the AppImage runtime in front of it is the same in every version and is left out).
 * Every input file has the same fixed mtime and the file order is sorted, so equal trees give equal packages.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
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

export const FORMATS: PackageFormat[] = [
  {
    key: 'tar',
    name: 'tar.gz (Lockstep writer, rsyncable)',
    ext: 'tar.gz',
    unavailable: () => null,
    make: (treeDir, files, out) => fs.writeFileSync(out, tarGzWriter.tarGz(readTree(treeDir, files), FIXED_MTIME)),
  },
  {
    key: 'tar-plain',
    name: 'tar.gz (same tar, plain gzip -6)',
    ext: 'tar.gz',
    unavailable: () => null,
    // The writer's tar stream gzipped in one piece: what the package would be without the rsyncable cuts.
    make: (treeDir, files, out) => fs.writeFileSync(out, gzipSync(gunzipSync(tarGzWriter.tarGz(readTree(treeDir, files), FIXED_MTIME)), { level: 6 })),
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
