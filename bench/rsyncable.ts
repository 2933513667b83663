/**
 * bench/rsyncable — portable .tar.gz packages that delta well. A client tree (text-like sources and some binaries) as
 * release A and release B with 5 % of the files changed (a few bytes edited in each), packed as tar and compressed
 * three ways in one run: plain gzip -6 (zlib, what Lockstep wrote before), Lockstep's rsyncable gzip, and
 * `gzip --rsyncable -6` (Debian's gzip, the reference) when present. For each: compressed size against plain gzip,
 * compression time against plain gzip, and the share of B's compressed bytes that stay identical to bytes in A —
 * measured the way a block map sees it: both files cut into content-defined blocks (a rolling sum over 64 bytes,
 * ~2 KiB on average), a block of B counts as identical when A has a block with the same SHA-256.
 *
 *   node build/bench/rsyncable.js [--files 2000] [--mb 40] [--changed 5]
 */
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import * as zlib from 'node:zlib';
import { tarGz } from '../authoring/tarGz';
import { table } from './stats';

const args = parseArgs({ options: { files: { type: 'string' }, mb: { type: 'string' }, changed: { type: 'string' } } }).values;
const FILES = Number(args.files ?? 2000);
const MB = Number(args.mb ?? 40);
const CHANGED = Number(args.changed ?? 5) / 100;

const WORDS = 'const let function return import export from await async class extends this new if else for while of in true false null undefined value result error module require string number object array length push map filter reduce'.split(' ');

/** Source-like text (compresses ~4:1) or, for one file in six, incompressible bytes (images, native modules). */
function makeFile(i: number, size: number): Buffer {
  if (i % 6 === 5) return randomBytes(size);
  const words: string[] = [];
  let n = 0;
  while (n < size) {
    const w = WORDS[Math.floor(Math.random() * WORDS.length)]! + (Math.random() < 0.1 ? `_${Math.floor(Math.random() * 1000)}` : '');
    words.push(w);
    n += w.length + 1;
  }
  return Buffer.from(words.join(Math.random() < 0.5 ? ' ' : '\n').slice(0, size));
}

/** A few bytes edited in the middle of a file (a patch release's typical change). */
function edit(b: Buffer): Buffer {
  const c = Buffer.from(b);
  const at = Math.floor(c.length / 2);
  c.write(`/* patched ${Math.random()} */`.slice(0, Math.max(1, Math.min(24, c.length - at))), at);
  return c;
}

/** Content-defined blocks of `b` (rolling sum of the last 64 bytes hits a pattern; 256 B … 16 KiB). */
function blocks(b: Buffer): Array<{ hash: string; size: number }> {
  const out: Array<{ hash: string; size: number }> = [];
  let sum = 0;
  let start = 0;
  for (let i = 0; i < b.length; i++) {
    sum += b[i]!;
    if (i >= 64) sum -= b[i - 64]!;
    const len = i + 1 - start;
    if ((len >= 256 && (sum & 2047) === 2047) || len >= 16384) {
      out.push({ hash: createHash('sha256').update(b.subarray(start, i + 1)).digest('hex'), size: len });
      start = i + 1;
    }
  }
  if (start < b.length) out.push({ hash: createHash('sha256').update(b.subarray(start)).digest('hex'), size: b.length - start });
  return out;
}

function identicalShare(a: Buffer, b: Buffer): number {
  const have = new Set(blocks(a).map((x) => x.hash));
  const bb = blocks(b);
  return bb.filter((x) => have.has(x.hash)).reduce((s, x) => s + x.size, 0) / b.length;
}

function timed<T>(fn: () => T): { ms: number; value: T } {
  const t = process.hrtime.bigint();
  const value = fn();
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, value };
}

function main(): void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-bench-rsyncable-'));
  try {
    const avg = Math.floor((MB * 1e6) / FILES);
    const a: Record<string, Buffer> = {};
    for (let i = 0; i < FILES; i++) a[`app/f${String(i).padStart(5, '0')}.js`] = makeFile(i, Math.max(16, Math.floor(avg * (0.2 + Math.random() * 1.6))));
    const b: Record<string, Buffer> = { ...a };
    const names = Object.keys(a);
    const changed = new Set<string>();
    while (changed.size < Math.round(FILES * CHANGED)) changed.add(names[Math.floor(Math.random() * names.length)]!);
    for (const n of changed) b[n] = edit(a[n]!);
    const when = new Date('2026-11-30T00:00:00Z');
    // The uncompressed tars, cut out of Lockstep's writer's output (its gzip is lossless: gunzip gives the tar).
    const tarA = zlib.gunzipSync(tarGz(a, when));
    const tarB = zlib.gunzipSync(tarGz(b, when));

    const gzipCli = spawnSync('gzip', ['--help']).stdout?.toString().includes('--rsyncable') ?? false;
    const viaCli = (tar: Buffer): Buffer => {
      const f = path.join(dir, 'x.tar');
      fs.writeFileSync(f, tar);
      const r = spawnSync('gzip', ['--rsyncable', '-6', '-n', '-c', f], { maxBuffer: 1 << 30 });
      if (r.status !== 0) throw new Error(`gzip failed: ${r.stderr}`);
      return r.stdout;
    };
    const methods: Array<{ name: string; run: (tar: Buffer, files: Record<string, Buffer>) => Buffer }> = [
      { name: 'plain gzip -6 (zlib, before)', run: (tar) => zlib.gzipSync(tar, { level: 6 }) },
      { name: 'Lockstep rsyncable (tarGz)', run: (_tar, files) => tarGz(files, when) },
      ...(gzipCli ? [{ name: 'gzip --rsyncable -6 (Debian)', run: (tar: Buffer) => viaCli(tar) }] : []),
    ];
    const rows: Array<Record<string, string | number>> = [];
    let plain = { size: 0, ms: 0 };
    for (const m of methods) {
      const ra = timed(() => m.run(tarA, a));
      const rb = timed(() => m.run(tarB, b));
      if (!zlib.gunzipSync(rb.value).equals(tarB)) throw new Error(`${m.name} does not round-trip`);
      const ms = (ra.ms + rb.ms) / 2;
      const size = rb.value.length;
      if (!plain.size) plain = { size, ms };
      rows.push({
        method: m.name,
        'B MB': size / 1e6,
        'size / plain': size / plain.size,
        'compress s': ms / 1000,
        'time / plain': ms / plain.ms,
        'B bytes identical to A': identicalShare(ra.value, rb.value),
        'B bytes to move': 1 - identicalShare(ra.value, rb.value),
      });
    }
    console.log(`bench/rsyncable — ${FILES} files, ${(tarA.length / 1e6).toFixed(1)} MB tar, ${changed.size} files (${(CHANGED * 100).toFixed(0)} %) edited in release B; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}\n`);
    console.log(table(rows));
    const ours = rows[1]!;
    const moved = Number(ours['B bytes to move']);
    console.log(`\nGoal: the 5 % patch moves ≤ 10 % of the compressed package: ${(moved * 100).toFixed(1)} % ${moved <= 0.1 ? 'MET' : 'NOT MET'} (plain gzip: ${(Number(rows[0]!['B bytes to move']) * 100).toFixed(1)} %); size cost ${((Number(ours['size / plain']) - 1) * 100).toFixed(1)} %, time ×${Number(ours['time / plain']).toFixed(2)}.`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main();
