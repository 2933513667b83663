/**
 * A real HTTP server on 127.0.0.1 serving a feed folder the vendor code generated, with faults put in front of the
 * product's own static handler (authoring/feedServer.ts): drop the connection halfway, answer 5xx, hang,
 * send more bytes than signed, flip a byte. Every request is logged with its headers so tests can assert what left
 * the workstation (Range, conditional headers, the licence header and nothing else identifying).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { serveFeedFile } from '../../authoring/feedServer';
import { etagOf } from '../../engine/feed/etag';

export interface LoggedRequest {
  method: string;
  name: string;
  headers: http.IncomingHttpHeaders;
  status: number;
}

/** Takes over a request when it returns true. `n` counts requests for that file name so far (1-based). */
export type Fault = (req: http.IncomingMessage, res: http.ServerResponse, name: string, n: number) => boolean;

export class TestFeedServer {
  readonly log: LoggedRequest[] = [];
  fault: Fault | null = null;
  private server: http.Server | null = null;
  private readonly counts = new Map<string, number>();
  private readonly sockets = new Set<import('node:net').Socket>();
  url = '';

  /** With `tls` (key + certificate, PEM) the same server speaks HTTPS. */
  constructor(
    readonly dir: string,
    private readonly tls?: { key: string; cert: string },
  ) {}

  async start(): Promise<this> {
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
      const name = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname.replace(/^\/+/, ''));
      const n = (this.counts.get(name) ?? 0) + 1;
      this.counts.set(name, n);
      const entry: LoggedRequest = { method: req.method ?? 'GET', name, headers: req.headers, status: 0 };
      this.log.push(entry);
      const writeHead = res.writeHead.bind(res);
      res.writeHead = ((code: number, ...rest: unknown[]) => {
        entry.status = code;
        return (writeHead as (...a: unknown[]) => http.ServerResponse)(code, ...rest);
      }) as typeof res.writeHead;
      if (this.fault?.(req, res, name, n)) return;
      if (!serveFeedFile(this.dir, req, res)) res.writeHead(404).end();
    };
    this.server = this.tls ? https.createServer(this.tls, handler) : http.createServer(handler);
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `${this.tls ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    return this;
  }

  requestsFor(name: string): LoggedRequest[] {
    return this.log.filter((r) => r.name === name);
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
  }

  file(name: string): Buffer {
    return fs.readFileSync(path.join(this.dir, name));
  }
}

/** Builds fault helpers bound to one server (they need its folder). */
export function faults(server: TestFeedServer) {
  const read = (name: string) => server.file(name);
  const etag = (name: string) => etagOf(fs.statSync(path.join(server.dir, name)));
  return {
    /** Sends `bytes` of the file with the full Content-Length, then cuts the connection. */
    dropAfter(target: string, bytes: number, times = 1): Fault {
      return (_req, res, name, n) => {
        if (name !== target || n > times) return false;
        const data = read(name);
        res.writeHead(200, { 'Content-Length': data.length, ETag: etag(name), 'Accept-Ranges': 'bytes' });
        res.write(data.subarray(0, bytes), () => setTimeout(() => res.socket?.destroy(), 20));
        return true;
      };
    },
    /** Answers `status` to the first `times` requests for the file. */
    status(target: string, status: number, times = Infinity): Fault {
      return (_req, res, name, n) => {
        if (name !== target || n > times) return false;
        res.writeHead(status).end('unavailable');
        return true;
      };
    },
    /** Accepts the request and never answers. */
    hang(target: string): Fault {
      return (_req, _res, name) => name === target;
    },
    /** Sends the file followed by `extra` junk bytes, with a Content-Length covering both. */
    extraBytes(target: string, extra: number): Fault {
      return (_req, res, name) => {
        if (name !== target) return false;
        const data = Buffer.concat([read(name), Buffer.alloc(extra, 0x41)]);
        res.writeHead(200, { 'Content-Length': data.length });
        res.end(data);
        return true;
      };
    },
    /** Serves the file with one byte flipped at `offset`. */
    flipByte(target: string, offset: number): Fault {
      return (_req, res, name) => {
        if (name !== target) return false;
        const data = Buffer.from(read(name));
        data[offset] = data[offset]! ^ 0xff;
        res.writeHead(200, { 'Content-Length': data.length });
        res.end(data);
        return true;
      };
    },
    /** Sends `bytes`, then stalls with the connection open (a process can be killed mid-transfer). */
    stallAfter(target: string, bytes: number): Fault {
      return (req, res, name) => {
        if (name !== target || req.headers.range) return false;
        const data = read(name);
        res.writeHead(200, { 'Content-Length': data.length, ETag: etag(name) });
        res.write(data.subarray(0, bytes));
        return true;
      };
    },
  };
}
