/**
 * A vendor feed whose versions are a realistic client tree and its patches: a few hundred files (text-like and
 * binary, deterministic), packaged as .tar.gz by the real `tar` and `gzip --rsyncable` (so a changed file changes only
 * the compressed bytes near it), each version changing a share of the files of the one before. Signed with the
 * vendor's own feed writer, so the fleet helpers (inProcess.ts) release it like any feed.
 */
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DEMO_PRODUCT, DemoFeed } from '../../../authoring/demoFeed';
import { addVersion } from '../../../authoring/feedWriter';
import { generateKeyPair, signerFromPem } from '../../../kernel/signing';

export type Tree = Map<string, Buffer>;

export interface PatchFeed extends DemoFeed {
  /** Each version's tree (relative path → bytes), as installed. */
  trees: Record<string, Tree>;
  /** Each version's package file in the feed folder. */
  files: Record<string, string>;
}

const WORDS = 'lockstep fleet release package block chunk database workstation install verify signature manifest module report invoice customer order ledger'.split(' ');

function stream(seed: string, bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  let block = createHash('sha256').update(seed).digest();
  for (let at = 0; at < bytes; at += block.length) {
    block.copy(out, at);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

/** Text that compresses like source code or resources; bytes that do not, like images or native modules. */
function content(seed: string, bytes: number, text: boolean): Buffer {
  const noise = stream(seed, text ? Math.ceil(bytes / 2) + 1 : bytes);
  if (!text) return noise;
  const parts: string[] = [];
  let length = 0;
  for (let i = 0; length < bytes; i++) {
    const w = `${WORDS[noise[i % noise.length]! % WORDS.length]}${noise[(i * 7) % noise.length]! % 10 === 0 ? '\n' : ' '}`;
    parts.push(w);
    length += w.length;
  }
  return Buffer.from(parts.join('').slice(0, bytes));
}

/** `count` files of about `totalBytes` together; a third binary. */
export function generateTree(count: number, totalBytes: number): Tree {
  const tree: Tree = new Map();
  const sizes = stream('sizes', count * 4);
  for (let i = 0; i < count; i++) {
    const size = Math.max(64, Math.floor(((sizes.readUInt32BE(i * 4) / 0xffffffff) * 2 * totalBytes) / count));
    const binary = i % 3 === 0;
    tree.set(`resources/app/${binary ? 'assets' : 'src'}/dir${i % 17}/file${i}.${binary ? 'bin' : 'js'}`, content(`file ${i} v0`, size, !binary));
  }
  return tree;
}

/** The tree with every `1/share`-th file rewritten (same size): a patch that changes `share` of the files. */
export function patchTree(tree: Tree, share: number, version: string): Tree {
  const out: Tree = new Map(tree);
  const every = Math.round(1 / share);
  [...tree.keys()].forEach((name, i) => {
    if (i % every === every - 1) out.set(name, content(`${name} ${version}`, tree.get(name)!.length, !name.endsWith('.bin')));
  });
  return out;
}

/** A .tar.gz of `tree` plus lockstep-version.json, made by tar and gzip --rsyncable (deterministic: no times, no owners). */
export function packTree(tree: Tree, version: string, file: string): void {
  const staging = `${file}.tree`;
  const withVersion: Tree = new Map([['lockstep-version.json', Buffer.from(JSON.stringify({ version }) + '\n')], ...tree]);
  for (const [name, bytes] of withVersion) {
    fs.mkdirSync(path.dirname(path.join(staging, name)), { recursive: true });
    fs.writeFileSync(path.join(staging, name), bytes);
  }
  const names = [...withVersion.keys()].sort().join('\n');
  const r = spawnSync('sh', ['-c', 'tar --format=ustar --owner=0 --group=0 --numeric-owner --mtime=@1700000000 --no-recursion -C "$1" -T - -cf - | gzip -n --rsyncable > "$2"', 'pack', staging, file], { input: names });
  fs.rmSync(staging, { recursive: true, force: true });
  if (r.status !== 0) throw new Error(`tar | gzip failed: ${r.stderr.toString()}`);
}

export function packageNameOf(version: string): string {
  return `Patch-App-${version}-linux.tar.gz`;
}

/** A signed feed of the given versions and their trees, in order (patchTree makes a patch of a tree). */
export async function createPatchFeed(root: string, versions: Array<[string, Tree]>): Promise<PatchFeed> {
  const feedDir = path.join(root, 'feed');
  const staging = path.join(root, 'packages');
  fs.mkdirSync(staging, { recursive: true });
  const signer = signerFromPem(generateKeyPair().privateKeyPem);
  const trees: Record<string, Tree> = {};
  const files: Record<string, string> = {};
  const packages: DemoFeed['packages'] = {};
  for (const [version, tree] of versions) {
    trees[version] = tree;
    const file = path.join(staging, packageNameOf(version));
    packTree(tree, version, file);
    await addVersion(feedDir, { installers: [file], version, notes: `## ${version}`, platform: 'linux', editions: [], product: DEMO_PRODUCT, releaseDate: new Date(Date.now() - 86_400_000).toISOString() }, signer);
    files[version] = path.join(feedDir, packageNameOf(version));
    packages[version] = { name: packageNameOf(version), payloadSha256: '' };
  }
  return { feedDir, publicKey: signer.publicKey, licenseFile: '', packages, trees, files };
}

/** Every regular file under `dir` (relative path → bytes). */
export function readTree(dir: string, skip: (name: string) => boolean = () => false): Tree {
  const out: Tree = new Map();
  const walk = (rel: string) => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const name = rel ? `${rel}/${e.name}` : e.name;
      if (skip(name)) continue;
      if (e.isDirectory()) walk(name);
      else if (e.isFile()) out.set(name, fs.readFileSync(path.join(dir, name)));
    }
  };
  walk('');
  return out;
}
