/**
 * bench/deltas — what a patch release moves, from the feed and through the shared database, against the full package
 * and against electron-updater's own differential download, in one run.
 *
 * A seeded client tree (5,000 files, 200 MB: source that compresses, assets that do not, native libraries) in releases
 * 1.0 → 1.0.1 (5 % of files changed) → 1.1 (30 %), packaged as Lockstep's tar.gz (rsyncable; and the same tar with
 * plain gzip for comparison), zip and an AppImage's squashfs. For each pair and format:
 *  - peer: electron-updater's DifferentialDownloader from node_modules, block maps cut like electron-builder's
 *    app-builder (bench/delta/peer.ts says how), bytes counted by a real HTTP server on 127.0.0.1;
 *  - blocks missing: the bytes of Lockstep's content-defined blocks (kernel/contentChunks.ts) of the new package that
 *    the old one lacks — the least any block transfer with those blocks must move;
 *  - Lockstep feed: the real download (engine/feed/download.ts) with the old version's package kept — differential
 *    where this build and the feed allow it, else in full, and the output says which — bytes counted at the server;
 *  - Lockstep database: the real release for all (blocks) and one workstation assembling the new package from its
 *    kept package plus the blocks it lacks, bytes counted at the block store: SQLite for every format, PostgreSQL for
 *    the fleet's format;
 *  - the fleet: many workstations with K transfer slots on PostgreSQL upgrading to the patch vs the full package.
 * Goals: a 5 % patch moves ≤ 10 % of the package from the feed and from the database (electron-updater's published
 * example: 16 %); the fleet's patch ≤ 1/5 of the full package's time; RSS growth < 64 MB everywhere.
 *
 *   node --expose-gc build/bench/deltas.js [--small] [--json] [--seed 1] [--fleet 100] [--k 8] [--formats tar,tar-plain,zip,appimage]
 *   npm run bench deltas -- --small
 * (PostgreSQL too when LOCKSTEP_TEST_PG_URL is set.)
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ChunkSizes, DEFAULT_CHUNK_SIZES, contentChunks } from '../kernel/contentChunks';
import { tempDir } from '../test/helpers/backends';
import { countingServer } from './delta/countingServer';
import { fileSha512 } from './delta/fileHash';
import { SignedFeed, signedFeed } from './delta/signedFeed';
import { DatabaseRun, databasePath } from './delta/databasePath';
import { feedPath } from './delta/feedPath';
import { DeltaPair, FleetResult, FleetRun } from './delta/types';
import { FORMATS, PackageFormat } from './delta/packages';
import { PeerBlockMap, peerBlockMap, peerDifferentialDownload } from './delta/peer';
import { SIZES, TreeFile, TreeSpec, writeBaseTree, writeRelease } from './delta/tree';
import { table } from './stats';

const args = parseArgs({ options: { small: { type: 'boolean' }, json: { type: 'boolean' }, seed: { type: 'string' }, fleet: { type: 'string' }, k: { type: 'string' }, formats: { type: 'string' } } }).values;
const SPEC: TreeSpec = { ...(args.small ? SIZES.small : SIZES.full), seed: Number(args.seed ?? 1) };
const FLEET = Number(args.fleet ?? (args.small ? 20 : 100));
const K = Number(args.k ?? 8);
const VERSIONS = ['1.0.0', '1.0.1', '1.1.0'] as const;
const PAIRS: Array<{ from: number; to: number; label: string }> = [
  { from: 0, to: 1, label: '1.0 → 1.0.1 (5 %)' },
  { from: 1, to: 2, label: '1.0.1 → 1.1 (30 %)' },
];
const GOAL_PATCH = 0.1;
const GOAL_FLEET = 1 / 5;
const GOAL_RSS = 64 * 1024 * 1024;

const progress = (msg: string) => process.stderr.write(`[deltas ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);

/** Peak RSS above the value at start, sampled every 5 ms (the same watch as bench/fleet). */
export function memoryWatch(): { stop(): number } {
  (global as { gc?: () => void }).gc?.();
  const base = process.memoryUsage.rss();
  let peak = base;
  const touch = () => (peak = Math.max(peak, process.memoryUsage.rss()));
  const t = setInterval(touch, 5);
  return { stop: () => (clearInterval(t), touch(), peak - base) };
}

