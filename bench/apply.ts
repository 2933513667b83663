/**
 * bench/apply — backup + apply of a 200 MB, 5,000-file portable package (.tar.gz) into an install folder holding a
 * 200 MB, 5,000-file older version, as a ratio to `cp -a` of the same tree in the same run (goal ≤ 2.5). Also printed:
 * GNU `tar -xzf` of the same package (the floor for extracting it), and the copy backup the in-place installer kinds
 * (deb, NSIS, AppImage) use, against the same `cp -a`; and the unprivileged S18 pre-check (signature, size, whole
 * SHA-512) that runs before an elevation prompt, against `sha512sum` of the same package. Each figure is the median of
 * several runs; the temp data is deleted afterwards.
 *
 *   node build/bench/apply.js [--runs 3] [--dir /var/tmp]
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { MemoryLogger } from '../kernel/log';
import { canonicalJson, generateKeyPair, signerFromPem } from '../kernel/signing';
import { Exclusions, copyOut } from '../installer/backup';
import { nodeSpawner } from '../installer/spawn';
import { precheckSigned } from '../installer/installer';
import { applyWithRights } from '../installer/withRights';

const FILES = 5_000;
const TOTAL = 200 * 1024 * 1024;

/** A deterministic app-like tree: many small files, a few large ones; half incompressible (binaries), half text. */
function makeTree(root: string, version: string): void {
  let seed = version.length * 7919;
  const rand = (): number => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const weights = Array.from({ length: FILES }, () => Math.pow(rand(), 6) + 0.002);
  const sum = weights.reduce((a, b) => a + b, 0);
  const text = Buffer.from(`export function component${version.replace(/\./g, '_')}() { return "Lockstep ${version}"; }\n`.repeat(4096));
  for (let i = 0; i < FILES; i++) {
    const size = Math.max(1, Math.round((weights[i]! / sum) * TOTAL));
    const dir = path.join(root, `pkg${i % 40}`, `mod${i % 7}`);
    fs.mkdirSync(dir, { recursive: true });
    let content: Buffer;
    if (i % 2 === 0) {
      content = Buffer.alloc(size);
      for (let off = 0; off < size; off += 64) createHash('sha512').update(`${version}:${i}:${off}`).digest().copy(content, off);
    } else {
      content = Buffer.alloc(size);
      for (let off = 0; off < size; off += text.length) text.copy(content, off);
    }
    fs.writeFileSync(path.join(dir, `file${i}.${i % 2 ? 'js' : 'bin'}`), content);
  }
  fs.writeFileSync(path.join(root, 'lockstep-version.json'), JSON.stringify({ version }) + '\n');
}

