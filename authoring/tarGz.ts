/**
 * A minimal ustar + gzip writer for the demo packages (regular files only), so the demo feed needs no `tar` binary
 * on any OS. The installer's own reader (installer/archive/tar.ts) is what checks these archives. The gzip is
 * rsyncable (rsyncableGzip.ts, cut at every entry and at content-defined points), so a release that changes a few
 * files changes only those stretches of the compressed package and a block-map delta stays small.
 */
import { rsyncableGzip } from './rsyncableGzip';

function header(name: string, size: number, mtime: number): Buffer {
  const h = Buffer.alloc(512);
  const put = (text: string, offset: number, length: number) => h.write(text, offset, length, 'utf8');
  const octal = (n: number, length: number) => n.toString(8).padStart(length - 1, '0') + '\0';
  put(name, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(mtime, 12), 136, 12);
  put('        ', 148, 8); // checksum field counts as spaces while summing
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return h;
}

/** Files (relative path → bytes) as a .tar.gz buffer. */
export function tarGz(files: Record<string, Buffer | string>, mtime = new Date()): Buffer {
  const entries: Buffer[] = [];
  const secs = Math.floor(mtime.getTime() / 1000);
  for (const [name, content] of Object.entries(files)) {
    if (name.length > 99 || name.startsWith('/') || name.split('/').includes('..')) throw new Error(`Unsupported tar entry name: ${name}`);
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8');
    entries.push(Buffer.concat([header(name, data.length, secs), data, Buffer.alloc((512 - (data.length % 512)) % 512)]));
  }
  entries.push(Buffer.alloc(1024));
  return rsyncableGzip(entries);
}