/** Bytes of the new package's blocks (Lockstep's content-defined chunker) whose hash the old package lacks. */
async function missingBlockBytes(oldFile: string, newFile: string, sizes: ChunkSizes = DEFAULT_CHUNK_SIZES): Promise<{ bytes: number; blocks: number; missing: number }> {
  const have = new Set<string>();
  for await (const c of contentChunks(fs.createReadStream(oldFile, { highWaterMark: 1 << 20 }), sizes)) have.add(c.sha256.toString('hex'));
  let bytes = 0;
  let blocks = 0;
  let missing = 0;
  for await (const c of contentChunks(fs.createReadStream(newFile, { highWaterMark: 1 << 20 }), sizes)) {
    blocks++;
    if (!have.has(c.sha256.toString('hex'))) {
      bytes += c.size;
      missing++;
    }
  }
  return { bytes, blocks, missing };
}

interface Row {
  format: string;
  pair: string;
  packageBytes: number;
  peerFeedBytes: number | null;
  peerRequests: number | null;
  peerRssGrowth: number | null;
  missingBlockBytes: number;
  lockstepFeedBytes: number | null;
  lockstepFeedRssGrowth: number | null;
  lockstepDb: Array<{ backend: string; bytesRead: number | null; rssGrowth: number | null; note?: string }>;
  notes: string[];
}

