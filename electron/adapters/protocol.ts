/**
 * The windows are served from lockstep://app/… (build/web) instead of file://: a standard, secure scheme gives the
 * pages a real origin (the handler table's sender check compares it), lets ES modules load, and carries the CSP as a
 * response header besides the pages' meta tag. Paths cannot leave the folder.
 */
import { Session, session } from 'electron';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const APP_ORIGIN = 'lockstep://app';
export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'none'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.css': 'text/css', '.js': 'text/javascript', '.mjs': 'text/javascript', '.map': 'application/json' };

export const LOCKSTEP_SCHEME = 'lockstep';

/**
 * Lockstep's windows live in a session of their own: the host app's windows keep the default session, its
 * permissions and its protocol handlers untouched, and Lockstep's pages are served only where its windows load.
 */
export const LOCKSTEP_PARTITION = 'lockstep';

export function lockstepSession(): Session {
  return session.fromPartition(LOCKSTEP_PARTITION);
}

export function serveWindows(webRoot: string): void {
  const root = path.resolve(webRoot);
  lockstepSession().protocol.handle(LOCKSTEP_SCHEME, async (request) => {
    const url = new URL(request.url);
    const file = path.join(root, decodeURIComponent(url.pathname));
    if (url.host !== 'app' || !file.startsWith(root + path.sep) || !fs.existsSync(file)) return new Response('not found', { status: 404 });
    return new Response(await fs.promises.readFile(file), { headers: { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'content-security-policy': CSP } });
  });
}

export function windowUrl(kind: string): string {
  return `${APP_ORIGIN}/renderer/${kind}.html`;
}
