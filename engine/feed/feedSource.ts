/**
 * Where a feed's files come from (S21: a feed is static files on any HTTP server, folder or share), behind one
 * interface. feedSourceFor() looks at the feed's URL once, when the feed context is composed; the catalog check and
 * the resumable download then only call the source, never the URL's scheme.
 */
import type * as http from 'node:http';
import { LockstepError } from '../../contract/errors';
import { folderError, folderOf, getFolderFile, openFolderFile } from './folderSource';
import { FeedHttp, HttpStatusError, Response, hostOf } from './http';
import { PumpSource } from './pump';

/** One opened file: where it starts (0 = the whole file, a part file must be emptied) and its validator for resuming. */
export interface OpenedFile {
  from: number;
  etag: string | null;
  source: PumpSource;
}

export interface FeedSource {
  readonly kind: 'http' | 'folder';
  /** How messages name where the bytes come from: "host:port", or "folder /mnt/feed". */
  describe(url: URL): string;
  /** One read of a small document (the catalog); a matching If-None-Match answers status 304. */
  get(url: URL, conditional: http.OutgoingHttpHeaders, maxBytes?: number): Promise<Response>;
  /**
   * Opens `url` for a transfer that continues at `offset` when the file is still the one `etag` names; `restart`
   * empties the part file when the source turns out shorter than what is already here.
   */
  open(url: URL, offset: number, etag: string | null, signedSize: number, restart: () => Promise<void>): Promise<OpenedFile>;
  /** A failure said in the source's own terms: E_CONNECT naming the host, or the folder, that must be reachable. */
  translate(err: unknown, url: URL, what: string): LockstepError;
}

export function httpFeedSource(client: FeedHttp): FeedSource {
  return {
    kind: 'http',
    describe: (url) => hostOf(url),
    get: (url, conditional, maxBytes) => client.getOnce(url, conditional, maxBytes),
    // GET with `Range: bytes=N-` + If-Range when part of the file is here; 200, 206 and 416 are each handled.
    async open(url, offset, etag, _signedSize, restart) {
      const headers: Record<string, string> = offset > 0 ? { Range: `bytes=${offset}-`, ...(etag ? { 'If-Range': etag } : {}) } : {};
      const { req, res } = await client.open(url, headers);
      const status = res.statusCode ?? 0;
      if (status === 416 && offset > 0) {
        res.resume();
        await restart(); // the server has fewer bytes than we do: start over
        throw new HttpStatusError(503, url.href);
      }
      if (status >= 400) {
        res.resume();
        throw new HttpStatusError(status, url.href);
      }
      const contentRange = /^bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''));
      let from: number;
      if (status === 206 && contentRange && Number(contentRange[1]) === offset) from = offset;
      else if (status === 200) from = 0;
      else {
        res.destroy();
        throw new HttpStatusError(502, url.href);
      }
      const stop = () => {
        req.destroy();
        res.destroy();
      };
      return { from, etag: typeof res.headers.etag === 'string' ? res.headers.etag : null, source: { stream: res, stop } };
    },
    translate: (err, url, what) => client.translate(err, url, what),
  };
}

/** A feed folder or file share: the same conditional reads and resumes, judged by size + mtime like an ETag. */
export const folderFeedSource: FeedSource = {
  kind: 'folder',
  describe: (url) => `folder ${folderOf(url)}`,
  get: (url, conditional, maxBytes = 32 * 1024 * 1024) => getFolderFile(url, conditional as Record<string, unknown>, maxBytes),
  open: (url, offset, etag, signedSize) => openFolderFile(url, offset, etag, signedSize),
  translate: (err, url, what) => folderError(err, url, what),
};

/** The one place that looks at a feed URL's scheme: file: is a folder or share, anything else the HTTP client. */
export function feedSourceFor(feedUrl: string | URL, client: FeedHttp): FeedSource {
  return new URL(feedUrl).protocol === 'file:' ? folderFeedSource : httpFeedSource(client);
}

