/**
 * Package stores for large sites (S17), against real parts: an HTTP and an HTTPS server on 127.0.0.1 (self-signed
 * certificate trusted through packageStore.caFile) and a real folder standing for the file share. A release whose
 * package lives in the store → a workstation upgrades from it, verified like the database path (stored signed
 * manifest, SHA-512, size), without one request to the feed and without a chunk in the database; a tampered file →
 * E_SIGNATURE and nothing installed; an unreachable store → a coded error naming it and the outdated notice; dropped
 * connections and interrupted copies resume; a release never points at a missing or wrong file.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Db } from '../../db/connection';
import { isLockstepError } from '../../contract/errors';
import { MachineConfigSchema } from '../../kernel/config';
import { FleetConfig } from '../../kernel/fleetConfig';
import { copyFromShare } from '../../engine/fleet/siteStores';
import { writeVersionFile } from '../../kernel/installation';
import { MemoryLogger } from '../../kernel/log';
import { openWorkstation } from '../../engine/workstation';
import { selfSignedCertificate, TestCertificate } from '../feed/tlsCert';
import { Backend, backends, migratedDb, tempDir } from '../helpers/backends';
import { admin, releasingLedger, settings, storeClient } from './helpers/inProcess';
import { CountingFeed, startFeed } from './helpers/site';
import { startStoreServer, StoreServer, tamperedCopy } from './helpers/storeServer';

const noSecrets = { get: async () => null, set: async () => undefined, delete: async () => false };
const V = '1.1.0';

/** A workstation on 1.0.0 whose machine configuration names the store; its feed is the counting feed server. */
async function workstation(dbUrl: string, site: CountingFeed, packageStore: Record<string, unknown>) {
  const dir = tempDir('lockstep-store-ws-');
  fs.mkdirSync(path.join(dir, 'app'));
  writeVersionFile(path.join(dir, 'app'), '1.0.0');
  const raw = {
    installDir: path.join(dir, 'app'),
    database: { url: dbUrl, passwordFromKeychain: false },
    workstation: { id: `ws-${path.basename(dir)}` },
    fleet: { chunkBytes: 64 * 1024, packageStore },
    feed: { url: site.url, trustedKeys: [site.feed.publicKey], retries: 2, retryDelayMs: 20, timeoutMs: 5_000 },
  };
  const file = path.join(dir, 'lockstep.machine.json');
  fs.writeFileSync(file, JSON.stringify(raw));
  const log = new MemoryLogger();
  const ws = await openWorkstation({ ...MachineConfigSchema.parse(raw), sourceFile: file }, { host: { platform: 'linux', defaultLogDir: dir, secrets: noSecrets }, logger: log });
  const installed = () => (JSON.parse(fs.readFileSync(path.join(dir, 'app', 'lockstep-version.json'), 'utf8')) as { version: string }).version;
  const payloadSha256 = () => createHash('sha256').update(fs.readFileSync(path.join(dir, 'app', 'data', 'filler.bin'))).digest('hex');
  return { ws, dir, log, installed, payloadSha256, appFiles: () => fs.readdirSync(path.join(dir, 'app')).sort() };
}

async function chunksOf(db: Db, version: string): Promise<number> {
  const r = await db.knex('lockstep_releases').where({ version }).first('id');
  const n = await db.knex('lockstep_release_chunks').where({ release_id: r.id }).count({ n: '*' }).first();
  return Number((n as { n: number | string }).n);
}

async function upgradeAudit(db: Db): Promise<string[]> {
  return (await db.knex('lockstep_events').where({ action: 'upgrade', version: V }).select('outcome')).map((a) => a.outcome as string);
}

