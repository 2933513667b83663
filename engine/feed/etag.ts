/**
 * The validator of a feed file, as the static feed server sends it in ETag and the folder source compares it before
 * resuming a part file: size and modification time, so a replaced file never continues an old partial copy.
 */
import type * as fs from 'node:fs';

export function etagOf(stat: fs.Stats): string {
  return `"${stat.size.toString(16)}-${Math.floor(stat.mtimeMs).toString(16)}"`;
}
