/**
 * A static HTTP server on 127.0.0.1 for a feed folder: the embedded demo serves its local feed with it (the feed
 * configuration takes http(s) URLs only), and the browser tests serve the renderer and feeds with it. Range requests
 * are answered (resume), paths cannot leave the folder, and an optional rate limit for packages makes the download
 * progress visible. Every request is recorded.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { requestPath } from '../../authoring/feedServer';

export interface ServedFolder {
  url: string;
  origin: string;
  requests: string[];
  close(): Promise<void>;
}

export interface ServeOptions {
  /** Bytes per second for files matching `throttle` (default: unlimited). */
  bytesPerSecond?: number;
  throttle?: RegExp;
  /** Extra response headers for every answer (the tests send the windows' CSP as a header too). */
  headers?: Record<string, string>;
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.mjs': 'text/javascript; charset=utf-8', '.json': 'application/json', '.yml': 'text/yaml', '.png': 'image/png', '.map': 'application/json' };

export async function serveFolder(dir: string, options: ServeOptions = {}): Promise<ServedFolder> {
  const root = path.resolve(dir);
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const pathname = requestPath(req);
    requests.push(`${req.method} ${pathname ?? req.url}`);
    if (pathname === null) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('malformed URL');
      return;
    }
    const file = path.join(root, pathname);
    if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const size = fs.statSync(file).size;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '');
    const start = range ? Number(range[1]) : 0;
    const end = range && range[2] ? Number(range[2]) : size - 1;
    const headers = { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'accept-ranges': 'bytes', 'cache-control': 'no-store', 'content-length': String(end - start + 1), ...options.headers };
    res.writeHead(range ? 206 : 200, range ? { ...headers, 'content-range': `bytes ${start}-${end}/${size}` } : headers);
    if (req.method === 'HEAD') return void res.end();
    const stream = fs.createReadStream(file, { start, end, highWaterMark: 64 * 1024 });
    if (!options.bytesPerSecond || !options.throttle?.test(file)) return void stream.pipe(res);
    const perChunkMs = ((64 * 1024) / options.bytesPerSecond) * 1000;
    stream.on('data', (chunk) => {
      stream.pause();
      res.write(chunk);
      setTimeout(() => stream.resume(), perChunkMs);
    });
    stream.on('end', () => res.end());
    res.on('close', () => stream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${origin}/`,
    origin,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
