/**
 * Install-folder fixtures: a root-owned install folder holding an "old version", portable packages built with the
 * system tar, and a hash of a whole tree (paths, types, modes, owners, bytes, link targets) to prove byte identity.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LOCATION_OVERRIDE_FILE } from '../../../installer/machineConfigLocation';
import { VENDOR } from './vendor';

export interface TreeFile {
  path: string;
  content?: string | Buffer;
  link?: string;
  mode?: number;
}

export function writeTree(root: string, files: readonly TreeFile[]): void {
  fs.mkdirSync(root, { recursive: true });
  for (const f of files) {
    const abs = path.join(root, f.path);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    if (f.link !== undefined) fs.symlinkSync(f.link, abs);
    else fs.writeFileSync(abs, f.content ?? '', { mode: f.mode ?? 0o644 });
  }
}

export function appTree(version: string, extra: readonly TreeFile[] = []): TreeFile[] {
  return [
    { path: 'lockstep-version.json', content: JSON.stringify({ version }) + '\n' },
    { path: 'app', content: `#!/bin/sh\necho app ${version}\n`, mode: 0o755 },
    { path: 'resources/app.asar', content: `asar of ${version}\n`.repeat(200) },
    { path: 'resources/locales/de.pak', content: `de ${version}` },
    { path: 'lib/libapp.so', link: '../app' },
    ...extra,
  ];
}

/** Hash of a whole tree; `listing` says what differs when an assertion fails. */
export function treeHash(root: string): { hash: string; listing: string[] } {
  const listing: string[] = [];
  const walk = (rel: string): void => {
    for (const name of fs.readdirSync(path.join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const abs = path.join(root, r);
      const st = fs.lstatSync(abs);
      const meta = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
      if (st.isSymbolicLink()) listing.push(`${r} -> ${fs.readlinkSync(abs)} ${meta}`);
      else if (st.isDirectory()) {
        listing.push(`${r}/ ${meta}`);
        walk(r);
      } else listing.push(`${r} ${st.size} ${createHash('sha256').update(fs.readFileSync(abs)).digest('hex')} ${meta}`);
    }
  };
  walk('');
  return { hash: createHash('sha256').update(listing.join('\n')).digest('hex'), listing };
}

export function sha512File(file: string): string {
  return createHash('sha512').update(fs.readFileSync(file)).digest('hex');
}

/** A .tar.gz of `files` (made with the system tar, like a vendor's build would). */
export function makeTarGz(dir: string, name: string, files: readonly TreeFile[]): string {
  const src = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-pkgsrc-'));
  writeTree(src, files);
  const out = path.join(dir, name);
  execFileSync('tar', ['-czf', out, '-C', src, '.']);
  fs.rmSync(src, { recursive: true, force: true });
  fs.chmodSync(out, 0o644);
  return out;
}

export function randomContent(bytes: number): Buffer {
  return randomBytes(bytes);
}

/** A folder anyone may enter (mkdtemp makes 0700 ones). */
export function openTempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  fs.chmodSync(dir, 0o755);
  return dir;
}

export interface MachineFixture {
  root: string;
  installDir: string;
  stateDir: string;
  configPath: string;
  logDir: string;
  packages: string;
}

/**
 * root/               root-owned, 0755
 *   config/machine.json   root-owned config (the helper refuses anything else); trusts the test VENDOR key
 *   mnt/app/           the install folder (root-owned), mnt/.app.lockstep the state folder
 *   packages/          readable packages
 *   logs/              the user's log folder
 */
export function machineFixture(opts: { user?: { uid: number }; installer?: Record<string, unknown>; trustedKeys?: string[]; beforeInstall?: (mnt: string) => void; installed: readonly TreeFile[] }): MachineFixture {
  const root = openTempDir('lockstep-inst-');
  const mnt = path.join(root, 'mnt');
  fs.mkdirSync(mnt, { mode: 0o755 });
  opts.beforeInstall?.(mnt);
  const installDir = path.join(mnt, 'app');
  writeTree(installDir, opts.installed);
  const configDir = path.join(root, 'config');
  fs.mkdirSync(configDir, { mode: 0o755 });
  const packages = path.join(root, 'packages');
  fs.mkdirSync(packages, { mode: 0o755 });
  const logDir = path.join(root, 'logs');
  fs.mkdirSync(logDir, { mode: 0o755 });
  if (opts.user) fs.chownSync(logDir, opts.user.uid, 0);
  const configPath = path.join(configDir, 'machine.json');
  // The test vendor's key is trusted the way IT trusts a test feed's: in the root-owned machine configuration.
  const feed = { url: 'https://feed.invalid/', trustedKeys: opts.trustedKeys ?? [VENDOR.publicKey] };
  const config = { installDir, database: { url: `sqlite:${path.join(root, 'shared.db')}` }, log: { dir: logDir }, installer: { ...(opts.installer ?? {}) }, feed };
  fs.writeFileSync(configPath, JSON.stringify(config, null, 2), { mode: 0o644 });
  if (opts.user) placeHelperConfig(configPath, opts.user.uid);
  return { root, installDir, stateDir: path.join(mnt, '.app.lockstep'), configPath, logDir, packages };
}

/** Where this test build's helper reads the machine configuration when `uid` runs it (see LOCATION_OVERRIDE_FILE). */
export const HELPER_CONFIG_TEMPLATE = '/etc/lockstep-test/{uid}/lockstep.machine.json';

export function helperConfigFor(uid: number): string {
  return HELPER_CONFIG_TEMPLATE.replace('{uid}', String(uid));
}

/**
 * Makes `configPath` the configuration the helper reads when `uid` runs it: the test build's location override
 * (root-owned, beside the helper) and a hard link at the per-user location, so later edits of the fixture's file are
 * what the helper reads too. Root-owned folders all the way up, as on a real machine.
 */
export function placeHelperConfig(configPath: string, uid: number): string {
  const current = fs.existsSync(LOCATION_OVERRIDE_FILE) ? fs.readFileSync(LOCATION_OVERRIDE_FILE, 'utf8') : null;
  if (current !== HELPER_CONFIG_TEMPLATE + '\n') {
    fs.writeFileSync(`${LOCATION_OVERRIDE_FILE}.tmp`, HELPER_CONFIG_TEMPLATE + '\n', { mode: 0o644 });
    fs.renameSync(`${LOCATION_OVERRIDE_FILE}.tmp`, LOCATION_OVERRIDE_FILE);
  }
  const target = helperConfigFor(uid);
  fs.mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
  fs.chmodSync(path.dirname(path.dirname(target)), 0o755);
  fs.chmodSync(path.dirname(target), 0o755);
  fs.rmSync(target, { force: true });
  try {
    fs.linkSync(configPath, target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
    fs.copyFileSync(configPath, target); // another file system: a copy (edits after this are not seen)
  }
  return target;
}

/** Every file below `dir` (for "the password is in no file"). */
export function filesBelow(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
}
