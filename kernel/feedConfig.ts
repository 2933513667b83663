/**
 * The `feed` section of the machine configuration (S1–S7, S12, S18), kept in its own file so the shared config schema
 * only gains one optional field. Optional as a whole: configurations without a feed stay valid. Relative paths
 * resolve against the configuration file's folder (resolveFeedPaths).
 */
import * as path from 'node:path';
import { z } from 'zod';
import { feedUrlFromSetting, isForeignUrl } from './feedUrl';

const nonEmpty = z.string().trim().min(1);

/** How slow a package transfer may be before it ends (engine/feed/transferPace.ts applies it). */
export interface TransferPaceSettings {
  minBytesPerSecond: number;
  windowMs: number;
  deadlineBaseMs: number;
  deadlineBytesPerSecond: number;
}

/** Below 1 KiB/s over 30 s is a broken path, not a slow line; the deadline allows 50 KiB/s plus a minute. */
export const DEFAULT_PACE: TransferPaceSettings = { minBytesPerSecond: 1024, windowMs: 30_000, deadlineBaseMs: 60_000, deadlineBytesPerSecond: 50 * 1024 };

export const FeedConfigSchema = z
  .object({
    /**
     * Where the feed is: the folder holding catalog.json and the installers. An http(s) URL, or (S21) a folder or file
     * share — a file: URL or a plain path (relative paths resolve against the configuration file's folder).
     */
    url: nonEmpty
      .refine((u) => !/^[a-z]+:\/\/[^/@]*:[^/@]*@/i.test(u), { message: 'must not contain a password' })
      .refine((u) => !isForeignUrl(u) && (!/^https?:/i.test(u) || /^https?:\/\/[^/]+/i.test(u)), {
        message: 'must be an http(s) URL, a file: URL or a folder path',
      }),
    /** The signed licence file the vendor issued (lockstep license issue). */
    licenseFile: nonEmpty.optional(),
    /** Where downloads and their half-done parts live (IT policies forbid running from some folders). */
    cacheDir: nonEmpty.optional(),
    /** Extra vendor public keys (base64) IT trusts beside the one built into the app: demo or test feeds. */
    trustedKeys: z.array(nonEmpty).default([]),
    /** Installed modules and their versions, JSON {"id": "version"}; default lockstep-modules.json in installDir. */
    modulesFile: nonEmpty.optional(),
    /** Explicit proxy (S12); its password comes from the OS keychain, account "proxy:<user>@<host:port>". */
    proxy: z
      .object({
        url: nonEmpty.refine((u) => /^http:\/\/[^/@:]+(:\d+)?\/?$/i.test(u), { message: 'must be http://host:port without credentials' }),
        username: nonEmpty.optional(),
      })
      .strict()
      .optional(),
    /**
     * Extra CA certificates (PEM file) trusted for an https feed beside the system's roots: a company CA that signs
     * the internal feed server or whose proxy re-signs traffic. Certificate checks are never switched off.
     */
    caFile: nonEmpty.optional(),
    /** Idle time-out of one request; how often a failed transfer is retried (with back-off) before E_CONNECT. */
    timeoutMs: z.number().int().min(50).max(600_000).default(30_000),
    retries: z.number().int().min(0).max(20).default(4),
    retryDelayMs: z.number().int().min(0).max(60_000).default(1_000),
    /** A catalog issued further ahead of this workstation's clock is reported (not refused). */
    catalogClockSkewMs: z.number().int().min(0).max(7 * 24 * 3_600_000).default(300_000),
    /**
     * A package transfer slower than minBytesPerSecond averaged over minRateWindowMs ends (E_CONNECT "too slow"), and
     * so does one that takes longer than deadlineBaseMs + signed size / deadlineBytesPerSecond in all; what arrived is
     * kept and the next download resumes from it. The idle time-out alone would let a 1 byte/s trickle run for hours.
     */
    minBytesPerSecond: z.number().int().min(1).max(100 * 1024 * 1024).default(DEFAULT_PACE.minBytesPerSecond),
    minRateWindowMs: z.number().int().min(100).max(3_600_000).default(DEFAULT_PACE.windowMs),
    deadlineBaseMs: z.number().int().min(1_000).max(86_400_000).default(DEFAULT_PACE.deadlineBaseMs),
    deadlineBytesPerSecond: z.number().int().min(1).max(1024 * 1024 * 1024).default(DEFAULT_PACE.deadlineBytesPerSecond),
  })
  .strict();

export type FeedConfig = z.infer<typeof FeedConfigSchema>;

/** The transfer pace limits of a feed section; the defaults when there is none (a fleet without a vendor feed). */
export function paceOf(feed: FeedConfig | undefined): TransferPaceSettings {
  if (!feed) return DEFAULT_PACE;
  return { minBytesPerSecond: feed.minBytesPerSecond, windowMs: feed.minRateWindowMs, deadlineBaseMs: feed.deadlineBaseMs, deadlineBytesPerSecond: feed.deadlineBytesPerSecond };
}

export function resolveFeedPaths(feed: FeedConfig | undefined, base: string): FeedConfig | undefined {
  if (!feed) return undefined;
  const abs = (p: string | undefined) => (p ? path.resolve(base, p) : undefined);
  return { ...feed, url: feedUrlFromSetting(feed.url, base), licenseFile: abs(feed.licenseFile), caFile: abs(feed.caFile), cacheDir: abs(feed.cacheDir), modulesFile: abs(feed.modulesFile) };
}
