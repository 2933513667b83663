/**
 * S18: whoever can write to the shared database cannot make a workstation install anything the vendor did not sign.
 * Each tampering case → E_SIGNATURE (or a refused move back), nothing installed, an audit row, the outdated notice.
 * The workstation runs the real gate, the real fleet upgrader and the real installer, in-process.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { Db } from '../../db/connection';
import { MachineConfigSchema } from '../../kernel/config';
import { writeVersionFile } from '../../kernel/installation';
import { MemoryLogger } from '../../kernel/log';
import { openWorkstation } from '../../engine/workstation';
import { Backend, backends, migratedDb, tempDir } from '../helpers/backends';
import { releaseWithPackage, settings } from './helpers/inProcess';
import { FleetConfig } from '../../kernel/fleetConfig';
import { CountingFeed, startFeed } from './helpers/site';

const noSecrets = { get: async () => null, set: async () => undefined, delete: async () => false };

async function workstation(url: string, publicKey: string, installed: string, extra: Record<string, unknown> = {}) {
  const dir = tempDir('lockstep-tamper-');
  fs.mkdirSync(path.join(dir, 'app'));
  writeVersionFile(path.join(dir, 'app'), installed);
  const raw = { installDir: path.join(dir, 'app'), database: { url, passwordFromKeychain: false }, workstation: { id: `ws-${path.basename(dir)}` }, fleet: { chunkBytes: 64 * 1024 }, feed: { url: 'http://127.0.0.1:9/', trustedKeys: [publicKey] }, ...extra };
  const file = path.join(dir, 'lockstep.machine.json');
  fs.writeFileSync(file, JSON.stringify(raw));
  const ws = await openWorkstation({ ...MachineConfigSchema.parse(raw), sourceFile: file }, { host: { platform: 'linux', defaultLogDir: dir, secrets: noSecrets }, logger: new MemoryLogger() });
  return { ws, dir, installed: () => (JSON.parse(fs.readFileSync(path.join(dir, 'app', 'lockstep-version.json'), 'utf8')) as { version: string }).version };
}

type Tamper = (db: Db, releaseId: number, backend: Backend['name']) => Promise<void>;

/** Each case names the layout the packages are stored in: fixed-size chunks (stored before blocks) or shared blocks. */
const CASES: Array<[string, Tamper, FleetConfig['databaseLayout']]> = [
  ['a chunk changed (its recorded hash left alone)', async (db, id) => {
    await db.knex('lockstep_release_chunks').where({ release_id: id, seq: 3 }).update({ bytes: Buffer.alloc(64 * 1024, 1) });
  }, 'chunks'],
  ['a chunk changed and its recorded hash updated to match', async (db, id) => {
    const evil = Buffer.alloc(64 * 1024, 2);
    await db.knex('lockstep_release_chunks').where({ release_id: id, seq: 3 }).update({ bytes: evil, sha256: createHash('sha256').update(evil).digest('hex') });
  }, 'chunks'],
  ['a block changed (the hash it is stored under left alone)', async (db, id) => {
    const listed = await db.knex('lockstep_release_blocks').where({ release_id: id, seq: 3 }).first('sha256', 'size');
    await db.knex('lockstep_blocks').where({ sha256: listed.sha256 }).update({ bytes: Buffer.alloc(Number(listed.size), 1) });
  }, 'blocks'],
  ['a block missing (deleted behind the foreign key\'s back)', async (db, id, backend) => {
    const listed = await db.knex('lockstep_release_blocks').where({ release_id: id, seq: 3 }).first('sha256');
    if (backend === 'sqlite') await db.knex.raw('PRAGMA foreign_keys = OFF');
    else await db.knex.raw('ALTER TABLE lockstep_release_blocks DROP CONSTRAINT lockstep_release_blocks_sha256_foreign');
    await db.knex('lockstep_blocks').where({ sha256: listed.sha256 }).delete();
    if (backend === 'sqlite') await db.knex.raw('PRAGMA foreign_keys = ON');
  }, 'blocks'],
  ['two genuine blocks swapped in the block list (offsets fixed up, every block matches its hash)', async (db, id) => {
    const [a, b] = await db.knex('lockstep_release_blocks').where({ release_id: id }).whereIn('seq', [3, 4]).orderBy('seq').select('sha256', 'size', 'byte_offset');
    await db.knex('lockstep_release_blocks').where({ release_id: id, seq: 3 }).update({ sha256: b.sha256, size: b.size });
    await db.knex('lockstep_release_blocks').where({ release_id: id, seq: 4 }).update({ sha256: a.sha256, size: a.size, byte_offset: Number(a.byte_offset) + Number(b.size) });
  }, 'blocks'],
  ['the stored manifest changed (another SHA-512 put into it)', async (db, id) => {
    const row = await db.knex('lockstep_releases').where({ id }).first('manifest');
    const m = JSON.parse(row.manifest as string) as { files: Array<{ sha512: string }> };
    m.files[0]!.sha512 = createHash('sha512').update('evil').digest('base64');
    await db.knex('lockstep_releases').where({ id }).update({ manifest: JSON.stringify(m) });
  }, 'blocks'],
  ['the stored SHA-512 changed', async (db, id) => {
    await db.knex('lockstep_releases').where({ id }).update({ package_sha512: createHash('sha512').update('evil').digest('base64') });
  }, 'blocks'],
  ['the package row and every chunk replaced by another (genuine, older) package', async (db, id) => {
    const older = await db.knex('lockstep_releases').where({ version: '1.1.0' }).first('id');
    const chunks = await db.knex('lockstep_release_chunks').where({ release_id: older.id }).select('seq', 'bytes', 'size', 'sha256');
    const pkg = await db.knex('lockstep_release_packages').where({ release_id: older.id }).first();
    await db.knex('lockstep_release_chunks').where({ release_id: id }).delete();
    for (const c of chunks) await db.knex('lockstep_release_chunks').insert({ ...c, release_id: id });
    await db.knex('lockstep_release_packages').where({ release_id: id }).update({ size: pkg.size, sha512: pkg.sha512, chunk_count: pkg.chunk_count });
  }, 'chunks'],
  ['the manifest and signature of another version copied into the row', async (db, id) => {
    const older = await db.knex('lockstep_releases').where({ version: '1.1.0' }).first('manifest', 'manifest_signature', 'package_sha512', 'package_size');
    await db.knex('lockstep_releases').where({ id }).update(older);
  }, 'blocks'],
];

