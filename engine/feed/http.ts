/**
 * HTTP for the feed under plain Node: one place that opens requests, so the header policy (S4: the licence number is
 * the only identifying header), the explicit proxy with authentication (S12), time-outs, bounded retries with
 * back-off and the E_CONNECT error that names the address that must be reachable (S11) hold for the catalog check,
 * electron-updater's requests and the resumable download alike. In Electron the system proxy applies through the net
 * stack instead (electron/adapters); this file is the Node path.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { LockstepError, isLockstepError } from '../../contract/errors';
import { Logger } from '../../kernel/log';
import type { TransferPaceSettings } from '../../kernel/feedConfig';

export interface ProxySettings {
  /** http://host:port */
  url: string;
  username?: string;
  /** From the OS keychain; never from a file, an environment variable or a command line. */
  password?: string;
}

export interface FeedHttpOptions {
  /** Sent as X-Lockstep-License: the only thing that identifies this site to the vendor. */
  licenseNumber?: string | null;
  proxy?: ProxySettings | null;
  /**
   * Extra trusted CA certificates (PEM), e.g. a company CA that signs the internal feed server or re-signs traffic at
   * the proxy. Added to Node's built-in roots; certificate checks (chain, expiry, host name) stay on.
   */
  ca?: string | null;
  timeoutMs: number;
  /** Minimum rate and overall deadline of a package transfer (transferPace.ts); DEFAULT_PACE when not given. */
  pace?: TransferPaceSettings;
  retries: number;
  retryDelayMs: number;
  log?: Logger;
  /** Injected for fake timers in tests; defaults to setTimeout. */
  sleep?: (ms: number) => Promise<void>;
}

export const USER_AGENT = 'Lockstep';
export const LICENSE_HEADER = 'X-Lockstep-License';

/** Headers that may leave the workstation; everything else a library adds (e.g. electron-updater's staging id) is dropped. */
const ALLOWED_HEADERS = new Set(['accept', 'accept-encoding', 'cache-control', 'range', 'if-range', 'if-none-match', 'if-modified-since', 'content-type', 'content-length']);

export function sanitizeHeaders(headers: http.OutgoingHttpHeaders | undefined, licenseNumber: string | null | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined || !ALLOWED_HEADERS.has(k.toLowerCase())) continue;
    out[k] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  out['User-Agent'] = USER_AGENT;
  if (licenseNumber) out[LICENSE_HEADER] = licenseNumber;
  return out;
}

/** "host:port" as a person must allow it through a firewall. */
export function hostOf(url: URL): string {
  return `${url.hostname}:${url.port || (url.protocol === 'https:' ? '443' : '80')}`;
}

function proxyAuth(proxy: ProxySettings): string | undefined {
  return proxy.username ? `Basic ${Buffer.from(`${proxy.username}:${proxy.password ?? ''}`).toString('base64')}` : undefined;
}

/** TLS options every https connection of the feed uses: the built-in roots plus IT's CA file, when configured. */
export interface FeedTlsOptions {
  secureContext?: tls.SecureContext;
}

/** Opens a CONNECT tunnel through the proxy and hands the (TLS) socket to the request once it stands. */
function tunnel(proxy: ProxySettings, target: URL, timeoutMs: number, tlsOptions: FeedTlsOptions) {
  return (_opts: unknown, done: (err: Error | null, socket?: net.Socket) => void): undefined => {
    const p = new URL(proxy.url);
    const auth = proxyAuth(proxy);
    const req = http.request({ host: p.hostname, port: p.port || 80, method: 'CONNECT', path: hostOf(target), headers: auth ? { 'Proxy-Authorization': auth, Host: hostOf(target) } : { Host: hostOf(target) }, agent: false, timeout: timeoutMs });
    req.once('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        done(new ProxyRefused(res.statusCode ?? 0));
        return;
      }
      if (target.protocol !== 'https:') return done(null, socket);
      // `host` is what the certificate is checked against; SNI only carries names, never IP addresses (RFC 6066).
      done(null, tls.connect({ socket, host: target.hostname, servername: net.isIP(target.hostname) ? undefined : target.hostname, ...tlsOptions }));
    });
    req.once('timeout', () => req.destroy(new Error('proxy CONNECT timed out')));
    req.once('error', (err) => done(err));
    req.end();
    return undefined;
  };
}

