/**
 * A realistic Electron client tree for the delta benchmark, written to disk from a seed (same seed → same bytes), and
 * the release transforms that turn one version into the next the way real patch and minor releases do: small edits
 * inside source files (lines replaced, inserted, deleted — so later bytes shift), an occasional re-exported asset or
 * rebuilt native module, and a few files added and removed.
 *
 * The mix follows an unpacked Electron app: many small JS / JSON / text files that compress well, some larger binary
 * assets (images, fonts) that do not, and a few large native libraries (.node / .so) that compress a little.
 */
import { createCipheriv, createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export type FileKind = 'js' | 'json' | 'text' | 'asset' | 'native';

export interface TreeSpec {
  files: number;
  totalBytes: number;
  seed: number;
}

export interface TreeFile {
  path: string;
  kind: FileKind;
  size: number;
}

export interface ReleaseChange {
  version: string;
  modified: string[];
  added: string[];
  removed: string[];
}

/** The sizes a benchmark run uses: full (the issue's figures), small (development and CI smoke), tiny (tests). */
export const SIZES = {
  full: { files: 5_000, totalBytes: 200 * 1024 * 1024 },
  small: { files: 500, totalBytes: 20 * 1024 * 1024 },
  tiny: { files: 120, totalBytes: 1024 * 1024 },
} as const;

/** A small fast seeded generator (sfc32): the tree must be the same on every machine and every run. */
export function prng(seed: number): () => number {
  let a = 0x9e3779b9 ^ seed;
  let b = 0x243f6a88 + seed;
  let c = 0xb7e15162 ^ (seed * 31);
  let d = 1;
  const next = (): number => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0;
    const t = (a + b + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 12; i++) next();
  return next;
}

/** Incompressible but reproducible bytes: an AES-256-CTR keystream keyed by the label. */
export function noise(label: string, size: number): Buffer {
  const key = createHash('sha256').update(label).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(size)), cipher.final()]).subarray(0, size);
}

const WORDS = ('use strict const let var function return if else for while of in new this class extends import export default from ' +
  'require module exports async await try catch finally throw null undefined true false typeof instanceof Promise resolve reject ' +
  'value key index item list map filter reduce push length options config state props render update create remove handler event ' +
  'listener emit on off once window document element node child parent style width height color data result error message ' +
  'request response status header body json parse stringify buffer stream read write open close path file dir name version ' +
  'invoice customer order amount currency tax total ledger account period report print export query table column row record').split(' ');

/** The shared "vocabulary" of lines a tree's source files are made of (real code repeats itself across files). */
function lineCorpus(seed: number): string[] {
  const r = prng(seed ^ 0x5151);
  const w = () => WORDS[Math.floor(r() * WORDS.length)]!;
  const ident = () => w() + w().charAt(0).toUpperCase() + w().slice(1) + (r() < 0.3 ? String(Math.floor(r() * 100)) : '');
  const shapes = [
    () => `  const ${ident()} = ${ident()}(${ident()}, ${Math.floor(r() * 1000)});`,
    () => `  if (${ident()}.${w()} === '${w()}') return ${ident()};`,
    () => `  ${ident()}.${w()}(${ident()} => ${ident()}.${w()} + ${Math.floor(r() * 64)});`,
    () => `function ${ident()}(${ident()}, ${ident()}) {`,
    () => '}',
    () => `  // ${w()} ${w()} ${w()} ${w()} ${w()} ${w()}`,
    () => `export const ${ident()} = { ${w()}: ${Math.floor(r() * 1e6)}, ${w()}: '${w()}-${w()}' };`,
    () => `  for (const ${w()} of ${ident()}) { ${ident()}.push(${w()}); }`,
    () => `const ${ident()} = require('./${w()}/${w()}');`,
  ];
  return Array.from({ length: 4096 }, () => shapes[Math.floor(r() * shapes.length)]!());
}

function textContent(corpus: string[], label: string, size: number, kind: FileKind): Buffer {
  const r = prng(seedOf(label));
  const lines: string[] = [];
  let bytes = 0;
  if (kind === 'json') {
    lines.push('{');
    for (let i = 0; bytes < size; i++) {
      const line = `  "${label.slice(-12)}.${i}": ${JSON.stringify(corpus[Math.floor(Math.pow(r(), 2) * corpus.length)]!.trim())},`;
      lines.push(line);
      bytes += line.length + 1;
    }
    lines.push(`  "end": true`, '}');
  } else {
    while (bytes < size) {
      // Zipf-like choice (common lines are common) and now and then a line only this file has.
      const line = r() < 0.08 ? `  const _${seedOf(label + bytes).toString(36)} = ${Math.floor(r() * 1e9)};` : corpus[Math.floor(Math.pow(r(), 2.5) * corpus.length)]!;
      lines.push(line);
      bytes += line.length + 1;
    }
  }
  return Buffer.from(lines.join('\n') + '\n').subarray(0, Math.max(size, 2));
}

