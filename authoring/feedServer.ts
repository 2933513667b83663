/**
 * A static HTTP server for a feed folder (S21: a feed is static files on any HTTP server): `lockstep feed serve` for
 * demos and small sites, and the base the tests put their faults in front of. It answers GET/HEAD for plain file
 * names only, with ETag / Last-Modified (conditional requests get 304) and single Range requests (206), which is all
 * electron-updater and Lockstep's resumable download need.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { isPlainName } from '../kernel/catalogSchema';
import { etagOf } from '../engine/feed/etag';

const TYPES: Record<string, string> = { '.json': 'application/json', '.yml': 'text/yaml; charset=utf-8' };

/**
 * The path of a request decoded, or null when it is malformed: a broken percent escape (decodeURIComponent throws,
 * and a throw in a request handler would end the whole server) or a control character such as %00.
 */
export function requestPath(req: http.IncomingMessage): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  } catch {
    return null;
  }
  // eslint-disable-next-line no-control-regex
  return /[\u0000-\u001f\u007f]/.test(decoded) ? null : decoded;
}

/**
 * Serves one request from `dir`; returns false when the name is not a plain file in it (the caller answers 404). A
 * malformed path is answered 400 here.
 */
export function serveFeedFile(dir: string, req: http.IncomingMessage, res: http.ServerResponse): boolean {
  const decoded = requestPath(req);
  if (decoded === null) {
    res.writeHead(400, { 'Content-Type': 'text/plain; charset=utf-8' }).end('malformed URL');
    return true;
  }
  const name = decoded.replace(/^\/+/, '');
  if (!isPlainName(name)) return false;
  const file = path.join(dir, name);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return false;
  }
  if (!stat.isFile()) return false;
  const etag = etagOf(stat);
  const lastModified = stat.mtime.toUTCString();
  const base = { ETag: etag, 'Last-Modified': lastModified, 'Accept-Ranges': 'bytes', 'Content-Type': TYPES[path.extname(name)] ?? 'application/octet-stream' };
  if (req.headers['if-none-match'] === etag || (!req.headers['if-none-match'] && req.headers['if-modified-since'] === lastModified)) {
    res.writeHead(304, base).end();
    return true;
  }
  const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers.range ?? ''));
  const ifRange = req.headers['if-range'];
  if (range && (!ifRange || ifRange === etag)) {
    const start = Number(range[1]);
    const end = range[2] ? Math.min(Number(range[2]), stat.size - 1) : stat.size - 1;
    if (start >= stat.size || start > end) {
      res.writeHead(416, { ...base, 'Content-Range': `bytes */${stat.size}` }).end();
      return true;
    }
    res.writeHead(206, { ...base, 'Content-Range': `bytes ${start}-${end}/${stat.size}`, 'Content-Length': end - start + 1 });
    if (req.method === 'HEAD') res.end();
    else fs.createReadStream(file, { start, end, highWaterMark: 1024 * 1024 }).pipe(res);
    return true;
  }
  res.writeHead(200, { ...base, 'Content-Length': stat.size });
  if (req.method === 'HEAD') res.end();
  else fs.createReadStream(file, { highWaterMark: 1024 * 1024 }).pipe(res);
  return true;
}

export function createFeedServer(dir: string): http.Server {
  return http.createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405).end();
      return;
    }
    if (!serveFeedFile(dir, req, res)) res.writeHead(404).end();
  });
}
