/**
 * Lockstep's download from the feed for the delta benchmark: a workstation whose kept package is the old version
 * downloads the new one through the real engine (engine/feed/download.ts downloadVersion: signed manifest first,
 * differential against the kept package where the build and the feed allow it, else the full resumable download),
 * from the format's signed feed served on 127.0.0.1 by a server that counts what it sends.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { downloadVersion } from '../../engine/feed/download';
import { httpFeedSource } from '../../engine/feed/feedSource';
import { FeedHttp } from '../../engine/feed/http';
import { MemoryLogger } from '../../kernel/log';
import { countingServer } from './countingServer';
import { fileSha512 } from './fileHash';
import { keepOld } from './keptOld';
import type { DeltaPair } from './types';

export async function feedPath(p: DeltaPair): Promise<{ fetched: number; note?: string }> {
  const server = await countingServer(p.feed.feedDir);
  const cacheDir = path.join(p.work, 'feed-ws');
  try {
    const log = new MemoryLogger();
    const keptPackage = await keepOld(cacheDir, p.oldFile, p.oldVersion, fileSha512(p.oldFile), log);
    const http = new FeedHttp({ timeoutMs: 60_000, retries: 2, retryDelayMs: 100, log });
    server.reset();
    const got = await downloadVersion({ feedUrl: server.url, cacheDir, trustedKeys: [p.feed.publicKey], http, source: httpFeedSource(http), platform: 'linux', log, keptPackage }, p.feed.versions.get(p.newVersion)!.manifest);
    if (fileSha512(got.file) !== p.sha512) throw new Error('the feed download does not match the new package');
    const served = server.counted();
    const delta = got.delta;
    const how = delta?.used ? `differential from ${delta.baseVersion} (its report: ${delta.fetchedBytes} bytes fetched + ${delta.blockMapBytes} of block maps, ${delta.copiedBytes} copied)` : `full download (${delta?.reason ?? 'no report'})`;
    return { fetched: served.package + served.blockMap, note: `${how}; ${served.requests} requests, of the bytes ${(served.blockMap / 1e3).toFixed(0)} kB block map${served.other ? `, besides them ${(served.other / 1e3).toFixed(0)} kB other files` : ''}` };
  } finally {
    await server.close();
    fs.rmSync(cacheDir, { recursive: true, force: true });
  }
}