/** A native library: code-like pages (compress somewhat) between tables of noise (do not). */
function nativeContent(label: string, size: number): Buffer {
  const r = prng(seedOf(label));
  const pages: Buffer[] = [];
  const page = 4096;
  for (let off = 0, i = 0; off < size; off += page, i++) {
    if (r() < 0.55) pages.push(noise(`${label}:${i}`, page));
    else {
      const p = Buffer.alloc(page);
      for (let j = 0; j < page; j += 4) p.writeUInt32LE((Math.floor(r() * 64) << (8 * (j % 3))) >>> 0, j);
      pages.push(p);
    }
  }
  return Buffer.concat(pages).subarray(0, size);
}

export function seedOf(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0);
}

const PACKAGES = ['react-dom', 'lodash', 'moment', 'knex', 'pg', 'zod', 'yaml', 'marked', 'semver', 'tedious', 'mssql', 'electron-updater', 'axios', 'date-fns', 'rxjs', 'immer', 'redux', 'chart.js', 'pdfkit', 'xlsx'];

/** The file list of version 1.0: paths, kinds and sizes; the shares of bytes are those of an unpacked Electron app. */
export function planTree(spec: TreeSpec): TreeFile[] {
  const r = prng(spec.seed);
  const natives = Math.max(2, Math.round(spec.files * 0.001));
  const assets = Math.round(spec.files * 0.08);
  const texts = spec.files - natives - assets;
  const budget = { native: spec.totalBytes * 0.25, asset: spec.totalBytes * 0.3, text: spec.totalBytes * 0.45 };
  const files: TreeFile[] = [];
  const spread = (n: number, sigma: number, total: number, max: number): number[] => {
    const w = Array.from({ length: n }, () => Math.exp(sigma * gauss(r)));
    const sum = w.reduce((a, b) => a + b, 0);
    return w.map((x) => Math.max(64, Math.min(max, Math.round((x / sum) * total))));
  };
  const nativeNames = ['libffmpeg.so', 'better_sqlite3.node', 'keytar.node', 'libvk_swiftshader.so', 'libEGL.so', 'libGLESv2.so', 'pdfium.node', 'sharp.node'];
  spread(natives, 0.4, budget.native, Number.MAX_SAFE_INTEGER).forEach((size, i) => files.push({ path: `app/native/${i}-${nativeNames[i % nativeNames.length]}`, kind: 'native', size }));
  const assetExt = ['png', 'woff2', 'jpg', 'ico', 'wasm'];
  spread(assets, 1.2, budget.asset, budget.asset / 8).forEach((size, i) => files.push({ path: `app/assets/${assetExt[i % assetExt.length]}/a${i}.${assetExt[i % assetExt.length]}`, kind: 'asset', size }));
  spread(texts, 1.3, budget.text, 2 * 1024 * 1024).forEach((size, i) => {
    const roll = r();
    const kind: FileKind = roll < 0.75 ? 'js' : roll < 0.9 ? 'json' : 'text';
    const ext = kind === 'js' ? 'js' : kind === 'json' ? 'json' : ['md', 'css', 'html', 'txt'][i % 4]!;
    const pkg = PACKAGES[i % PACKAGES.length]!;
    const where = i < texts * 0.15 ? `app/src/m${i % 37}` : `app/node_modules/${pkg}/lib/d${i % 23}`;
    files.push({ path: `${where}/f${i}.${ext}`, kind, size });
  });
  files[files.length - 1] = { path: 'app/package.json', kind: 'json', size: 600 };
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

function gauss(r: () => number): number {
  return Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
}

export function contentFor(spec: TreeSpec, file: TreeFile, version: string, corpus = lineCorpus(spec.seed)): Buffer {
  const label = `${spec.seed}:${version}:${file.path}`;
  if (file.path === 'app/package.json') return Buffer.from(JSON.stringify({ name: 'ledger-client', version, main: 'src/main.js', description: 'A line-of-business client' }, null, 2) + '\n');
  if (file.kind === 'asset') return noise(label, file.size);
  if (file.kind === 'native') return nativeContent(label, file.size);
  return textContent(corpus, label, file.size, file.kind);
}

/** Writes version 1.0 of the tree into `dir` (created) and returns its file list. */
export function writeBaseTree(dir: string, spec: TreeSpec, version = '1.0.0'): TreeFile[] {
  const corpus = lineCorpus(spec.seed);
  const files = planTree(spec);
  for (const f of files) {
    const content = contentFor(spec, f, version, corpus);
    f.size = content.length;
    fs.mkdirSync(path.join(dir, path.dirname(f.path)), { recursive: true });
    fs.writeFileSync(path.join(dir, f.path), content);
  }
  fixTimes(dir, files);
  return files;
}

/** One fixed modification time for every file: packagers record it, and equal inputs must give equal packages. */
export const FIXED_MTIME = new Date('2026-01-01T00:00:00Z');

function fixTimes(dir: string, files: TreeFile[]): void {
  for (const f of files) fs.utimesSync(path.join(dir, f.path), FIXED_MTIME, FIXED_MTIME);
}

/** A few lines replaced, inserted or deleted at line boundaries: what an edited source file looks like. */
function editText(corpus: string[], before: Buffer, label: string): Buffer {
  const r = prng(seedOf(label));
  const lines = before.toString('utf8').split('\n');
  const edits = 1 + Math.floor(r() * 3);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(r() * Math.max(1, lines.length - 1));
    const fresh = () => `  const ${'edit' + seedOf(`${label}:${e}:${lines.length}`).toString(36)} = ${corpus[Math.floor(r() * corpus.length)]!.trim().length};`;
    const op = r();
    if (op < 0.5) lines.splice(at, 1 + Math.floor(r() * 4), ...Array.from({ length: 1 + Math.floor(r() * 4) }, fresh));
    else if (op < 0.8) lines.splice(at, 0, ...Array.from({ length: 1 + Math.floor(r() * 6) }, fresh));
    else lines.splice(at, 1 + Math.floor(r() * 3));
  }
  return Buffer.from(lines.join('\n'));
}