for (const backend of backends().filter((b): b is Backend => b.name !== 'mssql')) {
  describe(`tampering with the shared database (${backend.name})`, () => {
    let site: CountingFeed;
    const cleanups: Array<() => Promise<void>> = [];
    after(async () => {
      for (const c of cleanups.reverse()) await c();
      await site?.close();
    });

    for (const [name, tamper, layout] of CASES) {
      test(`${name} (${layout}) → E_SIGNATURE, nothing installed, an audit row`, async () => {
        site ??= await startFeed(['1.1.0', '1.2.0'], 512 * 1024);
        const { db, tdb, cleanup } = await migratedDb(backend);
        cleanups.push(cleanup);
        await releaseWithPackage(db, site.feed, '1.1.0', settings({ databaseLayout: layout }));
        const target = await releaseWithPackage(db, site.feed, '1.2.0', settings({ databaseLayout: layout }));
        await tamper(db, target.id, backend.name);
        const w = await workstation(tdb.configUrl, site.feed.publicKey, '1.0.0');
        cleanups.push(() => w.ws.close());
        const before = fs.readdirSync(path.join(w.dir, 'app')).sort();
        const result = await w.ws.gate.run();
        assert.equal(result.decision.type, 'outdated');
        assert.equal(result.decision.type === 'outdated' && result.decision.reason?.code, 'E_SIGNATURE');
        assert.equal(result.mayUseDatabase, false);
        assert.equal(w.installed(), '1.0.0');
        assert.deepEqual(fs.readdirSync(path.join(w.dir, 'app')).sort(), before, 'the install folder is untouched');
        const audit = await db.knex('lockstep_events').where({ action: 'upgrade', version: '1.2.0' }).select('outcome');
        assert.deepEqual(audit.map((a) => a.outcome), ['E_SIGNATURE']);
      });
    }

    test('a pointer moved back by someone who is not an administrator, or below the security floor, is not followed', async () => {
      site ??= await startFeed(['1.1.0', '1.2.0'], 512 * 1024);
      const { db, tdb, cleanup } = await migratedDb(backend);
      cleanups.push(cleanup);
      const r11 = await releaseWithPackage(db, site.feed, '1.1.0');
      const r12 = await releaseWithPackage(db, site.feed, '1.2.0');
      // A database writer "withdraws" 1.2.0 in the name of mallory and points back to 1.1.0.
      await db.knex('lockstep_releases').where({ id: r12.id }).update({ state: 'withdrawn', withdrawn_by: 'mallory' });
      await db.knex('lockstep_current').where({ channel: 'stable' }).update({ release_id: r11.id });
      const w = await workstation(tdb.configUrl, site.feed.publicKey, '1.2.0', { administrators: ['admin'] });
      cleanups.push(() => w.ws.close());
      const moved = await w.ws.gate.run();
      assert.equal(moved.decision.type === 'outdated' && moved.decision.reason?.code, 'E_DOWNGRADE');
      assert.equal(w.installed(), '1.2.0');

      // Made by the administrator this time, but the vendor's floor (IT's config) is 1.2.0.
      await db.knex('lockstep_releases').where({ id: r12.id }).update({ withdrawn_by: 'admin' });
      const floored = await workstation(tdb.configUrl, site.feed.publicKey, '1.2.0', { administrators: ['admin'], fleet: { chunkBytes: 64 * 1024, securityFloor: '1.2.0' } });
      cleanups.push(() => floored.ws.close());
      const below = await floored.ws.gate.run();
      assert.equal(below.decision.type === 'outdated' && below.decision.reason?.code, 'E_BELOW_SECURITY_FLOOR');
      assert.equal(floored.installed(), '1.2.0');

      // The legitimate move back (the administrator withdrew 1.2.0 and re-released 1.1.0, above the floor): followed.
      const ok = await workstation(tdb.configUrl, site.feed.publicKey, '1.2.0', { administrators: ['admin'] });
      cleanups.push(() => ok.ws.close());
      const back = await ok.ws.gate.run();
      assert.deepEqual([back.decision.type, back.restartInto], ['upgrade', '1.1.0']);
      assert.equal(ok.installed(), '1.1.0');
    });
  });
}
