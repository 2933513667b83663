/**
 * builder-util-runtime's HttpExecutor for plain Node, as ARCHITECTURE.md describes: `createRequest` opens requests
 * through FeedHttp's options (header policy, proxy, `agent: false`), and `download()` — which electron-updater calls
 * with the file URL, its temporary destination and the expected SHA-512 — runs Lockstep's resumable transfer instead
 * of builder-util-runtime's single-shot pipe, so a broken transfer continues with a Range request and never grows
 * past the signed size.
 */
import * as http from 'node:http';
import { DownloadOptions, HttpExecutor } from 'builder-util-runtime';
import { LockstepError } from '../../contract/errors';
import { FeedHttp, requestOptions } from './http';
import { ResumableDownloader } from './resumableDownload';

export class LockstepHttpExecutor extends HttpExecutor<http.ClientRequest> {
  /** Signed sizes by SHA-512: electron-updater does not pass the size to download(), the signed manifest does. */
  private readonly signedSizes = new Map<string, number>();

  constructor(
    private readonly http: FeedHttp,
    private readonly downloader: ResumableDownloader,
  ) {
    super();
  }

  expect(sha512: string, size: number): void {
    this.signedSizes.set(sha512, size);
  }

  override createRequest(options: http.RequestOptions, callback: (response: http.IncomingMessage) => void): http.ClientRequest {
    const url = new URL(`${options.protocol ?? 'http:'}//${options.hostname}${options.port ? `:${options.port}` : ''}${options.path ?? '/'}`);
    const built = requestOptions(url, options.method ?? 'GET', this.http.headers(options.headers as http.OutgoingHttpHeaders | undefined), this.http.options.proxy, this.http.options.timeoutMs, this.http.tlsOptions);
    return built.mod.request(built.options, callback);
  }

  async download(url: URL, destination: string, options: DownloadOptions): Promise<string> {
    const sha512 = options.sha512 ?? '';
    const size = this.signedSizes.get(sha512);
    // Only files the vendor signed are ever fetched: an unknown checksum means the update info did not come from the catalog.
    if (size === undefined) throw new LockstepError('E_SIGNATURE', `Refusing to download ${url.href}: it is not in a signed manifest.`, { url: url.href });
    await this.downloader.download({ url, size, sha512 }, destination, { onProgress: options.onProgress, cancellationToken: options.cancellationToken });
    return destination;
  }
}
