/**
 * Packages as shared content-defined blocks in the database, on SQLite and PostgreSQL: a 5 % patch of a realistic
 * tar.gz stores only its new blocks, and a workstation that has the previous package reads only about that share
 * back; every block is checked on arrival (a changed or missing block → E_SIGNATURE, the part file dropped); a base
 * that changes during the transfer costs database reads, never correctness, and so does a block list beside the kept
 * package that an attacker edited; a patch holds a transfer slot only while it reads; a crash resumes at the last whole
 * block; a prune that frees a block a publish is about to list makes that publish store it again.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Db } from '../../db/connection';
import { BlockStore } from '../../db/blockStore';
import { PackageInfo, PackageStore } from '../../db/packageStore';
import { BasePackage, downloadBlocks } from '../../engine/fleet/blockTransfer';
import { blockSizesFor, cutFile } from '../../engine/fleet/blockPublish';
import { MemoryLogger } from '../../kernel/log';
import { KeptPackage } from '../../engine/keptPackage';
import { LeaseStore } from '../../db/leaseStore';
import { LazySlot, PACKAGE_POOL, acquireSlot } from '../../engine/fleet/transferSlots';
import { backends, migratedDb, tempDir } from '../helpers/backends';
import { admin, inProcessWorkstation, releaseWithPackage, releasingLedger, settings } from './helpers/inProcess';
import { PatchFeed, Tree, createPatchFeed, generateTree, patchTree, readTree } from './helpers/patchFeed';

/**
 * A realistic but small client tree: 200 files, ~16 MB before compression, ~7.7 MB as tar.gz. A 5 % patch changes
 * ~11 % of the compressed package (16 KiB blocks): each changed file costs its own bytes plus about a block around
 * it, widened by gzip (--rsyncable resets only every few KB of output). The database path reads exactly those.
 */
const FILES = Number(process.env['LOCKSTEP_BLOCKS_FILES'] ?? 200);
/** Measuring at other sizes: LOCKSTEP_BLOCKS_FILES=1000 LOCKSTEP_BLOCKS_TREE_MB=40 (the test prints the fractions). */
const TREE_BYTES = Number(process.env['LOCKSTEP_BLOCKS_TREE_MB'] ?? 16) * 1024 * 1024;
/** The releasing workstation's settings; LOCKSTEP_BLOCKS_AVG=8192 measures another block size. */
const SETTINGS = settings(process.env['LOCKSTEP_BLOCKS_AVG'] ? { blockBytes: Number(process.env['LOCKSTEP_BLOCKS_AVG']) } : {});

async function blockTotals(db: Db): Promise<{ rows: number; bytes: number }> {
  const r = (await db.knex('lockstep_blocks').count({ n: '*' }).sum({ bytes: 'size' }).first()) as { n: number | string; bytes: number | string | null };
  return { rows: Number(r.n), bytes: Number(r.bytes ?? 0) };
}

function openBase(file: string): BasePackage & { close(): void } {
  const fd = fs.openSync(file, 'r');
  return { fd, size: fs.fstatSync(fd).size, close: () => fs.closeSync(fd) };
}

async function infoOf(db: Db, version: string): Promise<PackageInfo> {
  const row = await db.knex('lockstep_releases').where({ version }).first('id');
  return (await new PackageStore(db).info(row.id))!;
}

/** Bytes of the blocks of `file` that `baseFile` does not contain: what a workstation with that base must read. */
async function newBytes(file: string, baseFile: string): Promise<number> {
  const sizes = blockSizesFor(SETTINGS.blockBytes)!;
  const have = new Set((await cutFile(baseFile, sizes)).blocks.map((b) => b.sha256));
  return (await cutFile(file, sizes)).blocks.filter((b) => !have.has(b.sha256)).reduce((n, b) => n + b.size, 0);
}

