/**
 * Streaming extraction of a portable .tar.gz (or plain .tar) into a folder, hashing the raw bytes on the way. The
 * privileged side only ever extracts from its own sealed copy whose SHA-512 and size it has already checked
 * (package.ts); the same reader pre-scans that copy for the space the tree needs. Formats: ustar, pax
 * (path/linkpath/size), GNU long names.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as zlib from 'node:zlib';
import { LockstepError } from '../../contract/errors';
import { EntryGuard, safeMode } from './safePath';

const BLOCK = 512;

interface Header {
  name: string;
  mode: number;
  size: number;
  type: string;
  linkName: string;
}

function text(buf: Buffer, start: number, len: number): string {
  const slice = buf.subarray(start, start + len);
  const nul = slice.indexOf(0);
  return slice.subarray(0, nul < 0 ? len : nul).toString('utf8');
}

function octal(buf: Buffer, start: number, len: number): number {
  if (buf[start]! & 0x80) {
    let value = 0; // base-256 (GNU) for sizes ≥ 8 GiB
    for (let i = start + 1; i < start + len; i++) value = value * 256 + buf[i]!;
    return value;
  }
  const s = text(buf, start, len).trim();
  return s ? parseInt(s, 8) : 0;
}

function parseHeader(block: Buffer): Header | null {
  if (block.every((b) => b === 0)) return null;
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
  if (sum !== octal(block, 148, 8)) throw bad('a header checksum does not match');
  const prefix = text(block, 345, 155);
  const name = text(block, 0, 100);
  return {
    name: prefix && text(block, 257, 5) === 'ustar' ? `${prefix}/${name}` : name,
    mode: octal(block, 100, 8),
    size: octal(block, 124, 12),
    type: String.fromCharCode(block[156] || 48),
    linkName: text(block, 157, 100),
  };
}

function parsePax(data: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(32, pos);
    const len = parseInt(data.subarray(pos, space).toString('ascii'), 10);
    if (!(len > 0) || space < 0) break;
    const record = data.subarray(space + 1, pos + len - 1).toString('utf8');
    const eq = record.indexOf('=');
    out[record.slice(0, eq)] = record.slice(eq + 1);
    pos += len;
  }
  return out;
}

function bad(why: string): LockstepError {
  return new LockstepError('E_INSTALL_FAILED', `The package is not a valid tar archive (${why}). Nothing was installed.`);
}

export interface ExtractResult {
  sha512: Buffer;
  files: number;
  bytes: number;
  /** Bytes read from the package file: what was hashed. */
  rawBytes: number;
}

/** What the reader does with each entry: `file` returns the descriptor its data goes to, or null to skip the data. */
interface TarVisitor {
  dir(name: string): void;
  link(name: string, linkName: string): void;
  file(name: string, mode: number, size: number): number | null;
}

/** Extracts `archive` into `dest` (which must exist and be empty), never following a link (safePath.ts). */
export async function extractTar(archive: string, dest: string): Promise<ExtractResult> {
  const guard = new EntryGuard(dest);
  let files = 0;
  const result = await readTar(archive, {
    dir(name) {
      if (guard.isRoot(name)) return;
      guard.mkdirs(guard.target(name).rel, name);
    },
    link(name, linkName) {
      guard.symlink(guard.target(name).rel, linkName, name);
    },
    file(name, mode) {
      const fd = guard.openFile(guard.target(name).rel, safeMode(mode, false), name);
      files++;
      return fd;
    },
  });
  guard.finish();
  return { ...result, files };
}

/** What an extraction needs at most, from the headers alone: data rounded up to blocks plus one block per entry, and one file per entry. */
export async function unpackedSizeOfTar(archive: string, blockSize = 4096): Promise<{ bytes: number; files: number }> {
  let bytes = 0;
  let files = 0;
  const round = (n: number): number => Math.ceil(n / blockSize) * blockSize;
  const count = (n: number): void => {
    bytes += n + blockSize;
    files++;
  };
  await readTar(archive, {
    dir: () => count(0),
    link: (_name, linkName) => count(round(linkName.length)),
    file: (_name, _mode, size) => {
      count(round(size));
      return null;
    },
  });
  return { bytes, files };
}