for (const backend of backends().filter((b): b is Backend => b.name !== 'mssql')) {
  describe(`package stores for large sites (${backend.name})`, () => {
    let site: CountingFeed;
    let cert: TestCertificate;
    const cleanups: Array<() => Promise<void>> = [];
    before(async () => {
      site = await startFeed([V], 512 * 1024);
      cert = selfSignedCertificate(tempDir('lockstep-store-cert-'), 'store', 'IP:127.0.0.1');
    });
    after(async () => {
      for (const c of cleanups.reverse()) await c();
      await site?.close();
    });
    const feedFile = () => path.join(site.feed.feedDir, site.feed.packages[V]!.name);

    /** A migrated database and a store folder; `fill` puts the vendor's file into the folder first. */
    async function setup(fill: boolean) {
      const { db, tdb, cleanup } = await migratedDb(backend);
      cleanups.push(cleanup);
      const storeDir = tempDir('lockstep-store-');
      if (fill) fs.copyFileSync(feedFile(), path.join(storeDir, site.feed.packages[V]!.name));
      return { db, tdb, storeDir, storeFile: path.join(storeDir, site.feed.packages[V]!.name) };
    }

    async function serve(dir: string, o: Parameters<typeof startStoreServer>[1] = {}): Promise<StoreServer> {
      const server = await startStoreServer(dir, o);
      cleanups.push(() => server.close());
      return server;
    }

    function release(db: Db, store: FleetConfig['packageStore']) {
      const https = store.type === 'http' && store.url.startsWith('https:');
      return releasingLedger(db, site.feed, admin('releaser'), settings({ packageStore: store }), 'stable', storeClient(https ? cert.cert : null)).ledger.release(V);
    }

    test('HTTPS store: the release checks the file there; a workstation upgrades from it — no feed request, no chunk in the database', async () => {
      const { db, tdb, storeDir } = await setup(true);
      const store = await serve(storeDir, { tls: cert });
      await release(db, { type: 'http', url: store.url });
      assert.equal(store.requests.filter((r) => r.startsWith('GET ')).length, 1, 'the releasing workstation read the file back once');
      const pkg = await db.knex('lockstep_release_packages').first('store', 'state');
      assert.deepEqual(pkg, { store: 'http', state: 'complete' });

      const w = await workstation(tdb.configUrl, site, { type: 'http', url: store.url, caFile: cert.certFile });
      cleanups.push(() => w.ws.close());
      const feedBefore = site.requests.length;
      const result = await w.ws.gate.run();
      assert.deepEqual([result.decision.type, result.restartInto], ['upgrade', V]);
      assert.equal(w.installed(), V);
      assert.equal(w.payloadSha256(), site.feed.packages[V]!.payloadSha256, 'the vendor\'s bytes are installed');
      assert.deepEqual(site.requests.slice(feedBefore), [], 'the feed saw no request');
      assert.equal(await chunksOf(db, V), 0);
      assert.deepEqual(await upgradeAudit(db), ['ok']);
      assert.deepEqual(store.requests.slice(1), [`GET /${site.feed.packages[V]!.name}`]);
    });

    test('HTTP store: a release is refused while the store lacks the file or holds another; nothing flips', async () => {
      const { db, storeDir, storeFile } = await setup(false);
      const store = await serve(storeDir);
      const missing = await release(db, { type: 'http', url: store.url }).catch((e: unknown) => e);
      assert.ok(isLockstepError(missing, 'E_UPGRADE_UNAVAILABLE'), String(missing));
      assert.match((missing as Error).message, new RegExp(`${store.url}.*${site.feed.packages[V]!.name}`));
      tamperedCopy(feedFile(), storeFile);
      const wrong = await release(db, { type: 'http', url: store.url }).catch((e: unknown) => e);
      assert.ok(isLockstepError(wrong, 'E_SIGNATURE'), String(wrong));
      assert.equal((await db.knex('lockstep_current').first())?.release_id ?? null, null, 'no release is current');
      assert.deepEqual(await db.knex('lockstep_releases').select('version', 'state'), [{ version: V, state: 'uploading' }]);
      assert.equal((await db.knex('lockstep_release_packages').first('state')).state, 'uploading');

      fs.copyFileSync(feedFile(), storeFile); // IT copies the right file
      const made = await release(db, { type: 'http', url: store.url });
      assert.equal(made.state, 'released');
    });

    test('HTTP store: a tampered file → E_SIGNATURE, nothing installed, an audit row, the outdated notice', async () => {
      const { db, tdb, storeDir, storeFile } = await setup(true);
      const store = await serve(storeDir);
      await release(db, { type: 'http', url: store.url });
      tamperedCopy(feedFile(), storeFile);
      const w = await workstation(tdb.configUrl, site, { type: 'http', url: store.url });
      cleanups.push(() => w.ws.close());
      const before = w.appFiles();
      const result = await w.ws.gate.run();
      assert.equal(result.decision.type, 'outdated');
      assert.equal(result.decision.type === 'outdated' && result.decision.reason?.code, 'E_SIGNATURE');
      assert.equal(result.mayUseDatabase, false);
      assert.deepEqual([w.installed(), w.appFiles()], ['1.0.0', before]);
      assert.deepEqual(await upgradeAudit(db), ['E_SIGNATURE']);
    });

    test('HTTP store unreachable → E_CONNECT naming its URL, the outdated notice', async () => {
      const { db, tdb, storeDir } = await setup(true);
      const store = await serve(storeDir);
      await release(db, { type: 'http', url: store.url });
      await store.close();
      const w = await workstation(tdb.configUrl, site, { type: 'http', url: store.url });
      cleanups.push(() => w.ws.close());
      const result = await w.ws.gate.run();
      assert.equal(result.decision.type, 'outdated');
      const reason = result.decision.type === 'outdated' ? result.decision.reason : null;
      assert.equal(reason?.code, 'E_CONNECT');
      assert.ok(reason?.message.includes(store.url), reason?.message);
      assert.deepEqual([result.mayUseDatabase, w.installed()], [false, '1.0.0']);
    });

    test('HTTP store on a flaky network: every connection drops after 160 KiB → continued with Range each time; the bytes match', async () => {
      const { db, tdb, storeDir } = await setup(true);
      const steady = await serve(storeDir); // the releasing workstation's network is fine
      await release(db, { type: 'http', url: steady.url });
      const store = await serve(storeDir, { cutAfter: 160 * 1024 }); // the same folder, over a flaky line
      const w = await workstation(tdb.configUrl, site, { type: 'http', url: store.url });
      cleanups.push(() => w.ws.close());
      const before = store.requests.length;
      const result = await w.ws.gate.run();
      const gets = store.requests.slice(before);
      assert.deepEqual([result.decision.type, result.restartInto], ['upgrade', V], JSON.stringify(gets));
      assert.equal(w.payloadSha256(), site.feed.packages[V]!.payloadSha256);
      const starts = gets.map((g) => Number(/bytes=(\d+)-/.exec(g)?.[1] ?? 0));
      assert.ok(gets.length >= 4, `several connections: ${JSON.stringify(gets)}`);
      assert.equal(starts[0], 0);
      for (let i = 1; i < starts.length; i++) assert.ok(starts[i]! > starts[i - 1]!, `each request continues further on: ${JSON.stringify(gets)}`);
    });

    test('file share: the release copies the verified file in; a workstation upgrades from it without the feed', async () => {
      const { db, tdb, storeDir, storeFile } = await setup(false);
      await release(db, { type: 'share', path: storeDir });
      assert.deepEqual(fs.readFileSync(storeFile), fs.readFileSync(feedFile()), 'the share holds the vendor\'s file');
      assert.deepEqual(fs.readdirSync(storeDir), [site.feed.packages[V]!.name], 'no temporary file left');
      const w = await workstation(tdb.configUrl, site, { type: 'share', path: storeDir });
      cleanups.push(() => w.ws.close());
      const feedBefore = site.requests.length;
      const result = await w.ws.gate.run();
      assert.deepEqual([result.decision.type, result.restartInto, w.installed()], ['upgrade', V, V]);
      assert.equal(w.payloadSha256(), site.feed.packages[V]!.payloadSha256);
      assert.deepEqual(site.requests.slice(feedBefore), []);
      assert.equal(await chunksOf(db, V), 0);
    });

    test('file share: a tampered file → E_SIGNATURE, nothing installed; folder gone → E_CONNECT naming it; file gone → E_UPGRADE_UNAVAILABLE', async () => {
      const { db, tdb, storeDir, storeFile } = await setup(false);
      await release(db, { type: 'share', path: storeDir });
      tamperedCopy(feedFile(), storeFile);
      const w = await workstation(tdb.configUrl, site, { type: 'share', path: storeDir });
      cleanups.push(() => w.ws.close());
      const before = w.appFiles();
      const tampered = await w.ws.gate.run();
      assert.equal(tampered.decision.type === 'outdated' && tampered.decision.reason?.code, 'E_SIGNATURE');
      assert.deepEqual([w.installed(), w.appFiles()], ['1.0.0', before]);
      assert.deepEqual(await upgradeAudit(db), ['E_SIGNATURE']);

      fs.rmSync(storeFile);
      const noFile = await w.ws.gate.run();
      const r1 = noFile.decision.type === 'outdated' ? noFile.decision.reason : null;
      assert.equal(r1?.code, 'E_UPGRADE_UNAVAILABLE');
      assert.ok(r1?.message.includes(storeDir), r1?.message);

      fs.rmSync(storeDir, { recursive: true });
      const gone = await w.ws.gate.run();
      const r2 = gone.decision.type === 'outdated' ? gone.decision.reason : null;
      assert.equal(r2?.code, 'E_CONNECT');
      assert.ok(r2?.message.includes(storeDir), r2?.message);
      assert.deepEqual([gone.decision.type, gone.mayUseDatabase, w.installed()], ['outdated', false, '1.0.0']);
    });

    test('file share: an interrupted copy continues at its part file; a part that is not a prefix never passes', async () => {
      const { storeDir } = await setup(true);
      const signed = fs.readFileSync(feedFile());
      const file = { name: site.feed.packages[V]!.name, platform: 'linux' as const, kind: 'zip' as const, size: signed.length, sha512: createHash('sha512').update(signed).digest('base64') };
      const dest = path.join(tempDir('lockstep-store-cache-'), file.name);
      fs.writeFileSync(`${dest}.part`, signed.subarray(0, 200_000));
      const resumed = await copyFromShare(storeDir, file, dest);
      assert.deepEqual(resumed, { sha512: file.sha512, bytes: file.size, resumedAt: 200_000, reconnects: 0 });
      assert.deepEqual(fs.readFileSync(`${dest}.part`), signed);

      // A part file with foreign bytes is continued too, but never trusted: the result is not the signed hash.
      const foreign = Buffer.from(signed.subarray(0, 200_000));
      foreign[100] ^= 0xff;
      fs.writeFileSync(`${dest}.part`, foreign);
      const spliced = await copyFromShare(storeDir, file, dest);
      assert.notEqual(spliced.sha512, file.sha512);
    });
  });
}
