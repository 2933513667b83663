/**
 * The delta benchmark's client tree and release transforms, at tiny size, so that the benchmark cannot rot: the mix
 * (text compresses, assets do not), the file counts after each release, the share of files that really differ on disk
 * (5 % for the patch, 30 % for the minor release), that edits inside source files are small, and that the same seed
 * writes the same bytes.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, describe, test } from 'node:test';
import { SIZES, TreeFile, TreeSpec, writeBaseTree, writeRelease } from '../../bench/delta/tree';
import { tempDir } from '../helpers/backends';

const spec: TreeSpec = { ...SIZES.tiny, seed: 7 };
const work = tempDir('lockstep-delta-tree-');
after(() => fs.rmSync(work, { recursive: true, force: true }));

/** Relative path → SHA-256 of every file under `dir`, read from disk (not from the generator's own records). */
function hashes(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(path.relative(dir, p).split(path.sep).join('/'), createHash('sha256').update(fs.readFileSync(p)).digest('hex'));
    }
  };
  walk(dir);
  return out;
}

function differing(a: Map<string, string>, b: Map<string, string>): { modified: string[]; added: string[]; removed: string[] } {
  return {
    modified: [...a.keys()].filter((k) => b.has(k) && b.get(k) !== a.get(k)),
    added: [...b.keys()].filter((k) => !a.has(k)),
    removed: [...a.keys()].filter((k) => !b.has(k)),
  };
}

function threeVersions(root: string): { base: TreeFile[]; dirs: string[]; changes: ReturnType<typeof writeRelease>[] } {
  const dirs = ['1.0.0', '1.0.1', '1.1.0'].map((v) => path.join(root, v));
  const base = writeBaseTree(dirs[0]!, spec);
  const patch = writeRelease(dirs[0]!, base, dirs[1]!, spec, '1.0.1', 0.05);
  const minor = writeRelease(dirs[1]!, patch.files, dirs[2]!, spec, '1.1.0', 0.3);
  return { base, dirs, changes: [patch, minor] };
}

describe('delta benchmark tree', () => {
  const first = threeVersions(path.join(work, 'a'));
  const onDisk = first.dirs.map(hashes);

  test('version 1.0 has the requested file count and size, and its mix compresses like an app (text yes, assets no)', () => {
    assert.equal(onDisk[0]!.size, spec.files);
    const total = first.base.reduce((s, f) => s + fs.statSync(path.join(first.dirs[0]!, f.path)).size, 0);
    assert.ok(Math.abs(total - spec.totalBytes) / spec.totalBytes < 0.1, `total ${total} bytes`);
    const ratio = (kinds: string[]) => {
      const files = first.base.filter((f) => kinds.includes(f.kind)).map((f) => fs.readFileSync(path.join(first.dirs[0]!, f.path)));
      const raw = files.reduce((s, b) => s + b.length, 0);
      return files.reduce((s, b) => s + gzipSync(b).length, 0) / raw;
    };
    assert.ok(ratio(['js', 'json', 'text']) < 0.5, `text compresses to ${ratio(['js', 'json', 'text'])}`);
    assert.ok(ratio(['asset']) > 0.99, `assets compress to ${ratio(['asset'])}`);
    const native = ratio(['native']);
    assert.ok(native > 0.5 && native < 0.95, `natives compress to ${native}`);
    for (const kind of ['js', 'json', 'text', 'asset', 'native']) assert.ok(first.base.some((f) => f.kind === kind), kind);
  });

  test('1.0 → 1.0.1 changes 5 % of the files on disk and 1.0.1 → 1.1 30 %, with files added and removed as recorded', () => {
    for (const [i, share] of [[0, 0.05], [1, 0.3]] as const) {
      const diff = differing(onDisk[i]!, onDisk[i + 1]!);
      const change = first.changes[i]!.change;
      assert.deepEqual(diff.modified.sort(), change.modified);
      assert.deepEqual(diff.added.sort(), [...change.added].sort());
      assert.deepEqual(diff.removed.sort(), change.removed);
      assert.ok(diff.added.length >= 1 && diff.removed.length >= 1);
      assert.equal(onDisk[i + 1]!.size, onDisk[i]!.size + diff.added.length - diff.removed.length);
      const changedShare = (diff.modified.length + diff.added.length + diff.removed.length) / onDisk[i]!.size;
      assert.ok(Math.abs(changedShare - share) <= 0.01, `changed share ${changedShare}, wanted ${share}`);
    }
  });

  test('edits inside source files are small: most of an edited file is unchanged before and after the edits', () => {
    const edited = first.changes[1]!.change.modified.filter((p) => /\.(js|json)$/.test(p) && p !== 'app/package.json');
    assert.ok(edited.length >= 5);
    for (const p of edited) {
      const a = fs.readFileSync(path.join(first.dirs[1]!, p));
      const b = fs.readFileSync(path.join(first.dirs[2]!, p));
      let prefix = 0;
      while (prefix < a.length && prefix < b.length && a[prefix] === b[prefix]) prefix++;
      let suffix = 0;
      while (suffix < a.length - prefix && suffix < b.length - prefix && a[a.length - 1 - suffix] === b[b.length - 1 - suffix]) suffix++;
      // Up to three edits of a few lines each: short files may change in most of their bytes, long ones must not.
      if (a.length > 8192) assert.ok(Math.abs(b.length - a.length) < 2048 && prefix + suffix > 0, `${p}: ${a.length} → ${b.length}`);
    }
  });

  test('the same seed writes the same bytes for every version', () => {
    const again = threeVersions(path.join(work, 'b'));
    again.dirs.map(hashes).forEach((h, i) => assert.deepEqual([...h.entries()].sort(), [...onDisk[i]!.entries()].sort()));
    const other = writeBaseTree(path.join(work, 'c'), { ...spec, seed: 8 });
    assert.notDeepEqual([...hashes(path.join(work, 'c')).values()].sort(), [...onDisk[0]!.values()].sort());
    assert.equal(other.length, spec.files);
  });
});
