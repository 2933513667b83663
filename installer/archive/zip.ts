/**
 * Extraction of a portable .zip (electron-builder's mac and Windows zips). Zip needs random access, so the caller
 * extracts from a sealed copy whose hash it checked (see package.ts). Stored and deflated entries, CRC-checked;
 * Unix modes and symbolic links from the "made by Unix" attribute; zip64 archives are refused with a clear error.
 */
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { LockstepError } from '../../contract/errors';
import { EntryGuard, safeMode } from './safePath';
import { ExtractResult } from './tar';

interface CentralEntry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  unixMode: number;
  localOffset: number;
}

function bad(why: string): LockstepError {
  return new LockstepError('E_INSTALL_FAILED', `The package is not a valid zip archive (${why}). Nothing was installed.`);
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const n = fs.readSync(fd, buf, 0, length, position);
  if (n !== length) throw bad('it is truncated');
  return buf;
}

function centralDirectory(fd: number, fileSize: number): CentralEntry[] {
  const tailLen = Math.min(fileSize, 22 + 0xffff);
  const tail = readAt(fd, fileSize - tailLen, tailLen);
  const eocd = tail.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw bad('no end-of-directory record');
  const count = tail.readUInt16LE(eocd + 10);
  const cdSize = tail.readUInt32LE(eocd + 12);
  const cdOffset = tail.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdOffset === 0xffffffff) throw bad('zip64 archives are not supported');
  const cd = readAt(fd, cdOffset, cdSize);
  const entries: CentralEntry[] = [];
  let pos = 0;
  for (let i = 0; i < count; i++) {
    if (cd.readUInt32LE(pos) !== 0x02014b50) throw bad('a damaged central directory');
    const madeBy = cd.readUInt16LE(pos + 4) >> 8;
    const flags = cd.readUInt16LE(pos + 8);
    if (flags & 0x1) throw bad('encrypted entries');
    const nameLen = cd.readUInt16LE(pos + 28);
    const extraLen = cd.readUInt16LE(pos + 30);
    const commentLen = cd.readUInt16LE(pos + 32);
    entries.push({
      name: cd.subarray(pos + 46, pos + 46 + nameLen).toString('utf8'),
      method: cd.readUInt16LE(pos + 10),
      crc: cd.readUInt32LE(pos + 16),
      compressedSize: cd.readUInt32LE(pos + 20),
      size: cd.readUInt32LE(pos + 24),
      unixMode: madeBy === 3 ? cd.readUInt32LE(pos + 38) >>> 16 : 0,
      localOffset: cd.readUInt32LE(pos + 42),
    });
    pos += 46 + nameLen + extraLen + commentLen;
  }
  return entries;
}

async function writeEntry(archive: string, fd: number, e: CentralEntry, sink: (chunk: Buffer) => void): Promise<void> {
  const local = readAt(fd, e.localOffset, 30);
  if (local.readUInt32LE(0) !== 0x04034b50) throw bad(`entry "${e.name}" has no local header`);
  const start = e.localOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  if (e.compressedSize === 0) return;
  const raw = fs.createReadStream(archive, { start, end: start + e.compressedSize - 1, highWaterMark: 1 << 20 });
  let source: AsyncIterable<Buffer>;
  if (e.method === 0) source = raw;
  else if (e.method === 8) source = raw.pipe(zlib.createInflateRaw({ chunkSize: 1 << 20 }));
  else throw bad(`entry "${e.name}" uses compression method ${e.method}`);
  let crc = 0;
  let written = 0;
  for await (const chunk of source) {
    crc = zlib.crc32(chunk, crc);
    written += chunk.length;
    // never more than the directory declares: the free-space check before extraction relies on these sizes
    if (written > e.size) throw bad(`entry "${e.name}" is larger than its directory says`);
    sink(chunk);
  }
  if (written !== e.size || crc >>> 0 !== e.crc >>> 0) throw bad(`entry "${e.name}" fails its CRC check`);
}

/** Extracts `archive` (a sealed copy) into `dest` (which must exist and be empty), never following a link (safePath.ts). */
export async function extractZip(archive: string, dest: string): Promise<Omit<ExtractResult, 'sha512' | 'rawBytes'>> {
  const fd = fs.openSync(archive, 'r');
  const guard = new EntryGuard(dest);
  let files = 0;
  let bytes = 0;
  try {
    for (const e of centralDirectory(fd, fs.fstatSync(fd).size)) {
      const isDir = e.name.endsWith('/') || (e.unixMode & 0o170000) === 0o040000;
      if (isDir && guard.isRoot(e.name)) continue;
      const { rel } = guard.target(e.name);
      if (isDir) {
        guard.mkdirs(rel, e.name);
        continue;
      }
      if ((e.unixMode & 0o170000) === 0o120000) {
        if (e.size > 4096) throw bad(`the link "${e.name}" has a target of ${e.size} bytes`);
        const parts: Buffer[] = []; // a link's target is the entry's content
        await writeEntry(archive, fd, e, (chunk) => parts.push(Buffer.from(chunk)));
        guard.symlink(rel, Buffer.concat(parts).toString('utf8'), e.name);
        continue;
      }
      const out = guard.openFile(rel, safeMode(e.unixMode, false), e.name);
      try {
        await writeEntry(archive, fd, e, (chunk) => fs.writeSync(out, chunk));
      } finally {
        fs.closeSync(out);
      }
      files++;
      bytes += e.size;
    }
    guard.finish();
  } finally {
    fs.closeSync(fd);
  }
  return { files, bytes };
}

/** What an extraction needs at most, from the central directory: sizes rounded up to blocks plus one block per entry, and one file per entry. */
export function unpackedSizeOfZip(archive: string, blockSize = 4096): { bytes: number; files: number } {
  const fd = fs.openSync(archive, 'r');
  try {
    const entries = centralDirectory(fd, fs.fstatSync(fd).size);
    return { bytes: entries.reduce((need, e) => need + Math.ceil(e.size / blockSize) * blockSize + blockSize, 0), files: entries.length };
  } finally {
    fs.closeSync(fd);
  }
}
