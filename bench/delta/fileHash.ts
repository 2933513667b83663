/** SHA-512 (base64) of a file, read in 1 MiB pieces so a 200 MB package never sits in memory. */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';

export function fileSha512(file: string): string {
  const h = createHash('sha512');
  const fd = fs.openSync(file, 'r');
  const buf = Buffer.alloc(1 << 20);
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) h.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return h.digest('base64');
}
