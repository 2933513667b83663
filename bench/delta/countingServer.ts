/**
 * A feed folder served on 127.0.0.1 by Lockstep's own static server (authoring/feedServer.ts), counting the body bytes
 * it sends: what a site's Internet link would carry. Bytes are split into the packages, their block maps and the
 * rest (catalog, manifests, update info), and requests are counted.
 */
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import { serveFeedFile } from '../../authoring/feedServer';

export interface ServedBytes {
  package: number;
  blockMap: number;
  other: number;
  requests: number;
}

export interface CountingServer {
  url: string;
  counted(): ServedBytes;
  reset(): void;
  close(): Promise<void>;
}

const PACKAGE = /\.(tar\.gz|zip|AppImage)$/;

export async function countingServer(feedDir: string): Promise<CountingServer> {
  let bytes: ServedBytes = { package: 0, blockMap: 0, other: 0, requests: 0 };
  const server = http.createServer((req, res) => {
    bytes.requests++;
    const name = new URL(req.url ?? '/', 'http://x').pathname;
    const kind: keyof ServedBytes = PACKAGE.test(name) ? 'package' : /blockmap/i.test(name) ? 'blockMap' : 'other';
    const count = (chunk: unknown) => {
      if (chunk && typeof chunk !== 'function') bytes[kind] += Buffer.isBuffer(chunk) ? chunk.length : Buffer.byteLength(String(chunk));
    };
    const write = res.write.bind(res);
    const end = res.end.bind(res);
    res.write = ((chunk: unknown, ...rest: never[]) => (count(chunk), write(chunk as Buffer, ...rest))) as typeof res.write;
    res.end = ((chunk: unknown, ...rest: never[]) => (count(chunk), end(chunk as Buffer, ...rest))) as typeof res.end;
    if (!serveFeedFile(feedDir, req, res)) res.writeHead(404).end();
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    counted: () => ({ ...bytes }),
    reset: () => (bytes = { package: 0, blockMap: 0, other: 0, requests: 0 }),
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}
