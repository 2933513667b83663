/**
 * The installed version's kept package: kept after an install, replaced only by a verified newer one, and handed out
 * as a delta base only while its bytes still match what was installed — never through a link; its block list only
 * while the list still belongs to that file.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { KeptPackage, KeptPackageRecord, keptPackageDir } from '../../engine/keptPackage';
import { MemoryLogger } from '../../kernel/log';

function recordFor(file: string, version: string): KeptPackageRecord {
  const bytes = fs.readFileSync(file);
  return { version, name: path.basename(file), size: bytes.length, sha512: createHash('sha512').update(bytes).digest('base64') };
}

describe('kept package', () => {
  let dir: string;
  let kept: KeptPackage;
  let log: MemoryLogger;
  const write = (name: string, fill: number, size = 300_000) => {
    const f = path.join(dir, 'downloads', name);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, Buffer.alloc(size, fill));
    return f;
  };
  const readBase = (fd: number, size: number) => {
    const buf = Buffer.alloc(size);
    fs.readSync(fd, buf, 0, size, 0);
    return buf;
  };

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kept-'));
    log = new MemoryLogger();
    kept = new KeptPackage(keptPackageDir(dir), log);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a copy is kept beside its record; the base is that file, verified; the next install replaces it', async () => {
    assert.equal(await kept.openBase(), null);
    assert.equal(kept.lastUnusedReason, 'none-kept');
    const v1 = write('app-1.0.0.AppImage', 1);
    assert.equal(await kept.keep(v1, recordFor(v1, '1.0.0'), 'copy'), true);
    assert.ok(fs.existsSync(v1), 'a copy leaves the download where it was');
    const base = await kept.openBase();
    assert.ok(base);
    assert.equal(base.version, '1.0.0');
    assert.deepEqual(readBase(base.fd, base.size), fs.readFileSync(v1));
    base.close();

    const v2 = write('app-1.0.1.AppImage', 2, 310_000);
    assert.equal(await kept.keep(v2, recordFor(v2, '1.0.1'), 'move'), true);
    assert.ok(!fs.existsSync(v2), 'a move takes the file');
    assert.deepEqual(fs.readdirSync(kept.dir).sort(), ['app-1.0.1.AppImage', 'kept.json'], 'the previous package is gone');
    const next = await kept.openBase();
    assert.equal(next?.version, '1.0.1');
    assert.deepEqual(readBase(next!.fd, 310_000), Buffer.alloc(310_000, 2));
    next!.close();
  });

  test('a copy that does not match the signed SHA-512 is not kept, and the previous package stays the base', async () => {
    const v1 = write('app-1.0.0.AppImage', 1);
    await kept.keep(v1, recordFor(v1, '1.0.0'), 'copy');
    const v2 = write('app-1.0.1.AppImage', 2);
    assert.equal(await kept.keep(v2, { ...recordFor(v2, '1.0.1'), sha512: recordFor(v1, 'x').sha512 }, 'copy'), false);
    assert.equal(log.entries.at(-1)?.event, 'package.not-kept');
    const base = await kept.openBase();
    assert.equal(base?.version, '1.0.0');
    base?.close();
  });

  test('a kept package changed on disk since it was installed is not used as a base (logged with a code)', async () => {
    const v1 = write('app-1.0.0.AppImage', 1);
    await kept.keep(v1, recordFor(v1, '1.0.0'), 'copy');
    const keptFile = path.join(kept.dir, 'app-1.0.0.AppImage');
    const fd = fs.openSync(keptFile, 'r+');
    fs.writeSync(fd, Buffer.from([0xff]), 0, 1, 150_000); // same size, one byte changed
    fs.closeSync(fd);
    assert.equal(await kept.openBase(), null);
    assert.equal(kept.lastUnusedReason, 'sha512-changed');
    assert.deepEqual(log.entries.at(-1), { level: 'warn', event: 'package.base-unused', fields: { code: 'E_CHECKSUM', reason: 'sha512-changed', dir: kept.dir, file: 'app-1.0.0.AppImage' } });

    fs.appendFileSync(keptFile, 'more');
    assert.equal(await kept.openBase(), null);
    assert.equal(kept.lastUnusedReason, 'size-changed');
  });

  test('the block list kept beside the package comes with the base only while it binds to that very file', async () => {
    const sizes = { min: 4096, avg: 16384, max: 65536 };
    const blocksOf = (file: string) => {
      const bytes = fs.readFileSync(file);
      return [0, 65536, 131072, 196608, 262144].map((offset) => ({ offset, size: Math.min(65536, bytes.length - offset), sha256: createHash('sha256').update(bytes.subarray(offset, offset + 65536)).digest('hex') }));
    };
    const v1 = write('app-1.0.0.AppImage', 1);
    assert.equal(await kept.keep(v1, recordFor(v1, '1.0.0'), 'copy', { sizes, blocks: blocksOf(v1) }), true);
    assert.deepEqual(fs.readdirSync(kept.dir).sort(), ['app-1.0.0.AppImage', 'blocks.json', 'kept.json']);
    const base = await kept.openBase({ blockList: sizes });
    assert.deepEqual(base?.blocks, blocksOf(v1));
    base?.close();
    // Asked for blocks of other sizes, or for none: no list, and the whole file is checked as before.
    for (const o of [{ blockList: { min: 8192, avg: 32768, max: 131072 } }, {}]) {
      const other = await kept.openBase(o);
      assert.ok(other && other.blocks === undefined);
      other.close();
    }

    // The file changed on disk (its mtime moved on): the list no longer binds, and the whole-file check refuses it.
    const keptFile = path.join(kept.dir, 'app-1.0.0.AppImage');
    const listFile = path.join(kept.dir, 'blocks.json');
    const listed = fs.readFileSync(listFile, 'utf8');
    const fd = fs.openSync(keptFile, 'r+');
    fs.writeSync(fd, Buffer.from([0xff]), 0, 1, 150_000);
    fs.closeSync(fd);
    fs.utimesSync(keptFile, new Date(), new Date(Date.now() + 5_000));
    assert.equal(await kept.openBase({ blockList: sizes }), null);
    assert.equal(kept.lastUnusedReason, 'sha512-changed');
    assert.ok(log.entries.some((e) => e.event === 'package.block-list-stale'));

    // Another package kept: the list of the previous one, planted beside it again, is not its list.
    const v2 = write('app-1.0.1.AppImage', 2);
    assert.equal(await kept.keep(v2, recordFor(v2, '1.0.1'), 'move'), true);
    assert.deepEqual(fs.readdirSync(kept.dir).sort(), ['app-1.0.1.AppImage', 'kept.json'], 'the previous list went with its package');
    fs.writeFileSync(listFile, listed);
    const plain = await kept.openBase({ blockList: sizes });
    assert.ok(plain && plain.blocks === undefined && plain.version === '1.0.1');
    plain.close();

    // A list that does not cover the package is not kept (the package is).
    const v3 = write('app-1.0.2.AppImage', 3);
    assert.equal(await kept.keep(v3, recordFor(v3, '1.0.2'), 'copy', { sizes, blocks: blocksOf(v3).slice(1) }), true);
    assert.deepEqual(fs.readdirSync(kept.dir).sort(), ['app-1.0.2.AppImage', 'kept.json']);
    assert.equal(log.entries.at(-2)?.event, 'package.block-list-not-kept');
  });

  test('a link in place of the kept package is not followed', async () => {
    const v1 = write('app-1.0.0.AppImage', 1);
    await kept.keep(v1, recordFor(v1, '1.0.0'), 'copy');
    const keptFile = path.join(kept.dir, 'app-1.0.0.AppImage');
    // The link points at identical bytes: only refusing to follow it keeps it out.
    const elsewhere = write('elsewhere', 1);
    fs.rmSync(keptFile);
    fs.symlinkSync(elsewhere, keptFile);
    assert.equal(await kept.openBase(), null);
    assert.equal(kept.lastUnusedReason, 'not-a-regular-file');
    assert.equal(log.entries.at(-1)?.fields['errno'], 'ELOOP');
  });
});
