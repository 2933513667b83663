/**
 * feed.url as IT writes it: an http(s) or file: URL, or a folder path. Kept in the kernel because the machine
 * configuration's schema validates it, below the engine that reads the feed.
 */
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

/** Only these schemes are URLs; anything else in feed.url is a folder path (C:\… and \\server\share\… included). */
const URL_SCHEME = /^(https?|file):/i;

/** feed.url as written by IT → the URL the engine uses: http(s) and file: URLs as they are, paths as file: URLs. */
export function feedUrlFromSetting(setting: string, base: string): string {
  if (URL_SCHEME.test(setting)) return setting;
  return pathToFileURL(path.resolve(base, setting)).href;
}

/** True for anything that is neither an http(s)/file: URL nor plausibly a path (e.g. ftp://…). */
export function isForeignUrl(setting: string): boolean {
  return /^[a-z][a-z0-9+.-]+:\/\//i.test(setting) && !URL_SCHEME.test(setting);
}
