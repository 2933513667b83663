/**
 * The portable packages Lockstep writes (authoring/tarGz.ts) are rsyncable gzip: these tests check that both readers
 * that matter — Lockstep's own tar reader (the installer) and `tar -xzf` (GNU tar + gzip) — read them back byte for
 * byte, that `gzip -t` accepts the member (CRC-32 and length), and that a change in one file leaves the compressed
 * bytes of the rest untouched (the property a block-map delta depends on).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import * as zlib from 'node:zlib';
import { tarGz } from '../../authoring/tarGz';
import { rsyncableGzip } from '../../authoring/rsyncableGzip';
import { extractTar } from '../../installer/archive/tar';
import { tempDir } from '../helpers/backends';

/** Text-like and random files, a long run of zeros (no content-defined cut may fall at every byte), an empty file. */
function tree(): Record<string, Buffer> {
  const files: Record<string, Buffer> = {};
  for (let i = 0; i < 40; i++) {
    const text = Array.from({ length: 2000 + i * 300 }, (_, j) => `line ${j} of file ${i}: ${(j * 7919 + i) % 104729}`).join('\n');
    files[`app/src/f${i}.js`] = Buffer.from(text);
  }
  files['app/native/addon.node'] = randomBytes(700_000);
  files['app/zeros.bin'] = Buffer.alloc(300_000);
  files['app/empty.txt'] = Buffer.alloc(0);
  files['app/one.txt'] = Buffer.from('x');
  return files;
}

function readBack(dir: string, files: Record<string, Buffer>): void {
  for (const [name, bytes] of Object.entries(files)) assert.ok(fs.readFileSync(path.join(dir, name)).equals(bytes), `${name} byte-identical`);
}

describe('rsyncable .tar.gz packages', () => {
  const files = tree();
  const packed = tarGz(files, new Date('2026-11-30T00:00:00Z'));

  test('Lockstep\'s tar reader extracts every file byte for byte', async () => {
    const dir = tempDir();
    const archive = path.join(dir, 'pkg.tar.gz');
    fs.writeFileSync(archive, packed);
    const out = path.join(dir, 'lockstep');
    fs.mkdirSync(out);
    const result = await extractTar(archive, out);
    assert.equal(result.files, Object.keys(files).length);
    readBack(out, files);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('gzip -t accepts it and tar -xzf extracts every file byte for byte', () => {
    const dir = tempDir();
    const archive = path.join(dir, 'pkg.tar.gz');
    fs.writeFileSync(archive, packed);
    assert.equal(spawnSync('gzip', ['-t', archive]).status, 0, 'gzip -t: CRC-32 and length match');
    const out = path.join(dir, 'tar');
    fs.mkdirSync(out);
    const r = spawnSync('tar', ['-xzf', archive, '-C', out]);
    assert.equal(r.status, 0, String(r.stderr));
    readBack(out, files);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the gzip stream inflates to exactly the concatenated input, with cuts inside a large part', () => {
    const parts = [randomBytes(10), Buffer.from('a'.repeat(200_000) + 'b'.repeat(5)), randomBytes(300_000), Buffer.alloc(0), Buffer.alloc(70_000, 1)];
    const gz = rsyncableGzip(parts);
    assert.ok(zlib.gunzipSync(gz).equals(Buffer.concat(parts)));
  });

  test('editing one file leaves the compressed bytes before and after its entry unchanged', () => {
    const edited = { ...files, 'app/src/f20.js': Buffer.concat([files['app/src/f20.js']!.subarray(0, 100), Buffer.from('PATCHED'), files['app/src/f20.js']!.subarray(107)]) };
    const again = tarGz(edited, new Date('2026-11-30T00:00:00Z'));
    let head = 0;
    while (head < packed.length && packed[head] === again[head]) head++;
    // The trailer (CRC-32, length) changes; everything else outside the edited entry's stretches must match.
    const body = (b: Buffer) => b.subarray(0, b.length - 8);
    const [bodyA, bodyB] = [body(packed), body(again)];
    let tail = 0;
    while (tail < bodyA.length - head && bodyA[bodyA.length - 1 - tail] === bodyB[bodyB.length - 1 - tail]) tail++;
    const same = head + tail;
    assert.ok(same >= 0.9 * again.length, `${same} of ${again.length} compressed bytes identical in place`);
    // With plain gzip the same edit changes everything after it.
    const plainA = zlib.gzipSync(zlib.gunzipSync(packed));
    const plainB = zlib.gzipSync(zlib.gunzipSync(again));
    let plainHead = 0;
    while (plainA[plainHead] === plainB[plainHead]) plainHead++;
    assert.ok(plainHead < 0.7 * plainB.length, 'the comparison is meaningful: plain gzip diverges for good at the edit');
  });
});
