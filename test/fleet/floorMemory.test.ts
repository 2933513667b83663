/**
 * A database writer cannot move workstations below the vendor's security floor (S15, S31). The writer here uses plain
 * SQL through knex, as anyone holding a workstation's database password can: the stored catalogs are deleted, the
 * manifests that carry the floor emptied, "withdrawn by"/"released by" forged in an administrator's name, and the
 * pointer set back to an older, genuinely signed version. A workstation that once verified the floor keeps it in a local
 * record and stays; one that never verified any floor refuses every move back; the floor travels inside each signed
 * manifest, so deleting the catalogs alone erases nothing.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { Db } from '../../db/connection';
import { StateDir, readJournal } from '../../installer/journal';
import { confirmHealthy } from '../../installer/recovery';
import { MachineConfigSchema } from '../../kernel/config';
import { LOCAL_FLOOR_FILE } from '../../kernel/localFloor';
import { writeVersionFile } from '../../kernel/installation';
import { MemoryLogger } from '../../kernel/log';
import { signerFromPem } from '../../kernel/signing';
import { refreshCatalog } from '../../authoring/feedWriter';
import { openWorkstation } from '../../engine/workstation';
import { Backend, backends, migratedDb, tempDir } from '../helpers/backends';
import { releaseWithPackage } from './helpers/inProcess';
import { CountingFeed, startFeed } from './helpers/site';

const noSecrets = { get: async () => null, set: async () => undefined, delete: async () => false };

async function workstation(url: string, publicKey: string, installed: string, fleet: Record<string, unknown> = {}) {
  const dir = tempDir('lockstep-floor-');
  fs.mkdirSync(path.join(dir, 'app'));
  writeVersionFile(path.join(dir, 'app'), installed);
  const raw = { installDir: path.join(dir, 'app'), database: { url, passwordFromKeychain: false }, administrators: ['admin'], workstation: { id: `ws-${path.basename(dir)}` }, fleet: { chunkBytes: 64 * 1024, ...fleet }, feed: { url: 'http://127.0.0.1:9/', trustedKeys: [publicKey] } };
  const file = path.join(dir, 'lockstep.machine.json');
  fs.writeFileSync(file, JSON.stringify(raw));
  const ws = await openWorkstation({ ...MachineConfigSchema.parse(raw), sourceFile: file }, { host: { platform: 'linux', defaultLogDir: dir, secrets: noSecrets }, logger: new MemoryLogger() });
  return {
    ws,
    dir,
    installed: () => (JSON.parse(fs.readFileSync(path.join(dir, 'app', 'lockstep-version.json'), 'utf8')) as { version: string }).version,
    floorRecord: () => (JSON.parse(fs.readFileSync(path.join(dir, '.app.lockstep', LOCAL_FLOOR_FILE), 'utf8')) as { floor: string | null }).floor,
  };
}

/** The vendor raises the floor: `feed refresh --security-floor` re-signs the catalog and every version's manifest. */
function vendorRaisesFloor(site: CountingFeed, floor: string): void {
  const signer = signerFromPem(fs.readFileSync(path.join(path.dirname(site.feed.feedDir), 'vendor', 'demo-vendor.key'), 'utf8'));
  refreshCatalog(site.feed.feedDir, { securityFloor: floor }, signer);
}

/** What a database writer does: no catalog left, the newer manifest emptied, the move back "made by admin". */
async function forgeMoveBack(db: Db, keepNewerManifest = false): Promise<void> {
  await db.knex('lockstep_release_packages').update({ catalog: null });
  const r11 = await db.knex('lockstep_releases').where({ version: '1.1.0' }).first('id');
  const newer = keepNewerManifest ? {} : { manifest: null, manifest_signature: null };
  await db.knex('lockstep_releases').where({ version: '1.2.0' }).update({ state: 'withdrawn', withdrawn_by: 'admin', withdrawn_from: 'ADMIN-PC', ...newer });
  await db.knex('lockstep_releases').where({ version: '1.1.0' }).update({ released_by: 'admin' });
  await db.knex('lockstep_current').where({ channel: 'stable' }).update({ release_id: r11.id });
}

