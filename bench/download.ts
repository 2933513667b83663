/**
 * bench/download — the download's speed goals, measured in one run against peers on the same machine:
 *  1. A 200 MB installer from a loopback feed server (a separate process: `lockstep feed serve`) through Lockstep's
 *     download (electron-updater + resumable executor + SHA-512 + signed-manifest checks) vs `curl -o` from the same
 *     server. Goal: Lockstep ≥ 0.8 × curl's throughput. The physical limit (copying the file on this disk) is printed
 *     beside them.
 *  2. Memory: RSS growth during Lockstep's download. Goal < 64 MB.
 *  3. An unchanged catalog check (conditional request → 304, re-verify, evaluate) vs a bare HTTP GET of the catalog
 *     from the same server. Goal: ratio ≤ 1.5.
 * The 200 MB file lives in a temp folder that is deleted at the end. Before every timed transfer the page cache is
 * flushed (`sync`), so neither side pays for the other's writeback; curl and Lockstep take turns going first.
 * Besides wall time it prints CPU seconds per transfer — Lockstep's process (all threads: receive, the hashing worker,
 * the disk writes), curl (as a waited-for child) and the feed server — because on a busy 2-core machine the wall ratio
 * is mostly a CPU-share ratio, and CPU work per byte is what the code controls.
 * Run: npx tsc -p . && node --expose-gc build/bench/download.js [--mb 200] [--runs 3] [--checks 300]
 */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { FeedContext, downloadVersion } from '../engine/feed/download';
import { FeedHttp } from '../engine/feed/http';
import { MemoryLogger } from '../kernel/log';
import { UpdateService } from '../engine/updateService';
import { fetchCatalog } from '../engine/catalog';
import { parseVersion } from '../kernel/version';
import { addVersion } from '../authoring/feedWriter';
import { loadSigner, writeKeyPair } from '../authoring/keys';
import { issueLicense } from '../authoring/licenseIssuer';
import { loadLicense } from '../engine/license';
import { httpFeedSource } from '../engine/feed/feedSource';

const CLI = path.resolve(__dirname, '../../bin/lockstep.js');
const { values } = parseArgs({ options: { mb: { type: 'string', default: '200' }, runs: { type: 'string', default: '3' }, checks: { type: 'string', default: '300' } } });
const MB = Number(values.mb);
const RUNS = Number(values.runs);
const CHECKS = Number(values.checks);

function writeBigFile(file: string, bytes: number): void {
  const block = Buffer.alloc(4 * 1024 * 1024);
  const fd = fs.openSync(file, 'w');
  for (let off = 0, i = 0; off < bytes; off += block.length, i++) {
    block.fill(i % 251);
    block.writeUInt32BE(i, 0);
    fs.writeSync(fd, block, 0, Math.min(block.length, bytes - off));
  }
  fs.closeSync(fd);
}

/**
 * utime + stime in seconds from /proc (Linux): of a process, of its waited-for children (children = true), or of one
 * thread (`self/task/<pid>` is this process's main thread — the one that receives the bytes).
 */
function cpuSeconds(pid: number | 'self' | 'main-thread', children = false): number {
  try {
    const file = pid === 'main-thread' ? `/proc/self/task/${process.pid}/stat` : `/proc/${pid}/stat`;
    const fields = fs.readFileSync(file, 'utf8').split(') ')[1]!.split(' ');
    const [u, s] = children ? [fields[13], fields[14]] : [fields[11], fields[12]];
    return (Number(u) + Number(s)) / 100; // USER_HZ is 100 on Linux
  } catch {
    return NaN;
  }
}

function load(): string {
  return os.loadavg().map((l) => l.toFixed(1)).join(' ');
}

async function startServer(feedDir: string): Promise<{ url: string; pid: number; stop: () => void }> {
  const child = spawn(process.execPath, [CLI, 'feed', 'serve', '--feed', feedDir, '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = / at (http:\/\/\S+)/.exec(err);
      if (m) resolve(m[1]!);
    });
    child.once('exit', () => reject(new Error(`feed serve exited: ${err}`)));
  });
  return { url, pid: child.pid!, stop: () => child.kill('SIGTERM') };
}

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

