/**
 * Modules that travel with a fleet release (S6 across the fleet) onto a workstation whose user cannot write the install
 * folder: an administrator releases 1.1.0 with module crm 2.0.0 into a shared SQLite database; a real unprivileged user
 * runs the start-up gate against a root-owned install folder holding 1.0.0 with crm 1.0.0 and legacy 1.0.0. The
 * upgrade goes through one sudo session that installs the app and crm from the database's signed bytes and carries
 * legacy; before this, the installed modules made the whole upgrade fail with E_NOT_PERMITTED. Runs as root on Linux.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addModule } from '../../authoring/feedWriter';
import { FleetStore } from '../../db/fleetStore';
import { openWorkstation } from '../../engine/workstation';
import { MachineConfigSchema } from '../../kernel/config';
import { writeVersionFile } from '../../kernel/installation';
import { MemoryLogger } from '../../kernel/log';
import { signerFromPem } from '../../kernel/signing';
import { backends, migratedDb, tempDir } from '../helpers/backends';
import { feedSource } from '../fleet/helpers/inProcess';
import { startFeed } from '../fleet/helpers/site';
import { RealUser, canRunRealUserSuite, createUser } from './support/realUser';
import { machineFixture, treeHash } from './support/fixtures';

assert.ok(canRunRealUserSuite(), 'The real-user installer suite needs root on Linux with useradd, chpasswd, visudo, runuser, sudo and strace: run .ci/setup-installer.sh as root.');

const GATE_AS_USER = path.join(__dirname, 'support', 'gateAsUser.js');
const noSecrets = { get: async () => null, set: async () => undefined, delete: async () => false };
const cleanups: Array<() => Promise<void> | void> = [];
let user: RealUser;
before(() => {
  user = createUser();
});
after(async () => {
  user.remove();
  for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => undefined);
});

function gateAs(u: RealUser, configFile: string, password: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn('runuser', ['-u', u.name, '--', process.execPath, GATE_AS_USER, configFile], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', HOME: '/nonexistent' }, cwd: '/' });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', () => {
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as Record<string, unknown>);
      } catch {
        reject(new Error(`no result: ${stdout}\n${stderr}`));
      }
    });
    child.stdin.end(password + '\n');
  });
}

describe('a fleet release with modules onto a workstation the user cannot write', () => {
  test('one sudo session: the app and the released module from the database, the incompatible module carried, audited', async () => {
    const site = await startFeed(['1.1.0'], 64 * 1024);
    cleanups.push(() => site.close());
    const signer = signerFromPem(fs.readFileSync(path.join(path.dirname(site.feed.feedDir), 'vendor', 'demo-vendor.key'), 'utf8'));
    const build = tempDir('lockstep-elevated-fleet-build-');
    cleanups.push(() => fs.rmSync(build, { recursive: true, force: true }));
    const modules: Record<string, string> = {};
    for (const [id, version, appRange] of [['crm', '1.0.0', '<1.1.0'], ['crm', '2.0.0', '>=1.1.0'], ['legacy', '1.0.0', '<1.1.0']] as const) {
      const file = path.join(build, `${id}-${version}.plugin`);
      fs.writeFileSync(file, randomBytes(100 * 1024));
      await addModule(site.feed.feedDir, { file, id, version, appRange }, signer);
      modules[`${id}@${version}`] = file;
    }
    const sqlite = backends().find((b) => b.name === 'sqlite')!;
    const { db, tdb, cleanup } = await migratedDb(sqlite);
    cleanups.push(cleanup);

    // The administrator (in this process) runs 1.1.0 with crm 2.0.0 and legacy 1.0.0 and releases 1.1.0 for all.
    const adminDir = tempDir('lockstep-elevated-fleet-admin-');
    cleanups.push(() => fs.rmSync(adminDir, { recursive: true, force: true }));
    const adminApp = path.join(adminDir, 'app');
    fs.mkdirSync(adminApp);
    writeVersionFile(adminApp, '1.1.0');
    for (const key of ['crm@2.0.0', 'legacy@1.0.0']) {
      const [id, version] = key.split('@') as [string, string];
      fs.mkdirSync(path.join(adminApp, 'modules', id), { recursive: true });
      fs.copyFileSync(modules[key]!, path.join(adminApp, 'modules', id, `${id}-${version}.plugin`));
    }
    fs.writeFileSync(path.join(adminApp, 'lockstep-modules.json'), JSON.stringify({ crm: '2.0.0', legacy: '1.0.0' }));
    const me = (await import('node:os')).userInfo().username;
    const adminRaw = { installDir: adminApp, database: { url: tdb.configUrl, passwordFromKeychain: false }, workstation: { id: 'ADMIN-PC' }, administrators: [me], fleet: { chunkBytes: 64 * 1024 }, feed: { url: site.url, trustedKeys: [site.feed.publicKey], cacheDir: path.join(adminDir, 'cache') } };
    const adminFile = path.join(adminDir, 'lockstep.machine.json');
    fs.writeFileSync(adminFile, JSON.stringify(adminRaw));
    const admin = await openWorkstation({ ...MachineConfigSchema.parse(adminRaw), sourceFile: adminFile }, { host: { platform: 'linux', defaultLogDir: adminDir, secrets: noSecrets }, logger: new MemoryLogger(), fleet: { sources: [feedSource(site.feed)] } });
    await admin.ledger.release('1.1.0');
    await admin.close();
    await db.close();

    // The clerk's workstation: root-owned install folder and configuration; the database and caches are the user's.
    const fx = machineFixture({
      user,
      installed: [
        { path: 'lockstep-version.json', content: JSON.stringify({ version: '1.0.0' }) + '\n' },
        { path: 'lockstep-modules.json', content: JSON.stringify({ crm: '1.0.0', legacy: '1.0.0' }) },
        { path: 'modules/crm/crm-1.0.0.plugin', content: fs.readFileSync(modules['crm@1.0.0']!) },
        { path: 'modules/legacy/legacy-1.0.0.plugin', content: fs.readFileSync(modules['legacy@1.0.0']!) },
      ],
    });
    cleanups.push(() => fs.rmSync(fx.root, { recursive: true, force: true }));
    const dbFile = tdb.configUrl.replace(/^sqlite:/, '');
    fs.chownSync(path.dirname(dbFile), user.uid, 0);
    for (const f of fs.readdirSync(path.dirname(dbFile))) fs.chownSync(path.join(path.dirname(dbFile), f), user.uid, 0);
    const cache = path.join(fx.root, 'cache');
    fs.mkdirSync(cache, { mode: 0o755 });
    fs.chownSync(cache, user.uid, 0);
    const config = JSON.parse(fs.readFileSync(fx.configPath, 'utf8'));
    // Rewritten in place: the helper reads the same file through its hard link.
    fs.writeFileSync(fx.configPath, JSON.stringify({ ...config, database: { url: tdb.configUrl, passwordFromKeychain: false }, workstation: { id: 'FRONT-DESK' }, fleet: { chunkBytes: 64 * 1024, cacheDir: path.join(cache, 'packages') }, feed: { url: site.url, trustedKeys: [site.feed.publicKey], cacheDir: path.join(cache, 'feed') } }, null, 2));

    const result = await gateAs(user, fx.configPath, user.password);
    assert.deepEqual(result, { decision: 'upgrade', reason: null, restartInto: '1.1.0' });
    const listing = treeHash(fx.installDir).listing;
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(fx.installDir, 'lockstep-modules.json'), 'utf8')), { crm: '2.0.0', legacy: '1.0.0' });
    assert.deepEqual(fs.readdirSync(path.join(fx.installDir, 'modules', 'crm')), ['crm-2.0.0.plugin']);
    assert.deepEqual(fs.readFileSync(path.join(fx.installDir, 'modules/crm/crm-2.0.0.plugin')), fs.readFileSync(modules['crm@2.0.0']!), 'the signed module bytes');
    assert.deepEqual(fs.readFileSync(path.join(fx.installDir, 'modules/legacy/legacy-1.0.0.plugin')), fs.readFileSync(modules['legacy@1.0.0']!), 'the incompatible module kept as it was');
    assert.ok(listing.filter((l) => l.startsWith('modules')).every((l) => / (644|755) 0:0$/.test(l)), listing.join('\n'));
    assert.equal(JSON.parse(fs.readFileSync(path.join(fx.installDir, 'lockstep-version.json'), 'utf8')).version, '1.1.0');

    const reopened = await tdb.open();
    cleanups.push(() => reopened.close());
    const fleet = new FleetStore(reopened);
    const events = (await fleet.events({ limit: 200 })).filter((e) => e.workstationId === 'FRONT-DESK');
    assert.deepEqual(events.filter((e) => e.action === 'upgrade').map((e) => [e.outcome, e.detail?.['elevation']]), [['ok', 'sudo']]);
    assert.deepEqual(events.filter((e) => e.action === 'module-update').map((e) => e.detail?.['modules']), [['crm@2.0.0']]);
    assert.deepEqual(events.filter((e) => e.action === 'module-incompatible').map((e) => e.detail?.['modules']), [['legacy@1.0.0']]);
  });
});
