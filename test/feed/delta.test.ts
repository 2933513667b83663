/**
 * Signed block maps and the differential download, against a real feed on 127.0.0.1 written by `feed add`: a patch
 * fetches only the blocks it changed (bytes counted at the server), the assembled file is byte-identical to the
 * signed one, and every tamper — a block map that is not the signed one, a range whose bytes were changed, a missing
 * block map, a base changed on disk — falls back to the full download with a coded reason, never handing on a file
 * that does not match its signed SHA-512.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { addVersion } from '../../authoring/feedWriter';
import { FeedContext, downloadVersion } from '../../engine/feed/download';
import { httpFeedSource } from '../../engine/feed/feedSource';
import { FeedHttp } from '../../engine/feed/http';
import { KeptPackage, keptPackageDir } from '../../engine/keptPackage';
import { computeBlockMap, encodeBlockMap, parseBlockMap } from '../../kernel/blockMap';
import { planDelta } from '../../engine/feed/deltaPlan';
import { gunzipSync } from 'node:zlib';
import { OperationKind, computeOperations } from 'electron-updater/out/differentialDownloader/downloadPlanBuilder';
import { Manifest } from '../../kernel/catalogSchema';
import { MemoryLogger } from '../../kernel/log';
import { SignedDocument, generateKeyPair, signerFromPem } from '../../kernel/signing';
import { tempDir } from '../helpers/backends';
import { TestFeedServer } from './feedServer';

const FILES = 400;

/** A package-like file: FILES members of varied size behind small headers, like an uncompressed archive. */
function member(i: number, edit: number): Buffer {
  const size = 2_000 + ((i * 7919) % 40_000);
  // Pseudo-random bytes from a seed (xorshift): deterministic, and cheap enough to build megabytes per test.
  let x = (i * 2654435761 + edit * 40503 + 1) >>> 0 || 1;
  const body = Buffer.alloc(size);
  for (let off = 0; off < size; off += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    body.writeUInt32LE(x, off - (off + 4 > size ? off + 4 - size : 0));
  }
  return Buffer.concat([Buffer.from(`member-${i} ${size}\n`.padEnd(256)), body]);
}

function packageBytes(edited: ReadonlySet<number>): Buffer {
  return Buffer.concat(Array.from({ length: FILES }, (_, i) => member(i, edited.has(i) ? 1 : 0)));
}

const name = (v: string) => `Delta-App-${v}.AppImage`;
const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('base64');

