/**
 * The example client as a vendor would have it: the repository packed with `npm pack` (the tarball a vendor installs)
 * and the example copied into a fresh folder outside the repository, with the tarball unpacked as
 * node_modules/lockstep. The example's other dependencies (electron for its types, knex, typescript, @types/node) are
 * symlinks into the repository's node_modules: no network, no registry, no install scripts, and the same versions the
 * tarball was built against. The repository's own node_modules/lockstep (a link to itself, for `npx lockstep`) is
 * deliberately left out, so nothing can resolve to the sources instead of the tarball.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
export const EXAMPLE = path.join(ROOT, 'examples', 'customer-list');

export interface PackedExample {
  /** The fresh folder holding the example. */
  dir: string;
  tarball: string;
  /** Paths inside the tarball (without the leading package/). */
  files: string[];
  remove(): void;
}

function copyTree(from: string, to: string): void {
  fs.cpSync(from, to, { recursive: true, filter: (src) => !/[\\/](node_modules|build)$/.test(src) && !src.endsWith('.tgz') });
}

export function packExample(): PackedExample {
  for (const f of ['build/engine/index.d.ts', 'build/electron/index.d.ts', 'build/web/renderer/update.html']) {
    if (!fs.existsSync(path.join(ROOT, f))) throw new Error(`${f} is missing: build first (tsc -p tsconfig.json && node scripts/build-renderer.js).`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-example-'));
  // --ignore-scripts: `prepare` would rebuild what the test run has just built; the tarball holds build/ as it is.
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const packed = JSON.parse(out.slice(out.indexOf('['))) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const tarball = path.join(dir, packed[0]!.filename);
  const app = path.join(dir, 'customer-list');
  copyTree(EXAMPLE, app);
  fs.renameSync(tarball, path.join(app, path.basename(tarball)));
  const modules = path.join(app, 'node_modules');
  const lockstep = path.join(modules, 'lockstep');
  fs.mkdirSync(lockstep, { recursive: true });
  execFileSync('tar', ['-xzf', path.join(app, path.basename(tarball)), '-C', lockstep, '--strip-components=1']);
  for (const name of fs.readdirSync(path.join(ROOT, 'node_modules'))) {
    if (name === 'lockstep' || name.startsWith('.')) continue;
    fs.symlinkSync(path.join(ROOT, 'node_modules', name), path.join(modules, name));
  }
  return { dir: app, tarball: path.join(app, path.basename(tarball)), files: packed[0]!.files.map((f) => f.path), remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Runs the example's own TypeScript (node_modules/typescript) in its folder; returns exit code and output. */
export function tsc(dir: string, args: string[] = ['-p', 'tsconfig.json']): { code: number; output: string } {
  try {
    const output = execFileSync(process.execPath, [path.join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), ...args], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { code: 0, output };
  } catch (err) {
    const e = err as { status: number; stdout: string; stderr: string };
    return { code: e.status, output: `${e.stdout}${e.stderr}` };
  }
}
