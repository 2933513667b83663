/**
 * A fleet test site: a vendor feed of installable packages served by a real HTTP server on 127.0.0.1 that counts
 * every request, and simulated workstations (real CLI processes) configured with that feed and a fleet section.
 */
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { DemoFeed, DemoVersion, createDemoFeed } from '../../../authoring/demoFeed';
import { serveFeedFile } from '../../../authoring/feedServer';
import { tempDir } from '../../helpers/backends';
import { SimOptions, SimWorkstation, runNode, simWorkstation } from '../../helpers/workstationSim';

export interface CountingFeed {
  url: string;
  feed: DemoFeed;
  /** Every request path, in order. */
  requests: string[];
  /** GET requests for package files (.tar.gz). */
  packageDownloads(): number;
  close(): Promise<void>;
}

export async function startFeed(versions: ReadonlyArray<DemoVersion | string>, payloadBytes = 256 * 1024, floor: string | null = null): Promise<CountingFeed> {
  const feed = await createDemoFeed(tempDir('lockstep-fleet-feed-'), { versions, payloadBytes, securityFloor: floor });
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    if (!serveFeedFile(feed.feedDir, req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url,
    feed,
    requests,
    packageDownloads: () => requests.filter((r) => r.startsWith('GET ') && r.endsWith('.tar.gz')).length,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface FleetSimOptions extends SimOptions {
  feedUrl: string;
  publicKey: string;
  fleet?: Record<string, unknown>;
}

export function fleetWorkstation(o: FleetSimOptions): SimWorkstation {
  return simWorkstation({
    ...o,
    extra: {
      feed: { url: o.feedUrl, trustedKeys: [o.publicKey], cacheDir: 'feed-cache', retries: 1, retryDelayMs: 50 },
      fleet: { chunkBytes: 64 * 1024, retryMinMs: 20, retryMaxMs: 80, ...o.fleet },
      ...o.extra,
    },
  });
}

export const FEED_INSTALL = path.resolve(__dirname, 'feedInstallMain.js');

/** Extras → Update… in its own process: download `version` from the feed and install it. */
export async function installFromFeedProcess(ws: SimWorkstation, version: string): Promise<void> {
  const r = await runNode(FEED_INSTALL, [ws.configPath, version]);
  if (r.code !== 0) throw new Error(`feed install of ${version} failed (${r.code}): ${r.stdout}${r.stderr}`);
}