describe('differential download from the feed', () => {
  const dir = tempDir('lockstep-delta-');
  const feedDir = path.join(dir, 'feed');
  const keys = generateKeyPair();
  const signer = signerFromPem(keys.privateKeyPem);
  const v1 = packageBytes(new Set());
  // 5 % of the members changed, spread over the file.
  const v2 = packageBytes(new Set(Array.from({ length: FILES / 20 }, (_, k) => k * 20 + 3)));
  const manifests: Record<string, SignedDocument<Manifest>> = {};
  let server: TestFeedServer;
  let served: Map<string, number>;
  let cacheDir: string;
  let log: MemoryLogger;
  let ctx: FeedContext;

  before(async () => {
    fs.mkdirSync(path.join(dir, 'build'), { recursive: true });
    for (const [version, bytes] of [['1.0.0', v1], ['1.0.1', v2]] as const) {
      fs.writeFileSync(path.join(dir, 'build', name(version)), bytes);
      manifests[version] = (await addVersion(feedDir, { installers: [path.join(dir, 'build', name(version))], version }, signer)).manifest;
    }
    server = await new TestFeedServer(feedDir).start();
  });
  after(async () => {
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    cacheDir = fs.mkdtempSync(path.join(dir, 'cache-'));
    log = new MemoryLogger();
    const client = new FeedHttp({ timeoutMs: 2_000, retries: 1, retryDelayMs: 10, log });
    ctx = { feedUrl: server.url, cacheDir, trustedKeys: [keys.publicKey], http: client, source: httpFeedSource(client), platform: 'linux', log, keptPackage: new KeptPackage(keptPackageDir(cacheDir), log) };
    server.fault = null;
    served = countServedBytes(server);
    await installed('1.0.0');
  });

  /** Keeps version `v`'s package as a finished install would (engine/keptPackage.ts). */
  async function installed(v: string): Promise<void> {
    const file = manifests[v]!.signed.files[0]!;
    const copy = path.join(cacheDir, 'installed.tmp');
    fs.writeFileSync(copy, v === '1.0.0' ? v1 : v2);
    assert.equal(await ctx.keptPackage!.keep(copy, { version: v, ...file }, 'move'), true);
  }

  function countServedBytes(s: TestFeedServer): Map<string, number> {
    const counts = new Map<string, number>();
    const inner = s.fault;
    s.fault = (req, res, file, n) => {
      const write = res.write.bind(res) as (chunk: unknown, ...rest: unknown[]) => boolean;
      res.write = ((chunk: unknown, ...rest: unknown[]) => {
        if (Buffer.isBuffer(chunk) || typeof chunk === 'string') counts.set(file, (counts.get(file) ?? 0) + Buffer.byteLength(chunk));
        return write(chunk, ...rest);
      }) as typeof res.write;
      return inner?.(req, res, file, n) ?? false;
    };
    return counts;
  }

  /** Puts a fault in front of the byte counter. */
  function withFault(fault: (req: http.IncomingMessage, res: http.ServerResponse, file: string) => boolean): void {
    const counter = server.fault!;
    server.fault = (req, res, file, n) => counter(req, res, file, n) || fault(req, res, file);
  }

  const installerServed = () => served.get(name('1.0.1')) ?? 0;
  const fallbackEntry = () => log.entries.find((e) => e.event === 'feed.delta-fallback');

  test('feed add signs a block map beside each installer, in the electron-builder format', () => {
    const file = manifests['1.0.1']!.signed.files[0]!;
    assert.equal(file.blockMap?.name, `${name('1.0.1')}.blockmap`);
    const bytes = fs.readFileSync(path.join(feedDir, file.blockMap.name));
    assert.equal(file.blockMap.size, bytes.length);
    assert.equal(file.blockMap.sha512, sha512(bytes));
  });

  test('a 5 % patch fetches a small share and assembles the signed file byte for byte', async () => {
    const progress: Array<{ transferred: number; total: number }> = [];
    const got = await downloadVersion(ctx, manifests['1.0.1']!, { onProgress: (p) => progress.push({ transferred: p.transferred, total: p.total }) });
    assert.deepEqual(fs.readFileSync(got.file), v2);
    assert.equal(got.delta?.used, true);
    assert.equal(got.delta?.baseVersion, '1.0.0');
    const fraction = installerServed() / v2.length;
    const mapFraction = (served.get(`${name('1.0.1')}.blockmap`) ?? 0) / v2.length;
    console.log(`delta: ${installerServed()} of ${v2.length} bytes served (${(fraction * 100).toFixed(1)} %), block maps ${(mapFraction * 100).toFixed(2)} %`);
    assert.equal(got.delta?.fetchedBytes, installerServed(), 'the report counts what the server sent');
    assert.deepEqual(progress.at(-1), { transferred: installerServed(), total: installerServed() }, 'progress counts fetched bytes, not the file size');
    assert.ok(fraction < 0.15, `fetched ${fraction}`);
    assert.ok(server.requestsFor(name('1.0.1')).every((r) => r.status === 206 && /^bytes=\d+-\d+$/.test(String(r.headers.range))), 'only ranges were asked for');
  });

  test('the base block map is computed from the verified base when the record names none', async () => {
    const record = ctx.keptPackage!.record()!;
    const file = manifests['1.0.0']!.signed.files[0]!;
    fs.writeFileSync(path.join(cacheDir, 'again.tmp'), v1);
    await ctx.keptPackage!.keep(path.join(cacheDir, 'again.tmp'), { version: record.version, name: file.name, size: file.size, sha512: file.sha512 }, 'move');
    const got = await downloadVersion(ctx, manifests['1.0.1']!, {});
    assert.equal(got.delta?.used, true);
    assert.deepEqual(fs.readFileSync(got.file), v2);
    assert.equal(served.get(`${name('1.0.0')}.blockmap`), undefined, 'the old block map was not needed');
    assert.ok(installerServed() / v2.length < 0.15);
  });

  test('a block map that is not the signed one is never parsed: full download, E_SIGNATURE', async () => {
    // A valid block map of other bytes of the same size: used, it would make a wrong plan.
    const fd = fs.openSync(path.join(feedDir, name('1.0.0')), 'r');
    const other = encodeBlockMap(await computeBlockMap(fd));
    fs.closeSync(fd);
    withFault((_req, res, file) => {
      if (file !== `${name('1.0.1')}.blockmap`) return false;
      res.writeHead(200, { 'Content-Length': other.length }).end(other);
      return true;
    });
    const got = await downloadVersion(ctx, manifests['1.0.1']!, {});
    assert.deepEqual(fs.readFileSync(got.file), v2);
    assert.deepEqual([got.delta?.used, got.delta?.reason, got.delta?.code], [false, 'block-map-mismatch', 'E_SIGNATURE']);
    assert.equal(fallbackEntry()?.fields['reason'], 'block-map-mismatch');
    assert.equal(installerServed(), v2.length, 'the whole file came in full');
  });

  test('a range whose bytes were changed fails the assembled SHA-512: full download, E_CHECKSUM', async () => {
    withFault((req, res, file) => {
      if (file !== name('1.0.1') || !req.headers.range) return false;
      const [, from, to] = /^bytes=(\d+)-(\d+)$/.exec(String(req.headers.range))!;
      const bytes = Buffer.from(v2.subarray(Number(from), Number(to) + 1));
      bytes[0] = bytes[0]! ^ 0xff;
      res.writeHead(206, { 'Content-Range': `bytes ${from}-${to}/${v2.length}`, 'Content-Length': bytes.length }).end(bytes);
      return true;
    });
    const got = await downloadVersion(ctx, manifests['1.0.1']!, {});
    assert.deepEqual(fs.readFileSync(got.file), v2, 'what is handed on is the signed file');
    assert.deepEqual([got.delta?.used, got.delta?.reason, got.delta?.code], [false, 'assembled-mismatch', 'E_CHECKSUM']);
    assert.ok(!fs.readdirSync(path.join(cacheDir, 'partial')).some((f) => f.endsWith('.delta')), 'the assembled file is gone');
  });

  test('a missing block map: full download, E_CONNECT', async () => {
    withFault((_req, res, file) => {
      if (file !== `${name('1.0.1')}.blockmap`) return false;
      res.writeHead(404).end();
      return true;
    });
    const got = await downloadVersion(ctx, manifests['1.0.1']!, {});
    assert.deepEqual(fs.readFileSync(got.file), v2);
    assert.deepEqual([got.delta?.used, got.delta?.reason, got.delta?.code], [false, 'block-map-unavailable', 'E_CONNECT']);
  });

  test('a kept package changed on disk since it was installed is not used as a base', async () => {
    const record = ctx.keptPackage!.record()!;
    const keptFile = path.join(keptPackageDir(cacheDir), record.name);
    const fd = fs.openSync(keptFile, 'r+');
    fs.writeSync(fd, Buffer.from('changed'), 0, 7, 100_000);
    fs.closeSync(fd);
    const got = await downloadVersion(ctx, manifests['1.0.1']!, {});
    assert.deepEqual(fs.readFileSync(got.file), v2);
    assert.deepEqual([got.delta?.used, got.delta?.reason], [false, 'no-base']);
    assert.equal(log.entries.find((e) => e.event === 'package.base-unused')?.fields['reason'], 'sha512-changed');
    assert.equal(installerServed(), v2.length);
  });

  test('the previous step of a chain is a base too, and a server without ranges ends in a full download', async () => {
    fs.rmSync(keptPackageDir(cacheDir), { recursive: true });
    const previous = path.join(cacheDir, 'prev.AppImage');
    fs.writeFileSync(previous, v1);
    withFault((req, res, file) => {
      if (file !== name('1.0.1') || !req.headers.range) return false;
      res.writeHead(200, { 'Content-Length': v2.length }).end(v2); // ignores Range
      return true;
    });
    const got = await downloadVersion(ctx, manifests['1.0.1']!, { previous: { version: '1.0.0', file: previous, fileInfo: manifests['1.0.0']!.signed.files[0]! } });
    assert.deepEqual(fs.readFileSync(got.file), v2);
    assert.deepEqual([got.delta?.baseVersion, got.delta?.reason, got.delta?.code], ['1.0.0', 'range-failed', 'E_CONNECT']);
  });
});