async function readTar(archive: string, visitor: TarVisitor): Promise<Omit<ExtractResult, 'files'>> {
  const hash = createHash('sha512');
  const raw = fs.createReadStream(archive, { highWaterMark: 1 << 20 });
  const gz = /\.t?gz$/i.test(archive);
  // gzip: hash the compressed bytes as they are read; plain tar: the bytes parsed are the file's bytes.
  let rawBytes = 0;
  if (gz) {
    raw.on('data', (chunk) => {
      hash.update(chunk as Buffer);
      rawBytes += (chunk as Buffer).length;
    });
  }
  const source: AsyncIterable<Buffer> = gz ? raw.pipe(zlib.createGunzip({ chunkSize: 1 << 20 })) : raw;
  let pending: Buffer = Buffer.alloc(0);
  let entry: (Header & { fd: number | null; left: number; pad: number }) | null = null;
  let meta: Buffer[] | null = null; // pax / GNU long-name payloads being collected
  let pax: Record<string, string> = {};
  let longName: string | null = null;
  let longLink: string | null = null;
  let bytes = 0;
  let ended = false;

  const openEntry = (h: Header): void => {
    const name = pax['path'] ?? longName ?? h.name;
    const linkName = pax['linkpath'] ?? longLink ?? h.linkName;
    const size = pax['size'] !== undefined ? Number(pax['size']) : h.size;
    pax = {};
    longName = longLink = null;
    if (!Number.isSafeInteger(size) || size < 0) throw bad(`entry "${name}" has an invalid size`);
    const pad = (BLOCK - (size % BLOCK)) % BLOCK;
    if (h.type === 'x' || h.type === 'g' || h.type === 'L' || h.type === 'K') {
      if (size > 1 << 20) throw bad(`a metadata entry of ${size} bytes`);
      meta = [];
      entry = { ...h, size, fd: null, left: size, pad };
      return;
    }
    let fd: number | null = null;
    if (h.type === '5') visitor.dir(name);
    else if (h.type === '2') visitor.link(name, linkName);
    else if (h.type === '0' || h.type === '7') fd = visitor.file(name, h.mode, size);
    else throw bad(`entry "${name}" has the unsupported type "${h.type}" (hard links and devices are refused)`);
    // Data of a folder or link entry (there should be none) is skipped, never parsed as headers.
    entry = { ...h, name, size, fd, left: size, pad };
    if (entry.left === 0) finishEntry();
  };

  const finishEntry = (): void => {
    const e = entry!;
    if (e.fd !== null) fs.closeSync(e.fd);
    e.fd = null;
    if (meta) {
      const data = Buffer.concat(meta);
      if (e.type === 'x') pax = parsePax(data);
      else if (e.type === 'L') longName = text(data, 0, data.length);
      else if (e.type === 'K') longLink = text(data, 0, data.length);
      meta = null;
    }
  };

  try {
    for await (const chunk of source) {
      if (!gz) {
        hash.update(chunk);
        rawBytes += chunk.length;
      }
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      let pos = 0;
      while (!ended) {
        const e = entry as (Header & { fd: number | null; left: number; pad: number }) | null;
        if (e && e.left > 0) {
          const n = Math.min(e.left, pending.length - pos);
          if (n === 0) break;
          const part = pending.subarray(pos, pos + n);
          if (e.fd !== null) fs.writeSync(e.fd, part);
          else (meta as Buffer[] | null)?.push(Buffer.from(part));
          bytes += e.fd !== null ? n : 0;
          e.left -= n;
          pos += n;
          if (e.left === 0) finishEntry();
          continue;
        }
        if (e && e.pad > 0) {
          const n = Math.min(e.pad, pending.length - pos);
          if (n === 0) break;
          e.pad -= n;
          pos += n;
          continue;
        }
        entry = null;
        if (pending.length - pos < BLOCK) break;
        const header = parseHeader(pending.subarray(pos, pos + BLOCK));
        pos += BLOCK;
        if (!header) ended = true;
        else openEntry(header);
      }
      pending = pending.subarray(pos);
      if (ended) pending = Buffer.alloc(0);
    }
  } catch (err) {
    const e = entry as { fd: number | null } | null;
    if (e?.fd !== null && e?.fd !== undefined) fs.closeSync(e.fd);
    raw.destroy();
    if (err instanceof LockstepError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'Z_BUF_ERROR' || code === 'Z_DATA_ERROR') throw bad('the compressed data is truncated or damaged');
    throw err;
  }
  if (!ended || (entry as { left: number } | null)?.left) throw bad('it ends before its end marker');
  return { sha512: hash.digest(), bytes, rawBytes };
}