async function main(): Promise<void> {
  const work = tempDir('lockstep-bench-deltas-');
  const started = Date.now();
  const loadBefore = os.loadavg();
  const rows: Row[] = [];
  const skipped: string[] = [];
  let fleet: Fleet | null = null;
  const formats = FORMATS.filter((f) => !args.formats || args.formats.split(',').includes(f.key));
  const packages = new Map<PackageFormat, string[]>();
  const feeds = new Map<PackageFormat, SignedFeed>();
  try {
    // 1. The tree in three releases.
    progress(`writing the tree: ${SPEC.files} files, ${(SPEC.totalBytes / 1048576).toFixed(0)} MiB, seed ${SPEC.seed}`);
    const treeDirs = VERSIONS.map((v) => path.join(work, 'tree', v));
    const lists: TreeFile[][] = [writeBaseTree(treeDirs[0]!, SPEC)];
    const patch = writeRelease(treeDirs[0]!, lists[0]!, treeDirs[1]!, SPEC, VERSIONS[1], 0.05);
    const minor = writeRelease(treeDirs[1]!, patch.files, treeDirs[2]!, SPEC, VERSIONS[2], 0.3);
    lists.push(patch.files, minor.files);
    const treeBytes = lists[0]!.reduce((s, f) => s + f.size, 0);

    // 2. The packages.
    for (const format of formats) {
      const why = format.unavailable();
      if (why) {
        skipped.push(`${format.name}: skipped — ${why}`);
        continue;
      }
      const dir = path.join(work, 'packages', String(FORMATS.indexOf(format)));
      fs.mkdirSync(dir, { recursive: true });
      const files = VERSIONS.map((v) => path.join(dir, `Ledger-${v}-linux.${format.ext}`));
      for (let i = 0; i < VERSIONS.length; i++) {
        progress(`packaging ${VERSIONS[i]} as ${format.name}`);
        format.make(treeDirs[i]!, lists[i]!, files[i]!);
      }
      packages.set(format, files);
      feeds.set(format, await signedFeed(path.join(work, 'signed', String(FORMATS.indexOf(format))), files.map((file, i) => ({ version: VERSIONS[i]!, file }))));
    }
    fs.rmSync(path.join(work, 'tree'), { recursive: true, force: true });
    // The fleet (and PostgreSQL) runs on one format: Lockstep's own where it deltas well, else the first that is here.
    const fleetFormat = ['tar', 'zip', 'appimage', 'tar-plain'].map((key) => [...packages.keys()].find((f) => f.key === key)).find(Boolean);

    // 3. Per format and pair: the peer, the block model, Lockstep's feed and database paths.
    for (const [format, files] of packages) {
      const peerFeed = path.join(work, 'peer-feed', String(FORMATS.indexOf(format)));
      fs.mkdirSync(peerFeed, { recursive: true });
      const maps: PeerBlockMap[] = [];
      for (const f of files) {
        fs.linkSync(f, path.join(peerFeed, path.basename(f)));
        maps.push(await peerBlockMap(f, path.join(peerFeed, `${path.basename(f)}.blockmap`)));
      }
      const server = await countingServer(peerFeed);
      try {
        for (const pair of PAIRS) {
          const [oldFile, newFile] = [files[pair.from]!, files[pair.to]!];
          const size = fs.statSync(newFile).size;
          const digest = fileSha512(newFile);
          const row: Row = { format: format.name, pair: pair.label, packageBytes: size, peerFeedBytes: null, peerRequests: null, peerRssGrowth: null, missingBlockBytes: 0, lockstepFeedBytes: null, lockstepFeedRssGrowth: null, lockstepDb: [], notes: [] };
          progress(`${format.name} ${pair.label}: electron-updater differential download`);
          const out = path.join(work, 'peer-out.bin');
          server.reset();
          const mem = memoryWatch();
          await peerDifferentialDownload({ feedUrl: server.url, oldFile, oldBlockMap: maps[pair.from]!, newName: path.basename(newFile), newFile: out, size, sha512: digest });
          row.peerRssGrowth = mem.stop();
          if (fileSha512(out) !== digest) throw new Error('the peer assembled a different file');
          fs.rmSync(out);
          const served = server.counted();
          row.peerFeedBytes = served.package + served.blockMap;
          row.peerRequests = served.requests;
          row.missingBlockBytes = (await missingBlockBytes(oldFile, newFile)).bytes;

          const deltaPair: DeltaPair = { work, format: format.name, oldFile, newFile, oldVersion: VERSIONS[pair.from]!, newVersion: VERSIONS[pair.to]!, size, sha512: digest, feed: feeds.get(format)!, progress };
          progress(`${format.name} ${pair.label}: Lockstep download from the feed`);
          const m = memoryWatch();
          const viaFeed = await feedPath(deltaPair);
          row.lockstepFeedRssGrowth = m.stop();
          row.lockstepFeedBytes = viaFeed.fetched;
          if (viaFeed.note) row.notes.push(`feed: ${viaFeed.note}`);
          rows.push(row);
        }
      } finally {
        await server.close();
      }
      // SQLite for every format; PostgreSQL for the fleet's format, with the fleet in the same database (bytes per
      // workstation do not depend on the backend: the same blocks are listed and missing).
      const series = { work, format: format.name, files, versions: [...VERSIONS], feed: feeds.get(format)!, progress };
      const runs: DatabaseRun[] = [await databasePath(series, memoryWatch, 'sqlite')];
      if (format === fleetFormat && process.env.LOCKSTEP_TEST_PG_URL) {
        const pg = await databasePath(series, memoryWatch, 'postgres', { workstations: FLEET, k: K });
        runs.push(pg);
        fleet = { format: format.name, ...pg.fleet! };
      }
      const formatRows = rows.filter((row) => row.format === format.name);
      for (const run of runs) run.perPair.forEach((result, i) => formatRows[i]!.lockstepDb.push(result));
    }

    if (!process.env.LOCKSTEP_TEST_PG_URL) skipped.push('PostgreSQL and the fleet: skipped — set LOCKSTEP_TEST_PG_URL');

    report({ treeBytes, rows, skipped, fleet, seconds: (Date.now() - started) / 1000, loadBefore, change: [patch.change, minor.change].map((c) => ({ version: c.version, modified: c.modified.length, added: c.added.length, removed: c.removed.length })) });
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

type Fleet = FleetResult & { format: string };

function report(r: { treeBytes: number; rows: Row[]; skipped: string[]; fleet: Fleet | null; seconds: number; loadBefore: number[]; change: Array<{ version: string; modified: number; added: number; removed: number }> }): void {
  const frac = (n: number | null, size: number) => (n === null ? null : n / size);
  const isPatch = (row: Row) => row.pair.includes('1.0.1 (5');
  const met = (ok: boolean) => (ok ? 'MET' : 'NOT MET');
  const peerRss = maxOf(r.rows.map((row) => row.peerRssGrowth));
  // Per workstation: one download or assembly. The fleet's figure is a whole crowd in one process (printed apart).
  const lockstepRss = r.rows.flatMap((row) => [row.lockstepFeedRssGrowth, ...row.lockstepDb.map((d) => d.rssGrowth)]).filter((x): x is number => x !== null);
  const goals = {
    patchFromFeed: r.rows.filter(isPatch).map((row) => ({ format: row.format, fraction: frac(row.lockstepFeedBytes, row.packageBytes), met: row.lockstepFeedBytes === null ? null : row.lockstepFeedBytes / row.packageBytes <= GOAL_PATCH })),
    patchFromDatabase: r.rows.filter(isPatch).flatMap((row) => row.lockstepDb.map((d) => ({ format: row.format, backend: d.backend, fraction: frac(d.bytesRead, row.packageBytes), met: d.bytesRead === null ? null : d.bytesRead / row.packageBytes <= GOAL_PATCH }))),
    fleet: r.fleet ? { ratio: r.fleet.patch.ms / r.fleet.full.ms, met: r.fleet.patch.ms / r.fleet.full.ms <= GOAL_FLEET } : null,
    rss: { maxLockstepGrowth: lockstepRss.length ? Math.max(...lockstepRss) : null, met: lockstepRss.length ? Math.max(...lockstepRss) < GOAL_RSS : null },
  };
  if (args.json) {
    console.log(JSON.stringify({ bench: 'deltas', size: args.small ? 'small' : 'full', spec: SPEC, treeBytes: r.treeBytes, releases: r.change, seconds: r.seconds, loadAverage: r.loadBefore, rows: r.rows, fleet: r.fleet, skipped: r.skipped, goals, peerBlockMaps: PEER_NOTE }, null, 2));
    return;
  }
  const mb = (x: number | null) => (x === null ? 'n/a' : (x / 1048576).toFixed(1));
  const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)} %`);
  const backendsSeen = [...new Set(r.rows.flatMap((row) => row.lockstepDb.map((d) => d.backend)))];
  const dbCols = (row: Row): Record<string, string> =>
    Object.fromEntries(backendsSeen.map((b) => [`Lockstep DB ${b}`, ((d) => (d ? pct(frac(d.bytesRead, row.packageBytes)) : '—'))(row.lockstepDb.find((d) => d.backend === b))]));
  console.log(`bench/deltas — ${SPEC.files} files, ${(r.treeBytes / 1e6).toFixed(0)} MB tree (seed ${SPEC.seed}${args.small ? ', --small' : ''}); releases ${r.change.map((c) => `${c.version}: ${c.modified} modified, ${c.added} added, ${c.removed} removed`).join('; ')}; ${r.seconds.toFixed(0)} s; load average before ${r.loadBefore.map((l) => l.toFixed(1)).join(' ')}\n`);
  console.log('Bytes moved per workstation as a share of the full package (the full download moves 100 %):\n');
  console.log(table(r.rows.map((row) => ({
    format: row.format,
    pair: row.pair,
    'package MB': row.packageBytes / 1e6,
    'electron-updater (peer)': pct(frac(row.peerFeedBytes, row.packageBytes)),
    'Lockstep blocks missing': pct(row.missingBlockBytes / row.packageBytes),
    'Lockstep feed': pct(frac(row.lockstepFeedBytes, row.packageBytes)),
    ...dbCols(row),
    'RSS +MB peer / Lockstep': `${mb(row.peerRssGrowth)} / ${mb(maxOf([row.lockstepFeedRssGrowth, ...row.lockstepDb.map((d) => d.rssGrowth)]))}`,
  }))));
  console.log(`\n${PEER_NOTE}`);
  console.log(`"Lockstep blocks missing": bytes of the new package's content-defined blocks (kernel/contentChunks.ts, ${DEFAULT_CHUNK_SIZES.min / 1024}/${DEFAULT_CHUNK_SIZES.avg / 1024}/${DEFAULT_CHUNK_SIZES.max / 1024} KiB) that the old package lacks — the floor for any transfer of those blocks.`);
  console.log('Peer bytes: its DOWNLOAD ranges + the new block map (the old one from its cache, as electron-updater keeps it after an update).\n');
  const goalLine = (name: string, items: Array<{ fraction: number | null; met: boolean | null; format: string; backend?: string }>) =>
    items.length === 0 ? `  ${name}: n/a` : items.map((i) => `  ${name} [${i.format}${i.backend ? `, ${i.backend}` : ''}]: ${pct(i.fraction)} (goal ≤ 10 %; electron-updater's published example 16 %)  ${i.met === null ? 'n/a' : met(i.met)}`).join('\n');
  console.log('Goals:');
  console.log(goalLine('5 % patch from the feed', goals.patchFromFeed));
  console.log(goalLine('5 % patch from the database', goals.patchFromDatabase));
  if (r.fleet) {
    console.log(`  fleet: ${r.fleet.workstations} workstations, K = ${r.fleet.k}, PostgreSQL, ${r.fleet.format}: patch ${(r.fleet.patch.ms / 1000).toFixed(1)} s vs full ${(r.fleet.full.ms / 1000).toFixed(1)} s = ${(goals.fleet!.ratio).toFixed(3)} (goal ≤ 0.2)  ${met(goals.fleet!.met)}`);
    console.log(`         database → workstations: patch ${(r.fleet.patch.bytesRead / 1e9).toFixed(2)} GB, full ${(r.fleet.full.bytesRead / 1e9).toFixed(2)} GB`);
    const perWs = (run: FleetRun) => `${(run.cpuMs / 1000 / r.fleet!.workstations).toFixed(2)} s here + ${run.serverCpuMs === null ? 'n/a' : (run.serverCpuMs / 1000 / r.fleet!.workstations).toFixed(2)} s PostgreSQL`;
    console.log(`         CPU per workstation: patch ${perWs(r.fleet.patch)}, full ${perWs(r.fleet.full)} (every simulated workstation shares this process and ${os.cpus().length} cores with the server)`);
  } else console.log('  fleet: n/a');
  console.log(`  RSS growth per workstation, Lockstep paths: ${goals.rss.maxLockstepGrowth === null ? 'n/a' : `max ${(goals.rss.maxLockstepGrowth / 1048576).toFixed(1)} MB`} (goal < 64 MB)  ${goals.rss.met === null ? '' : met(goals.rss.met)}; electron-updater max ${peerRss === null ? 'n/a' : (peerRss / 1048576).toFixed(1)} MB${r.fleet ? `; fleet (${r.fleet.workstations} connections in this process) patch ${(r.fleet.patch.rssGrowth / 1048576).toFixed(1)} MB, full ${(r.fleet.full.rssGrowth / 1048576).toFixed(1)} MB` : ''}`);
  for (const s of r.skipped) console.log(`Note: ${s}`);
  for (const row of r.rows) for (const n of row.notes) console.log(`Note [${row.format}, ${row.pair}]: ${n}`);
  for (const row of r.rows) for (const d of row.lockstepDb) if (d.note) console.log(`Note [${row.format}, ${row.pair}, ${d.backend}]: ${d.note}`);
}

function maxOf(xs: Array<number | null>): number | null {
  const v = xs.filter((x): x is number => x !== null);
  return v.length ? Math.max(...v) : null;
}

const PEER_NOTE = "Peer block maps: electron-builder's app-builder binary cannot be downloaded here, so they are computed by bench/delta/peer.ts, a port of app-builder's pkg/blockmap (go-rabin Poly64, 64-byte window, 8/16/32 KiB min/avg/max; block names SHA-256/18 bytes instead of BLAKE2b-18), in electron-builder's gzipped JSON format, and downloaded by electron-updater's own GenericDifferentialDownloader.";

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
