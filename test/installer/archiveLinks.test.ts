/**
 * The tar and zip readers against crafted archives: a link chain that normalises inside but resolves outside, a
 * directory entry over a link the archive made, a write through a link, a name twice — each refused with
 * E_INSTALL_FAILED, the folder outside untouched (still 0700), nothing written outside. Genuine link chains inside the
 * package (a mac framework's Versions/Current) still extract. Also the sealed copy: bounded, no links, regular files only.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { extractTar } from '../../installer/archive/tar';
import { extractZip } from '../../installer/archive/zip';
import { sealCopy } from '../../installer/package';
import { CraftedEntry, craftTar, craftTarGz, craftZip } from './support/craftedArchive';
import { openTempDir, treeHash } from './support/fixtures';

const made: string[] = [];
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** <tmp>/secret (0700) next to <tmp>/stage/id/tree (the destination): three levels up from the tree. */
function scene(): { dir: string; secret: string; tree: string } {
  const dir = openTempDir('lockstep-links-');
  made.push(dir);
  const secret = path.join(dir, 'secret');
  fs.mkdirSync(secret, { mode: 0o700 });
  fs.chmodSync(secret, 0o700);
  fs.writeFileSync(path.join(secret, 'key'), 'private', { mode: 0o600 });
  const tree = path.join(dir, 'stage', 'id', 'tree');
  fs.mkdirSync(tree, { recursive: true });
  return { dir, secret, tree };
}

const modeOf = (p: string): number => fs.lstatSync(p).mode & 0o7777;

type Extract = (entries: CraftedEntry[], dir: string, tree: string) => Promise<unknown>;
const readers: Record<string, Extract> = {
  tar: async (entries, dir, tree) => {
    const file = path.join(dir, 'crafted.tar.gz');
    fs.writeFileSync(file, craftTarGz(entries));
    return extractTar(file, tree);
  },
  zip: async (entries, dir, tree) => {
    const file = path.join(dir, 'crafted.zip');
    fs.writeFileSync(file, craftZip(entries));
    return extractZip(file, tree);
  },
};

/** `d -> .`, then `esc -> d/d/d/../../../secret` (normalises to "secret", resolves to <tmp>/secret), then a folder `esc`. */
export const LINK_CHAIN: CraftedEntry[] = [
  { type: 'file', name: 'lockstep-version.json', content: '{"version":"2.0.0"}' },
  { type: 'link', name: 'd', target: '.' },
  { type: 'link', name: 'esc', target: 'd/d/d/../../../secret' },
  { type: 'dir', name: 'esc' },
];

