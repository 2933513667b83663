/**
 * The content-defined chunker: boundaries depend on the bytes only (not on how they arrive), an edit in the middle
 * changes only the blocks around it, sizes stay within min/max, and empty and one-byte inputs give 0 and 1 blocks.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { ContentChunk, ContentChunker, DEFAULT_CHUNK_SIZES, contentChunks, fdChunks } from '../../kernel/contentChunks';

/** Deterministic pseudo-random bytes (SHA-256 in counter mode), so a failure reproduces. */
function bytes(size: number, seed: string): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0, off = 0; off < size; i++, off += 32) createHash('sha256').update(`${seed}:${i}`).digest().copy(out, off);
  return out;
}

function chunkAll(data: Buffer, pieces: number[]): ContentChunk[] {
  const c = new ContentChunker();
  const out: ContentChunk[] = [];
  let at = 0;
  for (const p of pieces) {
    out.push(...c.push(data.subarray(at, at + p)));
    at += p;
  }
  out.push(...c.push(data.subarray(at)), ...c.end());
  return out;
}

const key = (c: ContentChunk) => `${c.size}:${c.sha256.toString('hex')}`;

describe('content-defined chunks', () => {
  const data = bytes(8 * 1024 * 1024, 'base');
  const whole = chunkAll(data, []);

  test('blocks cover the input in order, within min/max, with the SHA-256 of their bytes', () => {
    let offset = 0;
    for (const [i, c] of whole.entries()) {
      assert.equal(c.offset, offset);
      assert.ok(c.size <= DEFAULT_CHUNK_SIZES.max, `block ${i} is at most max`);
      if (i < whole.length - 1) assert.ok(c.size >= DEFAULT_CHUNK_SIZES.min, `block ${i} is at least min`);
      assert.deepEqual(c.sha256, createHash('sha256').update(data.subarray(c.offset, c.offset + c.size)).digest());
      offset += c.size;
    }
    assert.equal(offset, data.length);
    const avg = data.length / whole.length;
    assert.ok(avg > DEFAULT_CHUNK_SIZES.avg * 0.6 && avg < DEFAULT_CHUNK_SIZES.avg * 1.7, `average block ${avg} is near ${DEFAULT_CHUNK_SIZES.avg}`);
  });

  test('boundaries are the same however the bytes arrive (1 byte, odd pieces, a file descriptor)', async () => {
    assert.deepEqual(chunkAll(data, [1, 7, 65_537, 3, 200_000, 1_000_003]), whole);
    const small = data.subarray(0, 300 * 1024);
    const byByte: ContentChunk[] = [];
    const c = new ContentChunker();
    for (let i = 0; i < small.length; i++) byByte.push(...c.push(small.subarray(i, i + 1)));
    byByte.push(...c.end());
    assert.deepEqual(byByte, chunkAll(small, []));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cdc-'));
    try {
      fs.writeFileSync(path.join(dir, 'f'), data);
      const fd = fs.openSync(path.join(dir, 'f'), 'r');
      const got: ContentChunk[] = [];
      for await (const ch of fdChunks(fd, DEFAULT_CHUNK_SIZES, 100_001)) got.push(ch);
      fs.closeSync(fd);
      assert.deepEqual(got, whole);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an insert in the middle changes only the blocks near it', () => {
    const at = 4 * 1024 * 1024 + 12_345;
    const edited = Buffer.concat([data.subarray(0, at), randomBytes(100), data.subarray(at)]);
    const after = chunkAll(edited, []);
    const before = new Set(whole.map(key));
    const changed = after.filter((c) => !before.has(key(c)));
    assert.ok(changed.length >= 1 && changed.length <= 3, `${changed.length} blocks changed`);
    for (const c of changed) assert.ok(c.offset <= at + 100 + DEFAULT_CHUNK_SIZES.max && c.offset + c.size >= at - DEFAULT_CHUNK_SIZES.max, 'a changed block lies at the edit');
    const changedBytes = changed.reduce((s, c) => s + c.size, 0);
    assert.ok(changedBytes < 3 * DEFAULT_CHUNK_SIZES.max, `${changedBytes} bytes changed`);
  });

  test('empty input gives no block, one byte gives one block; constant input is cut at max', async () => {
    const none: ContentChunk[] = [];
    for await (const c of contentChunks((async function* () {})())) none.push(c);
    assert.deepEqual(none, []);
    const one = chunkAll(Buffer.from([42]), []);
    assert.deepEqual(one, [{ offset: 0, size: 1, sha256: createHash('sha256').update(Buffer.from([42])).digest() }]);
    const zeros = chunkAll(Buffer.alloc(DEFAULT_CHUNK_SIZES.max * 2 + 5), []);
    assert.deepEqual(zeros.map((c) => c.size), [DEFAULT_CHUNK_SIZES.max, DEFAULT_CHUNK_SIZES.max, 5]);
  });

  test('sizes that break the algorithm are refused', () => {
    assert.throws(() => new ContentChunker({ min: 16, avg: 64, max: 256 }), RangeError);
    assert.throws(() => new ContentChunker({ min: 1024, avg: 3000, max: 8192 }), RangeError);
    assert.throws(() => new ContentChunker({ min: 8192, avg: 4096, max: 16384 }), RangeError);
  });
});