for (const backend of backends().filter((b): b is Backend => b.name !== 'mssql')) {
  describe(`a database writer and the security floor (${backend.name})`, () => {
    const cleanups: Array<() => Promise<void>> = [];
    after(async () => {
      for (const c of cleanups.reverse()) await c();
    });

    /** 1.1.0 released while the vendor had no floor; then the floor rose to 1.2.0 and 1.2.0 was released. */
    async function site() {
      const feed = await startFeed(['1.1.0', '1.2.0'], 128 * 1024);
      cleanups.push(() => feed.close());
      const { db, tdb, cleanup } = await migratedDb(backend);
      cleanups.push(cleanup);
      await releaseWithPackage(db, feed.feed, '1.1.0');
      vendorRaisesFloor(feed, '1.2.0');
      await releaseWithPackage(db, feed.feed, '1.2.0');
      return { feed, db, url: tdb.configUrl };
    }

    test('the floor travels in the stored manifest: with every catalog deleted, the move back is still refused', async () => {
      const { feed, db, url } = await site();
      const stored = await db.knex('lockstep_releases').orderBy('version_key').select('version', 'manifest');
      assert.deepEqual(stored.map((r) => [r.version, (JSON.parse(r.manifest as string) as { securityFloor?: string | null }).securityFloor]), [['1.1.0', null], ['1.2.0', '1.2.0']]);
      await forgeMoveBack(db, true);
      const w = await workstation(url, feed.feed.publicKey, '1.2.0');
      cleanups.push(() => w.ws.close());
      const result = await w.ws.gate.run();
      assert.equal(result.decision.type === 'outdated' && result.decision.reason?.code, 'E_BELOW_SECURITY_FLOOR');
      assert.equal(w.installed(), '1.2.0');
      assert.equal(w.floorRecord(), '1.2.0', 'the floor read from the installed version\'s manifest is now remembered');
    });

    test('a workstation that once verified the floor refuses to go below it after catalogs and manifests are erased', async () => {
      const { feed, db, url } = await site();
      // IT's configured floor (1.0.0) makes the floor known but low: only the remembered floor stops the attack.
      const w = await workstation(url, feed.feed.publicKey, '1.1.0', { securityFloor: '1.0.0' });
      cleanups.push(() => w.ws.close());
      const up = await w.ws.gate.run();
      assert.deepEqual([up.decision.type, up.restartInto], ['upgrade', '1.2.0']);
      assert.equal(w.floorRecord(), '1.2.0');
      // 1.2.0 starts healthily, so nothing but the floor stands between this workstation and a move back.
      const state = new StateDir(path.join(w.dir, '.app.lockstep'));
      assert.equal(confirmHealthy(state, readJournal(state)), true);

      await forgeMoveBack(db);
      assert.deepEqual(await db.knex('lockstep_release_packages').whereNotNull('catalog').select('release_id'), []);
      const before = fs.readdirSync(path.join(w.dir, 'app')).sort();
      const back = await w.ws.gate.run();
      assert.equal(back.decision.type, 'outdated');
      assert.equal(back.decision.type === 'outdated' && back.decision.reason?.code, 'E_BELOW_SECURITY_FLOOR');
      assert.deepEqual(back.decision.type === 'outdated' && back.decision.reason?.details, { version: '1.1.0', floor: '1.2.0' });
      assert.equal(w.installed(), '1.2.0');
      assert.deepEqual(fs.readdirSync(path.join(w.dir, 'app')).sort(), before, 'the install folder is untouched');
      assert.equal(w.floorRecord(), '1.2.0', 'the record was not lowered');
      const audit = await db.knex('lockstep_events').where({ action: 'upgrade', version: '1.1.0' }).select('outcome');
      assert.deepEqual(audit.map((a) => a.outcome), ['E_BELOW_SECURITY_FLOOR']);
    });

    test('a fresh workstation that never verified a floor refuses any move back', async () => {
      const { feed, db, url } = await site();
      await forgeMoveBack(db);
      const w = await workstation(url, feed.feed.publicKey, '1.2.0');
      cleanups.push(() => w.ws.close());
      const back = await w.ws.gate.run();
      assert.equal(back.decision.type === 'outdated' && back.decision.reason?.code, 'E_DOWNGRADE');
      assert.deepEqual(back.decision.type === 'outdated' && back.decision.reason?.details, { version: '1.1.0', floor: null });
      assert.equal(w.installed(), '1.2.0');
    });
  });
}