describe('feed add and electron-builder block maps', () => {
  const keys = generateKeyPair();
  const signer = signerFromPem(keys.privateKeyPem);

  test("electron-builder's .blockmap beside the installer is published as it is; one for other bytes is refused", async () => {
    const dir = tempDir('lockstep-ebmap-');
    try {
      const installer = path.join(dir, 'App-Setup-2.0.0.exe');
      fs.writeFileSync(installer, packageBytes(new Set([1])));
      // Another chunking than Lockstep's, as electron-builder's own tool would make.
      const fd = fs.openSync(installer, 'r');
      const builderMap = encodeBlockMap(await computeBlockMap(fd, { min: 8192, avg: 32768, max: 131072 }));
      fs.closeSync(fd);
      fs.writeFileSync(`${installer}.blockmap`, builderMap);
      const feedDir = path.join(dir, 'feed');
      const file = (await addVersion(feedDir, { installers: [installer], version: '2.0.0' }, signer)).manifest.signed.files[0]!;
      assert.deepEqual(fs.readFileSync(path.join(feedDir, 'App-Setup-2.0.0.exe.blockmap')), builderMap);
      assert.deepEqual(file.blockMap, { name: 'App-Setup-2.0.0.exe.blockmap', size: builderMap.length, sha512: sha512(builderMap) });

      const next = path.join(dir, 'App-Setup-2.0.1.exe');
      fs.writeFileSync(next, packageBytes(new Set([2])).subarray(1)); // one byte shorter than the map says
      fs.copyFileSync(`${installer}.blockmap`, `${next}.blockmap`);
      await assert.rejects(addVersion(feedDir, { installers: [next], version: '2.0.1' }, signer), (err: Error & { code?: string }) => err.code === 'E_USAGE' && /does not describe App-Setup-2\.0\.1\.exe/.test(err.message));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("electron-updater's own planner reads Lockstep's block maps and finds the same changed bytes", async () => {
    const maps = [packageBytes(new Set()), packageBytes(new Set([10, 200]))].map((bytes) => {
      const dir = tempDir('lockstep-ebplan-');
      fs.writeFileSync(path.join(dir, 'f'), bytes);
      const fd = fs.openSync(path.join(dir, 'f'), 'r');
      return computeBlockMap(fd).then((m) => {
        fs.closeSync(fd);
        fs.rmSync(dir, { recursive: true, force: true });
        return { gz: encodeBlockMap(m), size: bytes.length };
      });
    });
    const [old, next] = await Promise.all(maps);
    const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
    const ops = computeOperations(JSON.parse(gunzipSync(old!.gz).toString()), JSON.parse(gunzipSync(next!.gz).toString()), quiet);
    const theirs = ops.filter((o) => o.kind === OperationKind.DOWNLOAD).reduce((s, o) => s + (o.end - o.start), 0);
    const ours = planDelta(parseBlockMap(old!.gz, old!.size), parseBlockMap(next!.gz, next!.size)).fetchBytes;
    assert.ok(ours > 0 && ours < next!.size / 10);
    assert.equal(theirs, ours);
  });
});