async function main(): Promise<void> {
  if (spawnSync('curl', ['--version']).status !== 0) throw new Error('curl is needed as the peer: apt-get install -y curl');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-bench-download-'));
  let server: { url: string; pid: number; stop: () => void } | null = null;
  const loadBefore = load();
  try {
    const bytes = MB * 1024 * 1024;
    const build = path.join(dir, 'build');
    fs.mkdirSync(build);
    const installer = path.join(build, 'Bench-1.0.1.AppImage');
    writeBigFile(installer, bytes);
    const keys = writeKeyPair(path.join(dir, 'vendor'));
    const signer = loadSigner(keys.privateKeyFile);
    const feedDir = path.join(dir, 'feed');
    const added = await addVersion(feedDir, { installers: [installer], version: '1.0.1', product: 'Bench' }, signer);
    fs.rmSync(build, { recursive: true });
    const licenseFile = path.join(dir, 'license.json');
    issueLicense({ product: 'Bench', number: 'BENCH-1', edition: 'standard', contractUntil: '2099-12-31' }, signer, licenseFile);
    server = await startServer(feedDir);
    const fileUrl = `${server.url}Bench-1.0.1.AppImage`;

    const log = new MemoryLogger();
    const feedHttp = new FeedHttp({ licenseNumber: 'BENCH-1', timeoutMs: 30_000, retries: 2, retryDelayMs: 100, log });
    const ctxFor = (cacheDir: string): FeedContext => ({ feedUrl: server!.url, cacheDir, trustedKeys: [keys.publicKey], http: feedHttp, source: httpFeedSource(feedHttp), platform: 'linux', log });

    // Physical limit: copying the file on this disk (read + write, no network, no hashing).
    const copyStart = process.hrtime.bigint();
    fs.copyFileSync(path.join(feedDir, 'Bench-1.0.1.AppImage'), path.join(dir, 'copy.bin'));
    const copyS = seconds(copyStart);
    fs.rmSync(path.join(dir, 'copy.bin'));

    const lockstepTimes: number[] = [];
    const curlTimes: number[] = [];
    const cpu = { curl: [] as number[], lockstep: [] as number[], lockstepMain: [] as number[], serverForCurl: [] as number[], serverForLockstep: [] as number[] };
    let rssGrowth = 0;
    const runCurl = () => {
      const curlOut = path.join(dir, 'curl.bin');
      spawnSync('sync');
      const [s0, k0] = [cpuSeconds(server!.pid), cpuSeconds('self', true)];
      const c0 = process.hrtime.bigint();
      const curl = spawnSync('curl', ['-sS', '--fail', '-o', curlOut, fileUrl]);
      curlTimes.push(seconds(c0));
      if (curl.status !== 0) throw new Error(`curl failed: ${curl.stderr}`);
      cpu.curl.push(cpuSeconds('self', true) - k0);
      cpu.serverForCurl.push(cpuSeconds(server!.pid) - s0);
      fs.rmSync(curlOut);
    };
    const runLockstep = async (run: number) => {
      const cacheDir = path.join(dir, `cache-${run}`);
      global.gc?.();
      spawnSync('sync');
      const baseline = process.memoryUsage().rss;
      let peak = baseline;
      const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
      const [s0, u0, m0] = [cpuSeconds(server!.pid), process.cpuUsage(), cpuSeconds('main-thread')];
      const l0 = process.hrtime.bigint();
      const got = await downloadVersion(ctxFor(cacheDir), added.manifest);
      lockstepTimes.push(seconds(l0));
      const u = process.cpuUsage(u0); // the whole process: main thread, hashing worker, thread pool
      cpu.lockstep.push((u.user + u.system) / 1e6);
      cpu.lockstepMain.push(cpuSeconds('main-thread') - m0);
      cpu.serverForLockstep.push(cpuSeconds(server!.pid) - s0);
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage().rss);
      rssGrowth = Math.max(rssGrowth, peak - baseline);
      if (fs.statSync(got.file).size !== bytes) throw new Error('wrong size');
      fs.rmSync(cacheDir, { recursive: true });
    };
    for (let run = 0; run < RUNS; run++) {
      if (run % 2 === 0) {
        runCurl();
        await runLockstep(run);
      } else {
        await runLockstep(run);
        runCurl();
      }
    }

    // Unchanged catalog check: Lockstep's whole check (304 + verify + evaluate) vs a bare GET of the same file.
    const checkCache = path.join(dir, 'check-cache');
    const service = new UpdateService({
      feed: ctxFor(checkCache),
      channel: 'stable',
      installed: () => parseVersion('1.0.0'),
      license: () => loadLicense(licenseFile, [keys.publicKey]),
      modules: () => ({}),
      log,
    });
    await fetchCatalog(ctxFor(checkCache)); // warm: the cache holds the catalog, later checks are conditional
    const bare = () =>
      new Promise<void>((resolve, reject) => {
        http.get(`${server!.url}catalog.json`, { agent: false }, (res) => {
          res.resume();
          res.on('end', resolve);
        }).on('error', reject);
      });
    for (let i = 0; i < 20; i++) {
      await bare();
      await service.check();
    }
    const b0 = process.hrtime.bigint();
    for (let i = 0; i < CHECKS; i++) await bare();
    const bareS = seconds(b0);
    const k0 = process.hrtime.bigint();
    for (let i = 0; i < CHECKS; i++) await service.check();
    const checkS = seconds(k0);
    const catalogBytes = fs.statSync(path.join(feedDir, 'catalog.json')).size;

    const best = (xs: number[]) => Math.min(...xs);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    const cpuLine = (xs: number[]) => `${median(xs).toFixed(2)} CPU-s`;
    const mbps = (s: number) => (MB / s).toFixed(0);
    const lockstepBest = best(lockstepTimes);
    const curlBest = best(curlTimes);
    const ratio = curlBest / lockstepBest;
    const lines = [
      `bench/download — ${MB} MB over loopback, ${RUNS} runs each (best shown), ${os.cpus().length} cores, node ${process.version}, load average ${loadBefore} → ${load()}`,
      `  physical limit (disk copy)  ${copyS.toFixed(2)} s  ${mbps(copyS)} MB/s`,
      `  curl -o                     ${curlBest.toFixed(2)} s  ${mbps(curlBest)} MB/s   (runs ${curlTimes.map((t) => t.toFixed(2)).join(', ')})`,
      `  Lockstep download + sha512  ${lockstepBest.toFixed(2)} s  ${mbps(lockstepBest)} MB/s   (runs ${lockstepTimes.map((t) => t.toFixed(2)).join(', ')})`,
      `  throughput ratio Lockstep / curl = ${ratio.toFixed(2)}   (goal ≥ 0.8)  ${ratio >= 0.8 ? 'MET' : 'NOT MET'}`,
      `  Lockstep / physical limit      = ${(copyS / lockstepBest).toFixed(2)}`,
      `  CPU per transfer (median): curl ${cpuLine(cpu.curl)} + server ${cpuLine(cpu.serverForCurl)};  Lockstep ${cpuLine(cpu.lockstep)} (all threads; receiving thread ${cpuLine(cpu.lockstepMain)}) + server ${cpuLine(cpu.serverForLockstep)}`,
      `  RSS growth during download     = ${(rssGrowth / 1048576).toFixed(1)} MB   (goal < 64 MB)  ${rssGrowth < 64 * 1048576 ? 'MET' : 'NOT MET'}`,
      `  unchanged catalog check (${catalogBytes} B catalog, ${CHECKS}×): Lockstep ${((checkS / CHECKS) * 1000).toFixed(2)} ms vs bare GET ${((bareS / CHECKS) * 1000).toFixed(2)} ms`,
      `  check ratio Lockstep / bare GET = ${(checkS / bareS).toFixed(2)}   (goal ≤ 1.5)  ${checkS / bareS <= 1.5 ? 'MET' : 'NOT MET'}`,
    ];
    console.log(lines.join('\n'));
  } finally {
    server?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