/** A rebuilt native library: some pages differ and a few are inserted, so later pages shift. */
function editNative(before: Buffer, label: string): Buffer {
  const r = prng(seedOf(label));
  const page = 4096;
  const out: Buffer[] = [];
  for (let off = 0, i = 0; off < before.length; off += page, i++) {
    const p = before.subarray(off, off + page);
    const roll = r();
    if (roll < 0.08) out.push(noise(`${label}:${i}`, p.length));
    else out.push(p);
    if (roll > 0.995) out.push(noise(`${label}:ins:${i}`, page));
  }
  return Buffer.concat(out);
}

const CHANGE_WEIGHT: Record<FileKind, number> = { js: 1, json: 1, text: 0.6, asset: 0.3, native: 0.15 };

/**
 * Turns the tree in `fromDir` into the next release in `toDir`: `share` of the base's files change (modified, added or
 * removed; at least one of each of the last two), chosen with weights (source changes most, natives least).
 */
export function writeRelease(fromDir: string, from: TreeFile[], toDir: string, spec: TreeSpec, version: string, share: number): { files: TreeFile[]; change: ReleaseChange } {
  const r = prng(seedOf(`${spec.seed}:${version}`));
  const corpus = lineCorpus(spec.seed);
  const changed = Math.max(3, Math.round(from.length * share));
  const added = Math.max(1, Math.round(changed * 0.04));
  const removed = Math.max(1, Math.round(changed * 0.04));
  const modifiedCount = changed - added - removed;

  // Weighted choice without replacement (Efraimidis–Spirakis keys); the version file always changes.
  const keyed = from.filter((f) => f.path !== 'app/package.json').map((f) => ({ f, key: Math.pow(r(), 1 / CHANGE_WEIGHT[f.kind]) }));
  keyed.sort((a, b) => b.key - a.key);
  const modified = new Set<string>(['app/package.json', ...keyed.slice(0, modifiedCount - 1).map((k) => k.f.path)]);
  const gone = new Set(keyed.slice(modifiedCount - 1, modifiedCount - 1 + removed).map((k) => k.f.path));

  const files: TreeFile[] = [];
  for (const f of from) {
    if (gone.has(f.path)) continue;
    const src = path.join(fromDir, f.path);
    const dst = path.join(toDir, f.path);
    fs.mkdirSync(path.dirname(dst), { recursive: true });
    let size = f.size;
    if (!modified.has(f.path)) fs.copyFileSync(src, dst);
    else {
      const label = `${spec.seed}:${version}:${f.path}`;
      const before = fs.readFileSync(src);
      const after = f.path === 'app/package.json' ? contentFor(spec, f, version) : f.kind === 'asset' ? noise(label, f.size) : f.kind === 'native' ? editNative(before, label) : editText(corpus, before, label);
      fs.writeFileSync(dst, after);
      size = after.length;
    }
    files.push({ ...f, size });
  }
  const newFiles: TreeFile[] = [];
  for (let i = 0; i < added; i++) {
    const kind: FileKind = i % 3 === 2 ? 'json' : 'js';
    const f: TreeFile = { path: `app/src/new/v${version.replace(/\./g, '_')}-${i}.${kind}`, kind, size: 2000 + Math.floor(r() * 30_000) };
    const content = contentFor(spec, f, version, corpus);
    f.size = content.length;
    fs.mkdirSync(path.join(toDir, path.dirname(f.path)), { recursive: true });
    fs.writeFileSync(path.join(toDir, f.path), content);
    newFiles.push(f);
  }
  files.push(...newFiles);
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  fixTimes(toDir, files);
  return { files, change: { version, modified: [...modified].sort(), added: newFiles.map((f) => f.path), removed: [...gone].sort() } };
}
