/**
 * The peer a vendor would otherwise use: electron-updater's own differential download (its
 * GenericDifferentialDownloader from node_modules/electron-updater, the code an Electron app runs), fed with
 * electron-builder-format block maps.
 *
 * electron-builder makes those block maps with its Go `app-builder` binary, which cannot be downloaded here. This file
 * computes them the same way: a TypeScript port of app-builder's pkg/blockmap (github.com/aclements/go-rabin: Rabin
 * fingerprint over a 64-byte window with polynomial Poly64, chunks of 8 KiB min / 16 KiB average / 32 KiB max, a cut
 * where the hash's low bits are all ones), written as the same gzipped JSON ({version: "2", files: [{name: "file",
 * offset: 0, checksums, sizes}]}). One difference: app-builder names a block by BLAKE2b with an 18-byte digest, this
 * port by the first 18 bytes of SHA-256 — both base64 strings of 24 characters; the download only compares names.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { gunzipSync, gzipSync } from 'node:zlib';
import { CancellationToken, HttpExecutor } from 'builder-util-runtime';
import { GenericDifferentialDownloader } from 'electron-updater/out/differentialDownloader/GenericDifferentialDownloader';

export const PEER_CHUNKER = { window: 64, min: 8 * 1024, avg: 16 * 1024, max: 32 * 1024 };
const POLY64 = 0xbfe6b8a5bf378d83n;
const MASK64 = (1n << 64n) - 1n;

function degree(p: bigint): number {
  return p.toString(2).length - 1;
}

function polyMod(a: bigint, p: bigint): bigint {
  const dp = degree(p);
  let out = a;
  for (let i = degree(a) - dp; i >= 0; i--) if ((out >> BigInt(i + dp)) & 1n) out ^= p << BigInt(i);
  return out;
}

/** go-rabin's push and pop tables for Poly64 and the window, split into 32-bit halves for fast rolling. */
const TABLES = (() => {
  const deg = degree(POLY64);
  const pushHi = new Uint32Array(256);
  const pushLo = new Uint32Array(256);
  const popHi = new Uint32Array(256);
  const popLo = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    const f = BigInt(i) << BigInt(deg);
    const push = (f ^ polyMod(f, POLY64)) & MASK64;
    const pop = polyMod(BigInt(i) << BigInt((PEER_CHUNKER.window - 1) * 8), POLY64);
    pushHi[i] = Number(push >> 32n);
    pushLo[i] = Number(push & 0xffffffffn);
    popHi[i] = Number(pop >> 32n);
    popLo[i] = Number(pop & 0xffffffffn);
  }
  return { pushHi, pushLo, popHi, popLo, shift: deg - 8 };
})();

/**
 * Block sizes of a file as app-builder cuts it. The rolling hash over the last 64 bytes does not depend on where a
 * chunk started (pop of a zero byte is zero), so one hash runs over the whole file and only the min/max rule restarts.
 */
export async function peerChunkSizes(file: string): Promise<number[]> {
  const { pushHi, pushLo, popHi, popLo } = TABLES;
  const topShift = TABLES.shift - 32; // the top byte sits in the high half
  const mask = PEER_CHUNKER.avg - 1;
  const win = new Uint8Array(PEER_CHUNKER.window);
  let hi = 0;
  let lo = 0;
  let pos = 0; // bytes hashed in total
  let chunkStart = 0;
  const sizes: number[] = [];
  for await (const piece of fs.createReadStream(file, { highWaterMark: 1 << 20 })) {
    const buf = piece as Buffer;
    for (let i = 0; i < buf.length; i++) {
      const push = buf[i]!;
      const slot = pos % PEER_CHUNKER.window;
      const pop = win[slot]!;
      win[slot] = push;
      hi ^= popHi[pop]!;
      lo ^= popLo[pop]!;
      const top = (hi >>> topShift) & 0xff;
      hi = (((hi << 8) | (lo >>> 24)) ^ pushHi[top]!) >>> 0;
      lo = (((lo << 8) | push) ^ pushLo[top]!) >>> 0;
      pos++;
      const length = pos - chunkStart;
      if ((length >= PEER_CHUNKER.min && (lo & mask) === mask) || length >= PEER_CHUNKER.max) {
        sizes.push(length);
        chunkStart = pos;
      }
    }
  }
  if (pos > chunkStart) sizes.push(pos - chunkStart);
  return sizes;
}

export interface PeerBlockMap {
  version: '2';
  files: Array<{ name: string; offset: number; checksums: string[]; sizes: number[] }>;
}

/** The block map of `file` in electron-builder's format; written gzipped to `out` when given. */
export async function peerBlockMap(file: string, out?: string): Promise<PeerBlockMap> {
  const sizes = await peerChunkSizes(file);
  const checksums: string[] = [];
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(PEER_CHUNKER.max);
    let offset = 0;
    for (const size of sizes) {
      fs.readSync(fd, buf, 0, size, offset);
      checksums.push(createHash('sha256').update(buf.subarray(0, size)).digest().subarray(0, 18).toString('base64'));
      offset += size;
    }
  } finally {
    fs.closeSync(fd);
  }
  const map: PeerBlockMap = { version: '2', files: [{ name: 'file', offset: 0, checksums, sizes }] };
  if (out) fs.writeFileSync(out, gzipSync(JSON.stringify(map), { level: 9 }));
  return map;
}

/** electron-updater's HTTP executor under plain Node (its Electron one uses `net`). */
class NodeExecutor extends HttpExecutor<http.ClientRequest> {
  createRequest(options: http.RequestOptions, callback: (response: http.IncomingMessage) => void): http.ClientRequest {
    const request = http.request(options);
    request.on('response', callback);
    return request;
  }
}

export interface PeerDownload {
  /** Base URL of the peer's feed folder (ends in "/"). */
  feedUrl: string;
  /** The installed version's package (electron-updater's cached previous installer). */
  oldFile: string;
  /** Its block map as electron-updater cached it after the previous update (current.blockmap). */
  oldBlockMap: PeerBlockMap;
  newName: string;
  newFile: string;
  size: number;
  sha512: string;
}

/**
 * What electron-updater does for a differential update: download the new version's block map, plan COPY/DOWNLOAD
 * operations against the old one, fetch the DOWNLOAD ranges and copy the rest from the old file, check SHA-512.
 */
export async function peerDifferentialDownload(p: PeerDownload): Promise<void> {
  const executor = new NodeExecutor();
  const cancellationToken = new CancellationToken();
  const blockMapUrl = new URL(`${p.newName}.blockmap`, p.feedUrl);
  const data = await executor.downloadToBuffer(blockMapUrl, { headers: {}, cancellationToken });
  const newBlockMap = JSON.parse(gunzipSync(data).toString()) as PeerBlockMap;
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const downloader = new GenericDifferentialDownloader({ size: p.size, sha512: p.sha512 } as never, executor, {
    newUrl: new URL(p.newName, p.feedUrl),
    oldFile: p.oldFile,
    newFile: p.newFile,
    logger: quiet,
    // The feed server answers single ranges; multi-range requests would move the same block bytes in fewer requests.
    isUseMultipleRangeRequest: false,
    requestHeaders: null,
    cancellationToken,
  });
  await downloader.download(p.oldBlockMap as never, newBlockMap as never);
}