class ProxyRefused extends Error {
  constructor(readonly status: number) {
    super(`the proxy answered ${status} to CONNECT`);
  }
}

/**
 * Builds the request options for a URL: direct, through a forwarding proxy (http targets: absolute URI + Proxy-
 * Authorization), or through a CONNECT tunnel (https targets). `agent: false` — no pooled sockets that a test server
 * or a proxy change would see reused.
 */
export function requestOptions(
  url: URL,
  method: string,
  headers: Record<string, string>,
  proxy: ProxySettings | null | undefined,
  timeoutMs: number,
  tlsOptions: FeedTlsOptions = {},
): { mod: typeof http | typeof https; options: https.RequestOptions } {
  const mod = url.protocol === 'https:' ? https : http;
  const base: https.RequestOptions = { method, headers: { ...headers }, agent: false, timeout: timeoutMs };
  if (!proxy) return { mod, options: { ...base, ...(url.protocol === 'https:' ? tlsOptions : {}), protocol: url.protocol, hostname: url.hostname, port: url.port || undefined, path: url.pathname + url.search } };
  if (url.protocol === 'http:') {
    const p = new URL(proxy.url);
    const auth = proxyAuth(proxy);
    return { mod: http, options: { ...base, protocol: 'http:', hostname: p.hostname, port: p.port || 80, path: url.href, headers: { ...base.headers, Host: url.host, ...(auth ? { 'Proxy-Authorization': auth } : {}) } } };
  }
  // https through CONNECT: the request itself speaks to the target over the tunnelled socket. No agent at all: Node
  // ignores createConnection when an agent is given (agent: false means a fresh default Agent, which dials directly).
  return { mod: http, options: { ...base, agent: undefined, hostname: url.hostname, port: url.port || 443, path: url.pathname + url.search, createConnection: tunnel(proxy, url, timeoutMs, tlsOptions) as never } };
}

export interface Response {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** OpenSSL's verdicts on a server certificate (untrusted, expired, wrong name): no retry makes them go away. */
export function certificateProblem(err: unknown): string | null {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ALTNAME/.test(code) ? code : null;
}

/** Whether a failure is worth another try: network errors, time-outs, 5xx; never 4xx, a bad certificate or signature. */
export function isTransient(err: unknown): boolean {
  if (err instanceof HttpStatusError) return err.status >= 500 || err.status === 408 || err.status === 429;
  if (isLockstepError(err) || certificateProblem(err)) return false;
  return true;
}

export class HttpStatusError extends Error {
  constructor(
    readonly status: number,
    readonly url: string,
  ) {
    super(`HTTP ${status} for ${url}`);
  }
}

export class FeedHttp {
  /** Built once: parsing the root store plus the CA file for every request would cost more than the request. */
  readonly tlsOptions: FeedTlsOptions;

  constructor(readonly options: FeedHttpOptions) {
    this.tlsOptions = options.ca ? { secureContext: tls.createSecureContext({ ca: [...tls.rootCertificates, options.ca] }) } : {};
  }

  headers(extra: http.OutgoingHttpHeaders = {}): Record<string, string> {
    return sanitizeHeaders(extra, this.options.licenseNumber);
  }

  /** Opens one request and resolves with the response head; the caller reads (or destroys) the body. */
  open(url: URL, extraHeaders: http.OutgoingHttpHeaders = {}, method = 'GET'): Promise<{ req: http.ClientRequest; res: http.IncomingMessage }> {
    const { mod, options } = requestOptions(url, method, this.headers(extraHeaders), this.options.proxy, this.options.timeoutMs, this.tlsOptions);
    return new Promise((resolve, reject) => {
      const req = mod.request(options, (res) => {
        res.setTimeout(this.options.timeoutMs, () => res.destroy(new Error(`no data for ${this.options.timeoutMs} ms`)));
        resolve({ req, res });
      });
      req.once('timeout', () => req.destroy(new Error(`no answer within ${this.options.timeoutMs} ms`)));
      req.once('error', reject);
      req.end();
    });
  }

