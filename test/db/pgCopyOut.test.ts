/**
 * The binary COPY reader of package chunks: its parser on hand-built COPY output split at every byte (PostgreSQL sends
 * one row per message, but nothing here relies on it), its refusal of damaged output, and on a real PostgreSQL the
 * chunks read back byte for byte — including bytes that are not UTF-8, which pg's own binary mode would garble.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, describe, test } from 'node:test';
import { PackageStore } from '../../db/packageStore';
import { forTests } from '../../db/pgCopyOut';
import { migratedDb, pgBackend } from '../helpers/backends';

const { BinaryCopyParser } = forTests;

function copyOutput(rows: Array<Array<Buffer | null>>): Buffer {
  const parts: Buffer[] = [Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.from([0, 0, 0, 0, 0, 0, 0, 0])];
  for (const row of rows) {
    const count = Buffer.alloc(2);
    count.writeInt16BE(row.length);
    parts.push(count);
    for (const field of row) {
      const len = Buffer.alloc(4);
      len.writeInt32BE(field ? field.length : -1);
      parts.push(len, ...(field ? [field] : []));
    }
  }
  parts.push(Buffer.from([0xff, 0xff]));
  return Buffer.concat(parts);
}

function parse(messages: Buffer[]): Array<Array<Buffer | null>> {
  const parser = new BinaryCopyParser();
  for (const m of messages) parser.push(m);
  return parser.finish();
}

describe('binary COPY reader', () => {
  const rows = [
    [Buffer.from([0, 0, 0, 7]), Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28]), null],
    [Buffer.from([0, 0, 0, 8]), Buffer.alloc(0), Buffer.from('e3b0c442', 'utf8')],
  ];
  const whole = copyOutput(rows);

  test('parses the rows whatever the message boundaries (every split point, and byte by byte)', () => {
    assert.deepEqual(parse([whole]), rows);
    for (let cut = 1; cut < whole.length; cut++) assert.deepEqual(parse([whole.subarray(0, cut), whole.subarray(cut)]), rows, `split at ${cut}`);
    assert.deepEqual(parse([...whole].map((b) => Buffer.from([b]))), rows);
  });

  test('the fields are copies: pg reusing its receive buffer afterwards does not change them', () => {
    const message = Buffer.from(whole);
    const parser = new BinaryCopyParser();
    parser.push(message);
    message.fill(0x55);
    assert.deepEqual(parser.finish(), rows);
  });

  test('refuses output without the PGCOPY signature, cut short, or with data after the trailer', () => {
    const wrong = Buffer.from(whole);
    wrong[0] = 0x51;
    assert.throws(() => parse([wrong]), /no PGCOPY signature/);
    assert.throws(() => parse([whole.subarray(0, whole.length - 2)]), /ended early/);
    assert.throws(() => parse([whole.subarray(0, whole.length - 5)]), /ended early/);
    assert.throws(() => parse([whole, Buffer.from([0, 1])]), /after the trailer/);
  });
});

const pg = pgBackend();
if (pg) {
  describe('package chunks through binary COPY (PostgreSQL)', () => {
    const cleanups: Array<() => Promise<void>> = [];
    after(async () => {
      for (const c of cleanups.reverse()) await c();
    });

    test('readChunks returns every chunk byte for byte, in order, with its recorded hash and size', async () => {
      const { db, cleanup } = await migratedDb(pg);
      cleanups.push(cleanup);
      const [row] = (await db.knex('lockstep_releases').insert({ channel: 'stable', version: '1.0.0', version_key: '1', state: 'uploading', created_by: 't', created_from: 't', created_at: new Date().toISOString() }).returning('id')) as Array<{ id: number }>;
      const releaseId = row!.id;
      const store = new PackageStore(db);
      // Not UTF-8 on purpose (0xff, lone continuation bytes), plus an all-zero chunk and a short last one.
      const chunks = [Buffer.alloc(70_000, 0xff), randomBytes(70_000), Buffer.alloc(70_000), Buffer.from([0x80, 0xc3, 0x28, 0])];
      for (const [seq, bytes] of chunks.entries()) await store.putChunk(releaseId, seq, bytes, createHash('sha256').update(bytes).digest('hex'));
      const got = await store.readChunks(releaseId, 0, 8);
      assert.deepEqual(got.map((c) => c.seq), [0, 1, 2, 3]);
      for (const [i, c] of got.entries()) {
        assert.ok(c.bytes.equals(chunks[i]!), `chunk ${i} identical`);
        assert.equal(c.size, chunks[i]!.length);
        assert.equal(c.sha256, createHash('sha256').update(chunks[i]!).digest('hex'));
      }
      assert.deepEqual((await store.readChunks(releaseId, 1, 2)).map((c) => c.seq), [1, 2], 'a window in the middle');
      assert.deepEqual(await store.readChunks(releaseId, 9, 4), [], 'past the end: no rows');
    });
  });
}
