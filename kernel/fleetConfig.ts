/**
 * The `fleet` section of the machine configuration (S17, S19): where release packages live (the shared database by
 * default; an HTTP(S) URL or a file-share folder for large sites), how they are cut into chunks, how many workstations
 * may transfer at once (K), how long they wait, and how often a running workstation looks for a newer release.
 * Optional as a whole; every field has a default, so existing configurations stay valid.
 */
import * as path from 'node:path';
import { z } from 'zod';
import { isVersion } from './version';

const nonEmpty = z.string().trim().min(1);

export const PackageStoreConfigSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('database') }).strict(),
  /** A web server holding the package files under their plain names (e.g. a mirror of the vendor feed folder). */
  z
    .object({
      type: z.literal('http'),
      url: nonEmpty.refine((u) => /^https?:\/\/[^/]+/i.test(u) && !/^[a-z]+:\/\/[^/@]*:[^/@]*@/i.test(u), { message: 'must be an http(s) URL without a password' }),
      /** The CA that signs an internal HTTPS store (PEM); default feed.caFile. The store is reached directly, not via the feed's proxy. */
      caFile: nonEmpty.optional(),
    })
    .strict(),
  /** A folder (file share) holding the package files under their plain names; the releasing workstation copies into it. */
  z.object({ type: z.literal('share'), path: nonEmpty }).strict(),
]);

export const FleetConfigSchema = z
  .object({
    packageStore: PackageStoreConfigSchema.default({ type: 'database' }),
    /**
     * Chunk size of packages written into the shared database. 1 MiB: bench/fleet measured it faster than 4 MiB on
     * PostgreSQL (bytea travels as hex text, so a chunk costs ~3× its size in memory per connection in flight).
     */
    chunkBytes: z.number().int().min(64 * 1024).max(64 * 1024 * 1024).default(1024 * 1024),
    /**
     * How a release's package is written into the shared database: `blocks` (content-defined blocks shared between
     * releases, so a patch stores and moves only what changed) or `chunks` (fixed-size chunks per release, the layout of
     * every package stored before blocks; still read either way).
     */
    databaseLayout: z.enum(['blocks', 'chunks']).default('blocks'),
    /**
     * Average size of the content-defined blocks packages are cut into in the shared database (min a quarter, max four
     * times). Smaller blocks make a patch of a .tar.gz move less (a changed file costs about one block beyond its own
     * compressed bytes) at the price of more rows: measured on a 5 % patch of 1,000 files (18 MB tar.gz, gzip
     * --rsyncable), 64 KiB → 37 % of the package, 16 KiB → 20 %, 8 KiB → 13 %.
     */
    blockBytes: z.number().int().min(4096).max(256 * 1024).refine((n) => (n & (n - 1)) === 0, { message: 'must be a power of two' }).default(16 * 1024),
    /** K: at most this many workstations transfer a package at once. */
    maxConcurrentTransfers: z.number().int().min(1).max(1000).default(8),
    /** A transfer lease expires this long after its last renewal (a crashed workstation frees its slot). */
    leaseTtlMs: z.number().int().min(1_000).max(3_600_000).default(120_000),
    /** Waiting for a slot: each retry after a random pause in [retryMinMs, retryMaxMs] (jitter). */
    retryMinMs: z.number().int().min(1).max(600_000).default(1_000),
    retryMaxMs: z.number().int().min(1).max(600_000).default(5_000),
    /** Give up waiting (outdated notice, next start retries) after this long. */
    maxWaitMs: z.number().int().min(0).max(24 * 3_600_000).default(15 * 60_000),
    /** A dropped database connection mid-transfer: resume at the chunk it stopped, at most this many times. */
    chunkRetries: z.number().int().min(0).max(50).default(6),
    /**
     * Queries (of chunksPerQuery chunks) read ahead while one batch is hashed and written. 1: bench/fleet measured
     * 2 × 4 MiB in flight ~15% faster on PostgreSQL but at ~80 MB peak RSS growth (hex text), above the 64 MB bound.
     */
    prefetchChunks: z.number().int().min(1).max(8).default(1),
    /**
     * Consecutive chunks fetched in one query (one round trip); default as many as fit in 8 MiB, at most 8. Memory:
     * about chunkBytes × chunksPerQuery × (prefetchChunks + 1) (PostgreSQL sends them as raw bytes, a binary COPY).
     */
    chunksPerQuery: z.number().int().min(1).max(64).optional(),
    /** Where packages are assembled before installing; default lockstep-packages beside the machine config. */
    cacheDir: nonEmpty.optional(),
    /** A running workstation checks for a newer release this often (and at its next database access). */
    checkIntervalMs: z.number().int().min(1_000).max(24 * 3_600_000).default(5 * 60_000),
    /** The vendor's security floor as IT knows it; the signed catalogs stored with releases may raise it. */
    securityFloor: z.string().refine(isVersion, { message: 'is not a version number' }).optional(),
  })
  .strict()
  .refine((f) => f.retryMinMs <= f.retryMaxMs, { message: 'retryMinMs must not exceed retryMaxMs' });

export type FleetConfig = z.infer<typeof FleetConfigSchema>;
export type PackageStoreConfig = z.infer<typeof PackageStoreConfigSchema>;

export const DEFAULT_FLEET_CONFIG: FleetConfig = FleetConfigSchema.parse({});

export function resolveFleetPaths(fleet: FleetConfig | undefined, base: string): FleetConfig | undefined {
  if (!fleet) return undefined;
  const s = fleet.packageStore;
  const store = s.type === 'share' ? { ...s, path: path.resolve(base, s.path) } : s.type === 'http' && s.caFile ? { ...s, caFile: path.resolve(base, s.caFile) } : s;
  return { ...fleet, packageStore: store, cacheDir: fleet.cacheDir ? path.resolve(base, fleet.cacheDir) : undefined };
}