for (const [format, extract] of Object.entries(readers)) {
  describe(`${format}: links the archive creates are never followed`, () => {
    test('a link chain that normalises inside but resolves outside, then a folder entry of its name: refused, the outside folder stays 0700', async () => {
      const { dir, secret, tree } = scene();
      const outside = treeHash(secret).hash;
      const outcome = await extract(LINK_CHAIN, dir, tree).then(
        () => 'extracted',
        (err: { code?: string; message: string }) => `${err.code}: ${err.message}`,
      );
      assert.equal(modeOf(secret).toString(8), '700', 'the folder outside keeps its mode');
      assert.equal(treeHash(secret).hash, outside);
      assert.match(outcome, /^E_INSTALL_FAILED: The package contains an unsafe entry "esc"/);
    });

    test('the chain alone (no folder entry), in either order: the link leaving the package is refused', async () => {
      for (const order of [LINK_CHAIN.slice(0, 3), [LINK_CHAIN[0]!, LINK_CHAIN[2]!, LINK_CHAIN[1]!]]) {
        const { dir, tree } = scene();
        await assert.rejects(extract(order, dir, tree), { code: 'E_INSTALL_FAILED', message: /unsafe entry "esc": its link target d\/d\/d\/\.\.\/\.\.\/\.\.\/secret leaves the install folder/ });
      }
    });

    test('a file written below a link the archive made, even one pointing inside: refused, nothing written through it', async () => {
      const { dir, tree } = scene();
      const entries: CraftedEntry[] = [{ type: 'dir', name: 'sub' }, { type: 'link', name: 'l', target: 'sub' }, { type: 'file', name: 'l/planted', content: 'x' }];
      await assert.rejects(extract(entries, dir, tree), { code: 'E_INSTALL_FAILED', message: /through a symbolic link/ });
      assert.deepEqual(fs.readdirSync(path.join(tree, 'sub')), []);
      // a folder entry over that link (which mkdir -p would accept, and chmod would follow) is refused as well
      const again = scene();
      await assert.rejects(extract([{ type: 'dir', name: 'sub' }, { type: 'link', name: 'l', target: 'sub' }, { type: 'dir', name: 'l' }], again.dir, again.tree), { code: 'E_INSTALL_FAILED', message: /through a symbolic link/ });
    });

    test('a link straight outside, a file over a link of the same name, a link loop: refused', async () => {
      const twice = scene();
      await assert.rejects(extract([{ type: 'link', name: 'f', target: '../../../secret/key' }], twice.dir, twice.tree), { code: 'E_INSTALL_FAILED', message: /leaves the install folder/ });
      const again = scene();
      await assert.rejects(extract([{ type: 'link', name: 'f', target: 'x' }, { type: 'file', name: 'f', content: 'over' }], again.dir, again.tree), { code: 'E_INSTALL_FAILED', message: /holds this name twice/ });
      assert.equal(fs.readlinkSync(path.join(again.tree, 'f')), 'x');
      const loop = scene();
      await assert.rejects(extract([{ type: 'link', name: 'a', target: 'b' }, { type: 'link', name: 'b', target: 'a' }], loop.dir, loop.tree), { code: 'E_INSTALL_FAILED', message: /loops/ });
    });

    test('links resolving inside through other links (a mac framework) extract, folders 0755 whatever the umask', async () => {
      const { dir, tree } = scene();
      const entries: CraftedEntry[] = [
        { type: 'dir', name: 'F.framework/Versions/A/Resources' },
        { type: 'file', name: 'F.framework/Versions/A/Resources/Info.plist', content: 'plist' },
        { type: 'link', name: 'F.framework/Versions/Current', target: 'A' },
        { type: 'link', name: 'F.framework/Resources', target: 'Versions/Current/Resources' },
        { type: 'dir', name: 'F.framework/Versions/A/Resources' }, // a folder listed twice is fine
      ];
      const old = process.umask(0o077);
      try {
        await extract(entries, dir, tree);
      } finally {
        process.umask(old);
      }
      assert.equal(fs.readFileSync(path.join(tree, 'F.framework/Resources/Info.plist'), 'utf8'), 'plist');
      assert.equal(modeOf(path.join(tree, 'F.framework/Versions/A')), 0o755);
    });
  });
}

describe('plain tar (no gzip) goes through the same checks', () => {
  test('the link chain in an uncompressed tar is refused', async () => {
    const { dir, secret, tree } = scene();
    const file = path.join(dir, 'crafted.tar');
    fs.writeFileSync(file, craftTar(LINK_CHAIN));
    await assert.rejects(extractTar(file, tree), { code: 'E_INSTALL_FAILED' });
    assert.equal(modeOf(secret), 0o700);
  });
});

describe('the sealed copy', () => {
  test('reads at most the limit, never through a link, only regular files', async () => {
    const { dir } = scene();
    const big = path.join(dir, 'big.bin');
    fs.writeFileSync(big, Buffer.alloc(3 << 20, 1));
    const copy = await sealCopy(big, path.join(dir, 'sealed'), 101);
    assert.equal(copy.bytes, 101);
    assert.equal(fs.statSync(path.join(dir, 'sealed')).size, 101);
    assert.equal(modeOf(path.join(dir, 'sealed')), 0o600);

    fs.symlinkSync(big, path.join(dir, 'link.tar.gz'));
    await assert.rejects(sealCopy(path.join(dir, 'link.tar.gz'), path.join(dir, 'sealed2')), { code: 'E_USAGE', message: /symbolic link/ });
    execFileSync('mkfifo', [path.join(dir, 'fifo.tar.gz')]);
    await assert.rejects(sealCopy(path.join(dir, 'fifo.tar.gz'), path.join(dir, 'sealed3')), { code: 'E_USAGE', message: /not a regular file/ });
    // the copy never lands on an existing name (a link planted there would otherwise be written through)
    fs.symlinkSync(path.join(dir, 'secret', 'key'), path.join(dir, 'planted'));
    await assert.rejects(sealCopy(big, path.join(dir, 'planted')), { code: 'EEXIST' });
    assert.equal(fs.readFileSync(path.join(dir, 'secret', 'key'), 'utf8'), 'private');
  });
});
