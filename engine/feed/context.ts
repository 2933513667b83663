/**
 * Composes a FeedContext from the machine configuration: feed URL, download cache (configurable, S7), trusted keys
 * (trust.ts), the licence number as the only identifying header (S4), and the explicit proxy whose password is read
 * from the OS keychain (S12). The platform is chosen by the entry point and passed in, never sniffed here.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError } from '../../contract/errors';
import { MachineConfig } from '../../kernel/config';
import { Logger } from '../../kernel/log';
import { SecretStore } from '../secrets';
import { trustedKeys } from '../../kernel/trust';
import { Platform } from '../../kernel/catalogSchema';
import { FeedContext } from './download';
import { paceOf } from '../../kernel/feedConfig';
import { FeedHttp, ProxySettings } from './http';
import { KeptPackage, keptPackageDir } from '../keptPackage';
import { feedSourceFor } from './feedSource';

export function proxyAccount(proxyUrl: string, username: string): string {
  return `proxy:${username}@${new URL(proxyUrl).host}`;
}

export function defaultCacheDir(config: MachineConfig): string {
  return path.join(path.dirname(config.sourceFile), 'lockstep-cache');
}

export interface FeedContextDeps {
  secrets: SecretStore;
  log: Logger;
  platform: Platform;
  licenseNumber: string | null;
  /** Tests inject a sleep that fake timers control. */
  sleep?: (ms: number) => Promise<void>;
}

/** IT's extra CA certificates; a file that is missing or holds no certificate is a configuration error, not a silent no-op. */
function readCaFile(file: string): string {
  let pem: string;
  try {
    pem = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new LockstepError('E_CONFIG_INVALID', `feed.caFile ${file} cannot be read: ${(err as Error).message}`, { file });
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) throw new LockstepError('E_CONFIG_INVALID', `feed.caFile ${file} holds no PEM certificate.`, { file });
  return pem;
}

export async function feedContext(config: MachineConfig, deps: FeedContextDeps): Promise<FeedContext> {
  const feed = config.feed;
  if (!feed) throw new LockstepError('E_CONFIG_INVALID', `The machine configuration ${config.sourceFile} has no "feed" section (feed.url, feed.licenseFile).`, { file: config.sourceFile });
  let proxy: ProxySettings | null = null;
  if (feed.proxy) {
    proxy = { url: feed.proxy.url };
    if (feed.proxy.username) {
      const account = proxyAccount(feed.proxy.url, feed.proxy.username);
      const password = await deps.secrets.get(account);
      if (password === null) throw new LockstepError('E_SECRET_MISSING', `No proxy password for ${account} in the OS keychain. Store it with "lockstep secret set-proxy-password".`, { account });
      proxy = { url: feed.proxy.url, username: feed.proxy.username, password };
    }
  }
  const http = new FeedHttp({ licenseNumber: deps.licenseNumber, proxy, ca: feed.caFile ? readCaFile(feed.caFile) : null, timeoutMs: feed.timeoutMs, pace: paceOf(feed), retries: feed.retries, retryDelayMs: feed.retryDelayMs, log: deps.log, sleep: deps.sleep });
  return {
    feedUrl: feed.url.endsWith('/') ? feed.url : `${feed.url}/`,
    cacheDir: feed.cacheDir ?? defaultCacheDir(config),
    trustedKeys: trustedKeys(config),
    http,
    source: feedSourceFor(feed.url, http), // the one place the feed's scheme is looked at
    platform: deps.platform,
    log: deps.log,
    catalogClockSkewMs: feed.catalogClockSkewMs,
    keptPackage: new KeptPackage(keptPackageDir(feed.cacheDir ?? defaultCacheDir(config)), deps.log),
  };
}