describe('packages as shared blocks in the database', () => {
  let feed: PatchFeed;
  let base: Tree;
  before(async () => {
    base = generateTree(FILES, TREE_BYTES);
    const patch = patchTree(base, 0.05, '1.0.1');
    // 1.0.2 goes back to 1.0.0's files: it reuses blocks only 1.0.0 lists (the prune race below needs those).
    feed = await createPatchFeed(tempDir('lockstep-blocks-feed-'), [['1.0.0', base], ['1.0.1', patch], ['1.0.2', base]]);
  });

  for (const backend of backends().filter((b) => b.name !== 'mssql')) {
    describe(backend.name, () => {
      const cleanups: Array<() => Promise<void>> = [];
      after(async () => {
        for (const c of cleanups.reverse()) await c();
      });
      const fresh = async () => {
        const m = await migratedDb(backend);
        cleanups.push(m.cleanup);
        return m;
      };

      test('a 5 % patch stores only its new blocks; a workstation holding 1.0.0 reads about that share from the database', async () => {
        const { db } = await fresh();
        await releaseWithPackage(db, feed, '1.0.0', SETTINGS);
        const first = await blockTotals(db);
        const size0 = fs.statSync(feed.files['1.0.0']!).size;
        assert.ok(first.bytes >= size0 * 0.99 && first.bytes <= size0, `the first release stores its package once (${first.bytes} of ${size0})`);

        await releaseWithPackage(db, feed, '1.0.1', SETTINGS);
        const second = await blockTotals(db);
        const info = await infoOf(db, '1.0.1');
        const expectedNew = await newBytes(feed.files['1.0.1']!, feed.files['1.0.0']!);
        assert.equal(second.bytes - first.bytes, expectedNew, 'exactly the blocks 1.0.0 lacks were stored');
        const storedShare = (second.bytes - first.bytes) / info.size;
        assert.ok(storedShare > 0 && storedShare <= (process.env['LOCKSTEP_BLOCKS_FILES'] ? 1 : 0.2), `the patch stored ${(storedShare * 100).toFixed(1)} % of its package`);
        assert.equal(info.layout, 'blocks');
        assert.equal(Number((await db.knex('lockstep_release_blocks').where({ release_id: info.releaseId }).count({ n: '*' }).first())!.n), info.chunkCount);
        assert.equal(Number((await db.knex('lockstep_release_chunks').count({ n: '*' }).first())!.n), 0, 'no fixed-size chunks written');
        const upload = await db.knex('lockstep_events').where({ action: 'package-upload', version: '1.0.1' }).first('detail');
        const detail = JSON.parse(upload.detail as string) as Record<string, number>;
        assert.equal(detail['bytesSent'], expectedNew);
        assert.equal(detail['blocksWritten'], second.rows - first.rows);

        const dest = path.join(tempDir(), info.fileName);
        const baseFile = openBase(feed.files['1.0.0']!);
        const result = await downloadBlocks(new BlockStore(db), info, dest, { retries: 0, log: new MemoryLogger(), base: baseFile }).finally(() => baseFile.close());
        assert.equal(result.sha512, info.sha512);
        assert.deepEqual(fs.readFileSync(`${dest}.part`), fs.readFileSync(feed.files['1.0.1']!), 'the assembled file is the vendor\'s, byte for byte');
        assert.equal(result.fromDatabase, expectedNew, 'only the blocks the base lacks were read from the database');
        assert.equal(result.fromDatabase + result.fromBase, info.size);
        assert.ok(result.queries < result.blocksFromDatabase, `several blocks per query (${result.blocksFromDatabase} blocks in ${result.queries} queries)`);
        console.log(`# ${backend.name}: package ${info.size} B, stored by the patch ${second.bytes - first.bytes} B (${(storedShare * 100).toFixed(1)} %), read by a workstation ${result.fromDatabase} B (${((result.fromDatabase / info.size) * 100).toFixed(1)} %) in ${result.queries} queries`);
      });

      for (const baseChanged of [false, true]) {
        test(baseChanged
          ? 'the kept package changed on disk since it was installed: not used as a base, every block from the database, still the vendor\'s tree'
          : 'a workstation on 1.0.0 upgrades to the 5 % patch through its gate: reads only the new blocks, installs exactly the new tree', async () => {
          const { db, tdb } = await fresh();
          await releaseWithPackage(db, feed, '1.0.0', SETTINGS);
          await releaseWithPackage(db, feed, '1.0.1', SETTINGS);
          const info = await infoOf(db, '1.0.1');
          const file0 = feed.files['1.0.0']!;
          const w = await inProcessWorkstation({ dbUrl: tdb.configUrl, publicKey: feed.publicKey, installed: '1.0.0', kept: { file: file0, name: feed.packages['1.0.0']!.name, sha512: createHash('sha512').update(fs.readFileSync(file0)).digest('base64') } });
          cleanups.push(() => w.ws.close());
          if (baseChanged) {
            const kept = path.join(w.keptDir, feed.packages['1.0.0']!.name);
            const fd = fs.openSync(kept, 'r+');
            fs.writeSync(fd, Buffer.from([0x42]), 0, 1, 1000);
            fs.closeSync(fd);
          }
          const result = await w.ws.gate.run();
          assert.deepEqual([result.decision.type, result.restartInto], ['upgrade', '1.0.1'], JSON.stringify(result.decision));
          assert.equal(w.installed(), '1.0.1');
          const installed = readTree(path.join(w.dir, 'app'), (name) => name.startsWith('lockstep-') || name.startsWith('.lockstep'));
          assert.deepEqual([...installed.keys()].sort(), [...feed.trees['1.0.1']!.keys()].sort());
          for (const [name, bytes] of feed.trees['1.0.1']!) assert.ok(installed.get(name)!.equals(bytes), `${name} is the vendor's`);

          const fetched = w.log.entries.find((e) => e.event === 'fleet.fetched')!.fields;
          const expected = baseChanged ? info.size : await newBytes(feed.files['1.0.1']!, file0);
          assert.deepEqual([fetched['layout'], fetched['dbBytes'], fetched['packageBytes']], ['blocks', expected, info.size]);
          const audit = await db.knex('lockstep_events').where({ action: 'package-transfer', version: '1.0.1' }).first('detail');
          assert.equal((JSON.parse(audit.detail as string) as Record<string, unknown>)['dbBytes'], expected, 'the audit trail says what the transfer read');
          if (baseChanged) assert.ok(w.log.entries.some((e) => e.event === 'package.base-unused' && e.fields['reason'] === 'sha512-changed'));
          else console.log(`# ${backend.name}: workstation upgrade read ${expected} of ${info.size} B from the database (${((expected / info.size) * 100).toFixed(1)} %)`);
        });
      }

      test('the upgrade keeps the new package\'s block list beside it; a list and base an attacker edited cost database reads, never other bytes', async () => {
        const { db, tdb } = await fresh();
        await releaseWithPackage(db, feed, '1.0.0', SETTINGS);
        await releaseWithPackage(db, feed, '1.0.1', SETTINGS);
        const [info0, info] = [await infoOf(db, '1.0.0'), await infoOf(db, '1.0.1')];
        const sizes = blockSizesFor(SETTINGS.blockBytes)!;
        const [list0, list1] = [await new BlockStore(db).list(info0.releaseId), await new BlockStore(db).list(info.releaseId)];
        const file0 = feed.files['1.0.0']!;
        const name0 = feed.packages['1.0.0']!.name;
        const w = await inProcessWorkstation({ dbUrl: tdb.configUrl, publicKey: feed.publicKey, installed: '1.0.0', kept: { file: file0, name: name0, sha512: info0.sha512, blockList: { sizes, blocks: list0 } } });
        cleanups.push(() => w.ws.close());

        // A local user who can write the cache changes one byte of a block 1.0.1 reuses, swaps the hashes of two other
        // reused blocks in the list, and binds the edited list to the edited file again (its new mtime).
        const wanted = new Set(list1.map((b) => b.sha256));
        const reused = list0.filter((b) => wanted.has(b.sha256) && list1.filter((n) => n.sha256 === b.sha256).length === 1 && list0.filter((o) => o.sha256 === b.sha256).length === 1);
        const [victim, a, b] = [reused[3]!, reused[7]!, reused[12]!];
        const keptFile = path.join(w.keptDir, name0);
        const fd = fs.openSync(keptFile, 'r+');
        fs.writeSync(fd, Buffer.from([fs.readFileSync(keptFile)[victim.offset + 10]! ^ 0xff]), 0, 1, victim.offset + 10);
        fs.closeSync(fd);
        const listFile = path.join(w.keptDir, 'blocks.json');
        const planted = JSON.parse(fs.readFileSync(listFile, 'utf8')) as { mtimeNs: string; sha256: string[] };
        assert.equal(planted.sha256.length, list0.length, 'the kept list is 1.0.0\'s');
        [planted.sha256[a.seq], planted.sha256[b.seq]] = [b.sha256, a.sha256];
        planted.mtimeNs = fs.statSync(keptFile, { bigint: true }).mtimeNs.toString();
        fs.writeFileSync(listFile, JSON.stringify(planted));

        const result = await w.ws.gate.run();
        assert.deepEqual([result.decision.type, result.restartInto], ['upgrade', '1.0.1'], JSON.stringify(result.decision));
        const installed = readTree(path.join(w.dir, 'app'), (name) => name.startsWith('lockstep-') || name.startsWith('.lockstep'));
        assert.deepEqual([...installed.keys()].sort(), [...feed.trees['1.0.1']!.keys()].sort());
        for (const [name, bytes] of feed.trees['1.0.1']!) assert.ok(installed.get(name)!.equals(bytes), `${name} is the vendor's`);
        // The list was believed (no cut of the base) and each lie cost exactly its block from the database.
        const fetched = w.log.entries.find((e) => e.event === 'fleet.fetched')!.fields;
        const expected = (await newBytes(feed.files['1.0.1']!, file0)) + victim.size + a.size + b.size;
        assert.deepEqual([fetched['dbBytes'], fetched['baseBytes']], [expected, info.size - expected]);
        assert.equal(w.log.entries.filter((e) => e.event === 'fleet.base-block-changed').length, 3);
        assert.ok(!w.log.entries.some((e) => e.event === 'package.base-unused'), 'the base was used');

        // What the upgrade kept: 1.0.1 with its verified list, handed out with the next base.
        const next = await new KeptPackage(w.keptDir, new MemoryLogger()).openBase({ blockList: sizes });
        assert.ok(next);
        next.close();
        assert.equal(next.version, '1.0.1');
        assert.deepEqual(next.blocks, list1.map((x) => ({ offset: x.offset, size: x.size, sha256: x.sha256 })));
      });

      test('a patch holds a transfer slot only while it reads its missing blocks; with no base, while it assembles', async () => {
        const { db } = await fresh();
        await releaseWithPackage(db, feed, '1.0.0', SETTINGS);
        await releaseWithPackage(db, feed, '1.0.1', SETTINGS);
        const info = await infoOf(db, '1.0.1');
        const leases = new LeaseStore(db);
        for (const withBase of [true, false]) {
          const slot = new LazySlot(() => acquireSlot(leases, SETTINGS, `ws-${withBase}`, new MemoryLogger()));
          const leasesSeen = new Set<number>();
          const dest = path.join(tempDir(), info.fileName);
          const base = withBase ? openBase(feed.files['1.0.0']!) : null;
          const result = await downloadBlocks(new BlockStore(db), info, dest, {
            retries: 0,
            log: new MemoryLogger(),
            base,
            slot,
            onChunk: async () => void leasesSeen.add((await leases.active(PACKAGE_POOL)).length),
          }).finally(() => base?.close());
          await slot.release();
          assert.equal(result.sha512, info.sha512);
          assert.equal(slot.holds.length, 1);
          assert.ok(slot.holds[0]!.endedAt);
          assert.deepEqual(fs.readdirSync(path.dirname(dest)).sort(), [`${info.fileName}.part`, `${info.fileName}.part.json`], 'no spool file left');
          if (withBase) {
            assert.deepEqual([...leasesSeen], [0], 'no slot held while the file was assembled');
            assert.equal(result.fromDatabase, await newBytes(feed.files['1.0.1']!, feed.files['1.0.0']!));
          } else {
            assert.deepEqual([...leasesSeen], [1], 'the slot held while every block came from the database');
          }
        }
        assert.deepEqual(await leases.active(PACKAGE_POOL), []);
      });

      test('no base: every block from the database; a base that changes during the transfer is not trusted', async () => {
        const { db } = await fresh();
        await releaseWithPackage(db, feed, '1.0.0', SETTINGS);
        await releaseWithPackage(db, feed, '1.0.1', SETTINGS);
        const info = await infoOf(db, '1.0.1');
        const full = await downloadBlocks(new BlockStore(db), info, path.join(tempDir(), 'a.tar.gz'), { retries: 0, log: new MemoryLogger(), base: null });
        assert.deepEqual([full.sha512, full.fromDatabase, full.fromBase], [info.sha512, info.size, 0]);

        // The base is overwritten after it was indexed: every block from then on is re-hashed, found changed and read
        // from the database instead.
        const copy = path.join(tempDir(), 'base.tar.gz');
        fs.copyFileSync(feed.files['1.0.0']!, copy);
        const baseFile = openBase(copy);
        const log = new MemoryLogger();
        let spoiled = false;
        const result = await downloadBlocks(new BlockStore(db), info, path.join(tempDir(), 'b.tar.gz'), {
          retries: 0,
          log,
          base: baseFile,
          onChunk: () => {
            if (!spoiled) fs.writeFileSync(copy, Buffer.alloc(info.size, 0x55));
            spoiled = true;
          },
        }).finally(() => baseFile.close());
        assert.equal(result.sha512, info.sha512, 'still exactly the vendor\'s file');
        assert.ok(result.fromDatabase > info.size * 0.9, `the changed base was not used (${result.fromBase} bytes from it)`);
        assert.ok(log.entries.some((e) => e.event === 'fleet.base-block-changed'));
      });

      test('a block whose bytes do not match its hash, or a missing block → E_SIGNATURE and the part file is gone', async () => {
        const { db } = await fresh();
        await releaseWithPackage(db, feed, '1.0.0', SETTINGS);
        const info = await infoOf(db, '1.0.0');
        const list = await new BlockStore(db).list(info.releaseId);
        const victim = list[5]!;
        const original = (await new BlockStore(db).read([victim.sha256])).get(victim.sha256)!;

        await db.knex('lockstep_blocks').where({ sha256: victim.sha256 }).update({ bytes: Buffer.alloc(victim.size, 1) });
        const dest = path.join(tempDir(), 'c.tar.gz');
        await assert.rejects(downloadBlocks(new BlockStore(db), info, dest, { retries: 0, log: new MemoryLogger(), base: null }), (err: Error & { code?: string; details?: Record<string, unknown> }) => err.code === 'E_SIGNATURE' && err.details?.['reason'] === 'hash' && err.details['seq'] === 5);
        assert.equal(fs.existsSync(`${dest}.part`), false);

        // Missing: a writer with the owner's rights removes the block behind the foreign key's back.
        await db.knex('lockstep_blocks').where({ sha256: victim.sha256 }).update({ bytes: original });
        await withoutForeignKeys(db, backend.name, () => db.knex('lockstep_blocks').where({ sha256: victim.sha256 }).delete());
        await assert.rejects(downloadBlocks(new BlockStore(db), info, dest, { retries: 0, log: new MemoryLogger(), base: null }), (err: Error & { code?: string; details?: Record<string, unknown> }) => err.code === 'E_SIGNATURE' && err.details?.['reason'] === 'missing');
        assert.equal(fs.existsSync(`${dest}.part`), false);
      });

      test('a transfer that died mid-way continues at its last whole block', async () => {
        const { db } = await fresh();
        await releaseWithPackage(db, feed, '1.0.0', SETTINGS);
        const info = await infoOf(db, '1.0.0');
        const dest = path.join(tempDir(), 'd.tar.gz');
        const crash = new Error('power cut');
        await assert.rejects(downloadBlocks(new BlockStore(db), info, dest, { retries: 0, log: new MemoryLogger(), base: null, onChunk: ({ seq }) => {
          if (seq === 9) throw crash;
        } }), (err) => err === crash);
        fs.appendFileSync(`${dest}.part`, Buffer.alloc(1000, 7)); // half a block written when the power went
        const seen: number[] = [];
        const result = await downloadBlocks(new BlockStore(db), info, dest, { retries: 0, log: new MemoryLogger(), base: null, onChunk: ({ seq }) => void seen.push(seq) });
        assert.deepEqual([result.resumedAt, seen[0], seen.length], [10, 10, info.chunkCount - 10]);
        assert.equal(result.sha512, info.sha512);
        assert.equal(result.fromDatabase, info.size - (await new BlockStore(db).list(info.releaseId))[10]!.offset);
      });

      test('a prune that frees a block a publish is about to list: the publish stores it again and completes', async () => {
        const { db } = await fresh();
        await releaseWithPackage(db, feed, '1.0.0', SETTINGS);
        await releaseWithPackage(db, feed, '1.0.1', SETTINGS);
        const pruned: unknown[] = [];
        const raced = releasingLedger(db, feed, admin('racer'), SETTINGS);
        // Between "which blocks are missing?" and writing its list, 1.0.0 (superseded) is pruned: the blocks only it
        // listed — the very ones 1.0.2 reuses — are freed.
        const r = releasingLedger(db, feed, admin('releaser'), SETTINGS, 'stable', undefined, {
          beforeBlockList: async (attempt) => {
            if (attempt === 1) pruned.push(await raced.ledger.prune('1.0.0'));
          },
        });
        await r.ledger.release('1.0.2');
        const freed = pruned[0] as { blocksFreed: number; blocksKept: number };
        assert.ok(freed.blocksFreed > 0 && freed.blocksKept > 0, `the prune freed 1.0.0's own blocks and kept the shared ones (${JSON.stringify(freed)})`);
        assert.ok(r.log.entries.some((e) => e.event === 'fleet.blocks-vanished'), 'the publisher saw its list refused and stored the blocks again');
        const info = await infoOf(db, '1.0.2');
        assert.equal(info.state, 'complete');
        const result = await downloadBlocks(new BlockStore(db), info, path.join(tempDir(), 'e.tar.gz'), { retries: 0, log: new MemoryLogger(), base: null });
        assert.equal(result.sha512, info.sha512, 'every block 1.0.2 lists is stored');
        const r100 = await db.knex('lockstep_releases').where({ version: '1.0.0' }).first('state');
        assert.equal(r100.state, 'withdrawn');
        assert.equal((await infoOf(db, '1.0.0')).state, 'pruned');
        // Only administrators prune, and never the released version.
        const clerk = releasingLedger(db, feed, { ...admin('clerk'), osUser: 'clerk', isAdmin: false });
        await assert.rejects(clerk.ledger.prune('1.0.1'), (e: Error & { code?: string }) => e.code === 'E_NOT_ADMIN');
        await assert.rejects(raced.ledger.prune('1.0.2'), (e: Error & { code?: string }) => e.code === 'E_INVALID_STATE');
        assert.equal((await infoOf(db, '1.0.1')).state, 'complete');
        const audit = await db.knex('lockstep_events').where({ action: 'prune', version: '1.0.0' }).select('outcome', 'actor', 'detail');
        assert.deepEqual(audit.map((e) => [e.outcome, e.actor, (JSON.parse(e.detail as string) as { blocksFreed: number }).blocksFreed]), [['ok', 'admin', freed.blocksFreed]]);
      });

      test('two publishers storing the same block at once: one row, one of them stored it', async () => {
        const { db, tdb } = await fresh();
        const other = await tdb.open();
        cleanups.push(() => other.close());
        const bytes = Buffer.from('a block both publishers cut from their package');
        const sha256 = createHash('sha256').update(bytes).digest('hex');
        const stored = await Promise.all(Array.from({ length: 12 }, (_, i) => new BlockStore(i % 2 ? other : db).putIfAbsent(sha256, bytes)));
        assert.equal(stored.filter(Boolean).length, 1);
        assert.equal(Number((await db.knex('lockstep_blocks').where({ sha256 }).count({ n: '*' }).first())!.n), 1);
      });

      if (backend.name === 'postgres') {
        test('a prune waiting on a publish that lists one of its blocks keeps that block once the publish commits', async () => {
          const { db, tdb } = await fresh();
          const r100 = await releaseWithPackage(db, feed, '1.0.0', SETTINGS);
          const r101 = await releaseWithPackage(db, feed, '1.0.1', SETTINGS);
          const onlyIn100 = (await new BlockStore(db).list(r100.id)).map((b) => b.sha256);
          const in101 = new Set((await new BlockStore(db).list(r101.id)).map((b) => b.sha256));
          const reused = onlyIn100.find((h) => !in101.has(h))!;
          // A publisher of another release has written (not yet committed) a list naming a block only 1.0.0 lists.
          const publisherTx = await db.knex.transaction();
          await publisherTx('lockstep_release_blocks').insert({ release_id: r101.id, seq: 100_000, sha256: reused, byte_offset: 0, size: 1 });
          const pruner = await tdb.open();
          cleanups.push(() => pruner.close());
          const pruning = new BlockStore(pruner).prune({ channel: 'stable', version: '1.0.0', versionKey: r100.versionKey }, { user: 'admin', workstationId: 'ws-admin' });
          // Bounded wait until the prune's delete is blocked on the publisher's key lock.
          let waiting = false;
          for (let i = 0; i < 400 && !waiting; i++) {
            const r = await db.knex.raw("select count(*)::int as n from pg_locks l join pg_stat_activity a on a.pid = l.pid where not l.granted and a.datname = current_database()");
            waiting = (r.rows as Array<{ n: number }>)[0]!.n > 0;
            if (!waiting) await new Promise((resolve) => setImmediate(resolve));
          }
          assert.ok(waiting, 'the prune waited for the publisher');
          await publisherTx.commit();
          const result = await pruning;
          assert.ok(result.blocksFreed > 0, 'the prune still freed 1.0.0\'s other blocks');
          assert.equal(Number((await db.knex('lockstep_blocks').where({ sha256: reused }).count({ n: '*' }).first())!.n), 1, 'the block the publisher listed is kept');
        });
      }
    });
  }
});

/** Runs `work` with the foreign keys off, as a writer with the owner's rights can. */
async function withoutForeignKeys(db: Db, backend: string, work: () => Promise<unknown>): Promise<void> {
  if (backend === 'sqlite') {
    await db.knex.raw('PRAGMA foreign_keys = OFF');
    try {
      await work();
    } finally {
      await db.knex.raw('PRAGMA foreign_keys = ON');
    }
    return;
  }
  await db.knex.raw('ALTER TABLE lockstep_release_blocks DROP CONSTRAINT lockstep_release_blocks_sha256_foreign');
  await work();
}