function seconds(fn: () => void): number {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

async function secondsAsync(fn: () => Promise<void>): Promise<number> {
  const t = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - t) / 1e9;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string', default: '3' }, dir: { type: 'string', default: os.tmpdir() } } });
  const runs = Number(values.runs);
  const work = fs.mkdtempSync(path.join(values.dir!, 'lockstep-bench-apply-'));
  try {
    const oldTree = path.join(work, 'old');
    const newTree = path.join(work, 'new');
    makeTree(oldTree, '1.0.0');
    makeTree(newTree, '2.0.0');
    const pkg = path.join(work, 'app-2.0.0.tar.gz');
    execFileSync('tar', ['-czf', pkg, '-C', newTree, '.']);
    // Signed like a vendor release (S18): the measured apply verifies the manifest and the bytes against it.
    const vendor = signerFromPem(generateKeyPair().privateKeyPem);
    const sha512 = createHash('sha512').update(fs.readFileSync(pkg)).digest('base64');
    const manifestText = canonicalJson({ type: 'lockstep-manifest', product: 'bench', version: '2.0.0', channel: 'stable', releaseDate: new Date().toISOString(), files: [{ name: path.basename(pkg), platform: 'linux', kind: 'installer', size: fs.statSync(pkg).size, sha512 }] });
    const manifest = { text: manifestText, signature: vendor.sign(manifestText) };
    const bytes = Number(execFileSync('du', ['-sb', oldTree]).toString().split('\t')[0]);
    console.log(`tree: ${FILES} files, ${(bytes / 1048576).toFixed(0)} MB; package ${(fs.statSync(pkg).size / 1048576).toFixed(0)} MB (.tar.gz); ${runs} runs, medians`);

    const cp: number[] = [];
    const tar: number[] = [];
    const ours: number[] = [];
    const sha512sum: number[] = [];
    const precheck: number[] = [];
    const staging: number[] = [];
    const copyBackup: number[] = [];
    for (let r = 0; r < runs; r++) {
      const dest = path.join(work, `cp-${r}`);
      execFileSync('sync');
      cp.push(seconds(() => execFileSync('cp', ['-a', oldTree, dest])));
      fs.rmSync(dest, { recursive: true });

      const tdest = path.join(work, `tar-${r}`);
      fs.mkdirSync(tdest);
      execFileSync('sync');
      tar.push(seconds(() => execFileSync('tar', ['-xzf', pkg, '-C', tdest])));
      fs.rmSync(tdest, { recursive: true });

      const site = path.join(work, `site-${r}`);
      fs.mkdirSync(site);
      const installDir = path.join(site, 'app');
      execFileSync('cp', ['-a', oldTree, installDir]);
      const settings = { installDir, stateDir: path.join(site, '.app.lockstep'), dataFolders: [], keepBackups: 2, healthTimeoutMs: 60_000 };
      execFileSync('sync');
      let phases: Array<{ phase: string; at: string }> = [];
      ours.push(
        await secondsAsync(async () => {
          const j = await applyWithRights({ id: `bench-${r}-000000`, kind: 'portable', packagePath: pkg, toVersion: '2.0.0', manifest }, { settings, log: new MemoryLogger(), spawner: nodeSpawner, startedBy: 'bench' }, [vendor.publicKey]);
          if (j.phase !== 'awaiting-health') throw new Error(`apply ended in ${j.phase}: ${j.error?.message}`);
          phases = j.history;
        }),
      );
      const at = (p: string) => Date.parse(phases.find((h) => h.phase === p)!.at);
      staging.push((at('backing-up') - at('staging')) / 1000);

      execFileSync('sync');
      copyBackup.push(seconds(() => copyOut(installDir, path.join(site, 'copy-backup'), new Exclusions([]))));

      // S18 before an elevation prompt: signature + size + a whole SHA-512 of the package, vs sha512sum of the same file.
      sha512sum.push(seconds(() => execFileSync('sha512sum', [pkg])));
      const request = { id: `bench-pre-${r}-00000`, kind: 'portable' as const, packagePath: pkg, toVersion: '2.0.0', manifest };
      precheck.push(await secondsAsync(() => precheckSigned(request, [vendor.publicKey], undefined, true)));
      fs.rmSync(site, { recursive: true });
    }

    const base = median(cp);
    const row = (name: string, s: number, note = '') => console.log(`${name.padEnd(58)} ${s.toFixed(2).padStart(6)} s   ${(s / base).toFixed(2).padStart(5)} × cp -a${note}`);
    row('cp -a of the 200 MB tree (peer)', base);
    row('tar -xzf of the package (extraction floor)', median(tar));
    row('Lockstep backup + apply, portable (goal ≤ 2.5 × cp -a)', median(ours), `   ${(median(ours) / median(tar)).toFixed(2)} × tar -xzf`);
    row('  of which staging (hash + extract)', median(staging));
    row('  of which backup, swap, verify, journal', median(ours) - median(staging));
    row('copy backup for in-place installers (deb/NSIS/AppImage)', median(copyBackup));
    row('sha512sum of the package (hashing floor)', median(sha512sum));
    row('pre-check before elevation (signature, size, SHA-512)', median(precheck), `   ${(median(precheck) / median(sha512sum)).toFixed(2)} × sha512sum`);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
