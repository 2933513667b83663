/**
 * A site's package store on a web server, for real: a folder served over HTTP or HTTPS on 127.0.0.1 by the static
 * feed server (ETag, single ranges), recording every request with its Range header. `cutAfter` makes each package
 * GET send at most that many bytes and then drop the connection — a flaky site network — so resuming can be seen.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { AddressInfo } from 'node:net';
import { serveFeedFile } from '../../../authoring/feedServer';

export interface StoreServer {
  url: string;
  /** `GET /name bytes=N-` (or `GET /name` without a range). */
  requests: string[];
  /** Bytes of package files sent. */
  bytesSent(): number;
  close(): Promise<void>;
}

export async function startStoreServer(dir: string, o: { tls?: { key: string; cert: string }; cutAfter?: number } = {}): Promise<StoreServer> {
  const requests: string[] = [];
  let sent = 0;
  const sockets = new Set<import('node:net').Socket>();
  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    requests.push(`${req.method} ${req.url}${req.headers.range ? ` ${req.headers.range}` : ''}`);
    const isPackage = /\.tar\.gz$/.test(req.url ?? '');
    if (isPackage) {
      const write = res.write.bind(res) as (chunk: Buffer) => boolean;
      let budget = o.cutAfter ?? Infinity;
      // Count what leaves, and cut the connection once the budget is spent (headers already promised more).
      res.write = ((chunk: Buffer) => {
        const part = chunk.subarray(0, Math.max(0, Math.min(chunk.length, budget)));
        budget -= part.length;
        sent += part.length;
        const ok = part.length ? write(part) : true;
        if (budget <= 0) setImmediate(() => res.socket?.destroy());
        return ok;
      }) as typeof res.write;
    }
    if (!serveFeedFile(dir, req, res)) res.writeHead(404).end();
  };
  const server = o.tls ? https.createServer({ key: o.tls.key, cert: o.tls.cert }, handler) : http.createServer(handler);
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${o.tls ? 'https' : 'http'}://127.0.0.1:${port}/`,
    requests,
    bytesSent: () => sent,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** The same file with one byte changed in its middle: same name, same size, not what the vendor signed. */
export function tamperedCopy(source: string, target: string): void {
  const bytes = fs.readFileSync(source);
  bytes[bytes.length >> 1] = (bytes[bytes.length >> 1]! + 1) & 0xff;
  fs.writeFileSync(target, bytes);
}
