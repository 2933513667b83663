/**
 * The peer's block maps (bench/delta/peer.ts, a port of electron-builder's app-builder chunker): every cut is where
 * go-rabin's Rabin hash of the 64 bytes before it has its low 14 bits set — recomputed here from scratch with BigInt,
 * without the rolling pop table — or at the 32 KiB maximum, and nowhere else past the 8 KiB minimum; and
 * electron-updater's own planner, given the maps of a file and of the file with bytes inserted in the middle, copies
 * most of it.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { computeOperations, OperationKind } from 'electron-updater/out/differentialDownloader/downloadPlanBuilder';
import { PEER_CHUNKER, peerBlockMap, peerChunkSizes } from '../../bench/delta/peer';
import { noise } from '../../bench/delta/tree';
import { tempDir } from '../helpers/backends';

const work = tempDir('lockstep-peer-map-');
after(() => fs.rmSync(work, { recursive: true, force: true }));

const POLY = 0xbfe6b8a5bf378d83n;
const MASK64 = (1n << 64n) - 1n;
const deg = (p: bigint) => p.toString(2).length - 1;
function mod(a: bigint, p: bigint): bigint {
  for (let i = deg(a) - deg(p); i >= 0; i--) if ((a >> BigInt(i + deg(p))) & 1n) a ^= p << BigInt(i);
  return a;
}
const PUSH = Array.from({ length: 256 }, (_, i) => {
  const f = BigInt(i) << BigInt(deg(POLY));
  return (f ^ mod(f, POLY)) & MASK64;
});

/** go-rabin's Table.update from zero over the window ending at `end`. */
function windowHash(data: Buffer, end: number): bigint {
  let h = 0n;
  for (let i = end - PEER_CHUNKER.window; i < end; i++) h = (((h << 8n) | BigInt(data[i]!)) ^ PUSH[Number((h >> 55n) & 0xffn)]!) & MASK64;
  return h;
}

describe('peer block maps (app-builder chunker port)', () => {
  test('cuts exactly where the Rabin hash of the last 64 bytes says, or at the maximum', async () => {
    // Low-entropy bytes too, so that some chunks end at the maximum rather than at a hash match.
    const data = Buffer.concat([noise('peer-test', 96 * 1024), Buffer.alloc(48 * 1024, 7), noise('peer-test-2', 32 * 1024)]);
    const file = path.join(work, 'a.bin');
    fs.writeFileSync(file, data);
    const sizes = await peerChunkSizes(file);
    assert.equal(sizes.reduce((a, b) => a + b, 0), data.length);
    const mask = BigInt(PEER_CHUNKER.avg - 1);
    const matches = (end: number) => (windowHash(data, end) & mask) === mask;
    let start = 0;
    let byHash = 0;
    let byMax = 0;
    for (const [i, size] of sizes.entries()) {
      const end = start + size;
      if (i < sizes.length - 1) {
        assert.ok(size >= PEER_CHUNKER.min && size <= PEER_CHUNKER.max, `chunk ${i}: ${size}`);
        if (matches(end)) byHash++;
        else {
          assert.equal(size, PEER_CHUNKER.max, `chunk ${i} ends at ${end} without a hash match below the maximum`);
          byMax++;
        }
      }
      // No earlier position past the minimum matched.
      for (let p = start + PEER_CHUNKER.min; p < end; p += 1) assert.ok(!matches(p), `chunk ${i} should have ended at ${p}`);
      start = end;
    }
    assert.ok(byHash > 3 && byMax > 0, `${byHash} cuts by hash, ${byMax} at the maximum`);
  });

  test("electron-updater's planner copies most of a file with bytes inserted in the middle", async () => {
    const a = noise('peer-insert', 400 * 1024);
    const b = Buffer.concat([a.subarray(0, 200 * 1024), Buffer.from('inserted bytes'), a.subarray(200 * 1024)]);
    fs.writeFileSync(path.join(work, 'old.bin'), a);
    fs.writeFileSync(path.join(work, 'new.bin'), b);
    const oldMap = await peerBlockMap(path.join(work, 'old.bin'));
    const newMap = await peerBlockMap(path.join(work, 'new.bin'), path.join(work, 'new.bin.blockmap'));
    const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const ops = computeOperations(oldMap as never, newMap as never, quiet);
    const download = ops.filter((o) => o.kind === OperationKind.DOWNLOAD).reduce((s, o) => s + o.end - o.start, 0);
    assert.ok(download > 0 && download <= 2 * PEER_CHUNKER.max, `downloads ${download} bytes`);
    assert.ok(fs.statSync(path.join(work, 'new.bin.blockmap')).size > 0);
  });
});
