/**
 * Archives written byte by byte, for entries no archiver would produce on purpose (a directory entry after a link of
 * the same name, link chains): ustar for tar, stored entries with Unix modes ("made by Unix") for zip.
 */
import * as zlib from 'node:zlib';

export type CraftedEntry =
  | { type: 'file'; name: string; content?: string | Buffer; mode?: number }
  | { type: 'dir'; name: string }
  | { type: 'link'; name: string; target: string };

function field(block: Buffer, offset: number, length: number, value: string): void {
  Buffer.from(value, 'utf8').copy(block, offset, 0, length);
}

function octalField(block: Buffer, offset: number, length: number, value: number): void {
  field(block, offset, length, value.toString(8).padStart(length - 1, '0') + '\0');
}

function tarHeader(e: CraftedEntry, size: number): Buffer {
  const block = Buffer.alloc(512);
  if (Buffer.byteLength(e.name) > 100) throw new Error(`crafted tar: name too long: ${e.name}`);
  field(block, 0, 100, e.name);
  octalField(block, 100, 8, e.type === 'dir' ? 0o755 : e.type === 'link' ? 0o777 : (e.mode ?? 0o644));
  octalField(block, 108, 8, 0);
  octalField(block, 116, 8, 0);
  octalField(block, 124, 12, size);
  octalField(block, 136, 12, 1_700_000_000);
  block.fill(' ', 148, 156);
  block[156] = (e.type === 'dir' ? '5' : e.type === 'link' ? '2' : '0').charCodeAt(0);
  if (e.type === 'link') field(block, 157, 100, e.target);
  field(block, 257, 6, 'ustar\0');
  field(block, 263, 2, '00');
  let sum = 0;
  for (const b of block) sum += b;
  field(block, 148, 8, sum.toString(8).padStart(6, '0') + '\0 ');
  return block;
}

/** A plain ustar archive of `entries`, in this order. */
export function craftTar(entries: readonly CraftedEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.type === 'file' ? Buffer.from(e.content ?? '') : Buffer.alloc(0);
    parts.push(tarHeader(e, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export function craftTarGz(entries: readonly CraftedEntry[]): Buffer {
  return zlib.gzipSync(craftTar(entries));
}

/** A zip of `entries` (stored, no compression), Unix modes in the external attributes. */
export function craftZip(entries: readonly CraftedEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = Buffer.from(e.type === 'dir' && !e.name.endsWith('/') ? `${e.name}/` : e.name, 'utf8');
    const data = e.type === 'file' ? Buffer.from(e.content ?? '') : e.type === 'link' ? Buffer.from(e.target) : Buffer.alloc(0);
    const mode = e.type === 'dir' ? 0o040755 : e.type === 'link' ? 0o120777 : 0o100000 | (e.mode ?? 0o644);
    const crc = zlib.crc32(data) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(10, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by Unix
    central.writeUInt16LE(10, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE((mode << 16) >>> 0, 38);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += 30 + name.length + data.length;
  }
  const cd = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(cd.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, cd, end]);
}