  /**
   * GET into memory (small documents: the catalog), one attempt; 4xx/5xx except 304 become HttpStatusError. A folder
   * feed (file: URL, S21) is read from the folder with the same conditional semantics.
   */
  async getOnce(url: URL, extraHeaders: http.OutgoingHttpHeaders = {}, maxBytes = 32 * 1024 * 1024): Promise<Response> {
    const { res } = await this.open(url, extraHeaders);
    if ((res.statusCode ?? 0) >= 400) {
      res.resume();
      throw new HttpStatusError(res.statusCode ?? 0, url.href);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of res) {
      total += (chunk as Buffer).length;
      if (total > maxBytes) {
        res.destroy();
        throw new LockstepError('E_FEED_INVALID', `${url.href} is larger than ${maxBytes} bytes.`, { url: url.href });
      }
      chunks.push(chunk as Buffer);
    }
    if (!res.complete) throw new Error('the connection closed before the whole answer arrived');
    return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) };
  }

  /** Runs `attempt` with bounded retries and exponential back-off; transient failures end as E_CONNECT. */
  async withRetries<T>(
    url: URL,
    what: string,
    attempt: (n: number) => Promise<T>,
    madeProgress: () => boolean = () => false,
    translate: (err: unknown, url: URL, what: string) => LockstepError = (e, u, w) => this.translate(e, u, w),
  ): Promise<T> {
    let failures = 0;
    for (let n = 0; ; n++) {
      try {
        return await attempt(n);
      } catch (err) {
        if (!isTransient(err)) throw translate(err, url, what);
        // A transfer that moved forward before breaking starts a fresh count: the limit bounds consecutive failures.
        failures = madeProgress() ? 1 : failures + 1;
        if (failures > this.options.retries) throw translate(err, url, what);
        const delay = Math.min(this.options.retryDelayMs * 2 ** (failures - 1), 30_000);
        this.options.log?.warn('feed.retry', { url: url.href, what, attempt: n + 1, delayMs: delay, reason: (err as Error).message });
        await (this.options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms))))(delay);
      }
    }
  }

  translate(err: unknown, url: URL, what: string): LockstepError {
    if (isLockstepError(err)) return err;
    const proxy = this.options.proxy ? new URL(this.options.proxy.url) : null;
    const host = hostOf(url);
    const via = proxy ? ` through the proxy ${proxy.host}` : '';
    if (err instanceof ProxyRefused || (err instanceof HttpStatusError && err.status === 407)) {
      return new LockstepError('E_CONNECT', `The proxy ${proxy?.host ?? ''} refused to connect to ${host} (check the proxy user and its password in the OS keychain).`, { host, proxy: proxy?.host ?? null, url: url.href });
    }
    const cert = certificateProblem(err);
    if (cert) {
      return new LockstepError('E_CONNECT', `The certificate of the update server ${host} is not trusted (${cert}: ${(err as Error).message}); nothing was downloaded. If a company CA signs it, IT names that CA's certificate in feed.caFile.`, {
        host,
        url: url.href,
        tls: cert,
        ...(proxy ? { proxy: proxy.host } : {}),
      });
    }
    const reason = err instanceof HttpStatusError ? `HTTP ${err.status}` : (err as Error).message;
    return new LockstepError('E_CONNECT', `The update server ${host} could not be reached${via} while ${what} (${reason}); ${host} must be reachable from this workstation.`, {
      host,
      url: url.href,
      ...(proxy ? { proxy: proxy.host } : {}),
      ...(err instanceof HttpStatusError ? { status: err.status } : {}),
    });
  }
}
