/** Names that come from a feed or a manifest and end up in a path or a URL. */
import { z } from 'zod';

/**
 * A plain file name: no folders, no "..", nothing a file system or URL would read as a path. Downloads are named by
 * the feed, so a name like "../../x" must never reach a request or a path.join.
 */
export const PLAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._+()-]{0,199}$/;

export function isPlainName(name: string): boolean {
  return PLAIN_NAME.test(name) && !name.includes('..') && !name.endsWith('.') && !name.endsWith(' ');
}

export const plainName = z.string().refine(isPlainName, { message: 'is not a plain file name' });
