/**
 * Modules travel with the release, on SQLite and PostgreSQL: the administrator runs 1.1.0 with module crm 2.0.0 (signed
 * for >=1.1.0) and legacy 1.0.0 (signed for <1.1.0 only) and releases 1.1.0 for all. The crm package goes into the
 * shared database with its signed manifest; legacy stays behind. Every workstation upgrading from the database then
 * runs 1.1.0 with crm 2.0.0 — the signed bytes, fetched from the database, not the feed — and reports legacy (audit row
 * with E_MODULE_INCOMPATIBLE, registry row) instead of silently breaking. A module package changed in the database
 * stops the upgrade with nothing installed.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { addModule } from '../../authoring/feedWriter';
import { FleetStore } from '../../db/fleetStore';
import { MachineConfigSchema } from '../../kernel/config';
import { writeVersionFile } from '../../kernel/installation';
import { MemoryLogger } from '../../kernel/log';
import { signerFromPem } from '../../kernel/signing';
import { openWorkstation } from '../../engine/workstation';
import { feedSource } from './helpers/inProcess';
import { startFeed } from './helpers/site';
import { engineFor, identity } from '../helpers/actors';
import { backends, migratedDb, tempDir } from '../helpers/backends';

const noSecrets = { get: async () => null, set: async () => undefined, delete: async () => false };
const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

for (const backend of backends().filter((b) => b.name !== 'mssql')) {
  describe(`modules travel with the release (${backend.name})`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    after(async () => {
      for (const c of cleanups.reverse()) await c().catch(() => undefined);
    });

    test('the released module versions land on every upgraded workstation; an incompatible one is reported; a changed module package installs nothing', async () => {
      const site = await startFeed(['1.1.0'], 128 * 1024);
      cleanups.push(() => site.close());
      const signer = signerFromPem(fs.readFileSync(path.join(path.dirname(site.feed.feedDir), 'vendor', 'demo-vendor.key'), 'utf8'));
      const build = tempDir('lockstep-modules-build-');
      const modules: Record<string, string> = {};
      for (const [id, version, appRange] of [['crm', '1.0.0', '<1.1.0'], ['crm', '2.0.0', '>=1.1.0'], ['legacy', '1.0.0', '<1.1.0']] as const) {
        const file = path.join(build, `${id}-${version}.plugin`);
        fs.writeFileSync(file, randomBytes(150 * 1024));
        await addModule(site.feed.feedDir, { file, id, version, appRange }, signer);
        modules[`${id}@${version}`] = file;
      }

      const { db, tdb, cleanup } = await migratedDb(backend);
      cleanups.push(cleanup);
      const fleet = new FleetStore(db);
      await engineFor(fleet, identity('seed'), '1.0.0').ledger.release('1.0.0');
      const me = (await import('node:os')).userInfo().username;
      async function workstation(name: string, installed: string, withModules: Record<string, string>, extra: Record<string, unknown> = {}) {
        const dir = tempDir(`lockstep-modules-${name}-`);
        const app = path.join(dir, 'app');
        fs.mkdirSync(app);
        writeVersionFile(app, installed);
        for (const [id, version] of Object.entries(withModules)) {
          fs.mkdirSync(path.join(app, 'modules', id), { recursive: true });
          fs.copyFileSync(modules[`${id}@${version}`]!, path.join(app, 'modules', id, `${id}-${version}.plugin`));
        }
        fs.writeFileSync(path.join(app, 'lockstep-modules.json'), JSON.stringify(withModules));
        const raw = { installDir: app, database: { url: tdb.configUrl, passwordFromKeychain: false }, workstation: { id: name }, fleet: { chunkBytes: 64 * 1024 }, feed: { url: site.url, trustedKeys: [site.feed.publicKey], cacheDir: path.join(dir, 'feed-cache') }, ...extra };
        const file = path.join(dir, 'lockstep.machine.json');
        fs.writeFileSync(file, JSON.stringify(raw));
        const ws = await openWorkstation({ ...MachineConfigSchema.parse(raw), sourceFile: file }, { host: { platform: 'linux', defaultLogDir: dir, secrets: noSecrets }, logger: new MemoryLogger(), fleet: { sources: [feedSource(site.feed)] } });
        cleanups.push(() => ws.close());
        return { ws, app, list: () => JSON.parse(fs.readFileSync(path.join(app, 'lockstep-modules.json'), 'utf8')) as Record<string, string>, installed: () => (JSON.parse(fs.readFileSync(path.join(app, 'lockstep-version.json'), 'utf8')) as { version: string }).version };
      }

      const admin = await workstation('ADMIN-PC', '1.1.0', { crm: '2.0.0', legacy: '1.0.0' }, { administrators: [me] });
      const released = await admin.ws.ledger.release('1.1.0');
      const carried = await fleet.releaseModules.carried(released.id);
      assert.deepEqual(carried.map((c) => [c.moduleId, c.moduleVersion, c.release.channel, c.release.packageSha512 !== null]), [['crm', '2.0.0', 'stable#module:crm', true]], 'crm travels, legacy (signed for <1.1.0) stays behind');
      assert.deepEqual((await admin.ws.ledger.list()).map((r) => r.version), ['1.1.0', '1.0.0'], 'module packages are not releases of the app channel');
      const pluginRequests = () => site.requests.filter((r) => r.endsWith('.plugin')).length;

      for (const name of ['FRONT-DESK', 'BACK-OFFICE']) {
        const clerk = await workstation(name, '1.0.0', { crm: '1.0.0', legacy: '1.0.0' });
        const result = await clerk.ws.gate.run();
        assert.deepEqual([result.decision.type, result.restartInto, clerk.installed()], ['upgrade', '1.1.0', '1.1.0'], JSON.stringify(result.decision));
        assert.deepEqual(clerk.list(), { crm: '2.0.0', legacy: '1.0.0' });
        assert.deepEqual(fs.readdirSync(path.join(clerk.app, 'modules', 'crm')), ['crm-2.0.0.plugin']);
        assert.equal(sha256(path.join(clerk.app, 'modules', 'crm', 'crm-2.0.0.plugin')), sha256(modules['crm@2.0.0']!), 'the signed module bytes');
        assert.equal(sha256(path.join(clerk.app, 'modules', 'legacy', 'legacy-1.0.0.plugin')), sha256(modules['legacy@1.0.0']!), 'the incompatible module kept as it was');
        const events = (await fleet.events({ limit: 200 })).filter((e) => e.workstationId === name);
        assert.deepEqual(events.filter((e) => e.action === 'module-incompatible').map((e) => [e.outcome, e.detail?.['modules']]), [['E_MODULE_INCOMPATIBLE', ['legacy@1.0.0']]]);
        assert.deepEqual(events.filter((e) => e.action === 'module-update').map((e) => e.detail?.['modules']), [['crm@2.0.0']]);
        assert.match((await fleet.workstations.get(name))!.lastResult ?? '', /upgraded 1\.0\.0 → 1\.1\.0; E_MODULE_INCOMPATIBLE: no version of legacy@1\.0\.0/);
      }
      assert.equal(pluginRequests(), 0, 'no workstation fetched a module from the feed');

      // A database writer changes the stored module package (and its chunk hash, as an attacker would).
      const moduleReleaseId = carried[0]!.release.id;
      const chunk: { bytes: Buffer } = await db.knex('lockstep_release_chunks').where({ release_id: moduleReleaseId, seq: 0 }).first('bytes');
      const forged = Buffer.from(chunk.bytes);
      forged[0] = forged[0]! ^ 0xff;
      await db.knex('lockstep_release_chunks').where({ release_id: moduleReleaseId, seq: 0 }).update({ bytes: forged, sha256: createHash('sha256').update(forged).digest('hex') });
      const victim = await workstation('VICTIM-PC', '1.0.0', { crm: '1.0.0', legacy: '1.0.0' });
      const refused = await victim.ws.gate.run();
      assert.deepEqual([refused.decision.type, refused.decision.type === 'outdated' ? refused.decision.reason?.code : null, victim.installed()], ['outdated', 'E_SIGNATURE', '1.0.0']);
      assert.deepEqual(victim.list(), { crm: '1.0.0', legacy: '1.0.0' });
      assert.equal(sha256(path.join(victim.app, 'modules', 'crm', 'crm-1.0.0.plugin')), sha256(modules['crm@1.0.0']!));
    });
  });
}
