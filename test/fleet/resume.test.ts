/**
 * A dropped connection mid-stream (S17): on PostgreSQL the server kills the transfer's backend with
 * pg_terminate_backend between chunks; the transfer resumes at the chunk it stopped and the bytes match. On both
 * backends a transfer whose process died leaves a part file that the next attempt continues at its last whole chunk.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import knexFactory from 'knex';
import { after, describe, test } from 'node:test';
import { PackageStore } from '../../db/packageStore';
import { downloadFromDatabase } from '../../engine/fleet/dbTransfer';
import { MemoryLogger } from '../../kernel/log';
import { sha512Of } from '../../engine/fleet/siteStores';
import { backends, migratedDb, pgBackend, tempDir } from '../helpers/backends';
import { releaseWithPackage, settings } from './helpers/inProcess';
import { CountingFeed, startFeed } from './helpers/site';

const pg = pgBackend();

describe('resuming package transfers', () => {
  let site: CountingFeed;
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
    await site?.close();
  });

  if (pg) {
    test('postgres: pg_terminate_backend mid-stream → the transfer resumes at that chunk and the bytes match', async () => {
      site ??= await startFeed(['1.1.0'], 3 * 1024 * 1024);
      const { db, tdb, cleanup } = await migratedDb(pg);
      cleanups.push(cleanup);
      const release = await releaseWithPackage(db, site.feed, '1.1.0', settings({ databaseLayout: 'chunks' }));
      const reader = await tdb.open();
      const killer = knexFactory({ client: 'pg', connection: tdb.url, pool: { min: 0, max: 2 } });
      cleanups.push(async () => {
        await reader.close();
        await killer.destroy();
      });
      const info = (await new PackageStore(reader).info(release.id))!;
      const dest = path.join(tempDir(), 'pkg.tar.gz');
      const killedAt: number[] = [];
      const kills: Array<Promise<void>> = [];
      // A loopback server answers a chunk query in well under a millisecond, so a kill aimed at "whatever runs now"
      // usually finds only idle connections. Instead the table is locked, the reader's next query waits on the lock,
      // and exactly that waiting backend is terminated: the query dies mid-flight every time.
      const killNextQuery = async (): Promise<void> => {
        const lock = await killer.transaction();
        await lock.raw('lock table lockstep_release_chunks in access exclusive mode');
        kills.push(
          (async () => {
            try {
              for (let i = 0; i < 500; i++) {
                const waiting = await killer.raw("select pid from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()");
                if ((waiting.rows as unknown[]).length > 0) {
                  const killed = await killer.raw("select pg_terminate_backend(pid) as k from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()");
                  killedAt.push((killed.rows as unknown[]).length);
                  return;
                }
                await new Promise((r) => setTimeout(r, 10));
              }
              killedAt.push(0);
            } finally {
              await lock.rollback();
            }
          })(),
        );
      };
      const result = await downloadFromDatabase(new PackageStore(reader), info, dest, {
        retries: 6,
        log: new MemoryLogger(),
        sleep: async () => undefined,
        chunksPerQuery: 1,
        onChunk: async ({ seq }) => {
          if (seq === 5 || seq === 20) await killNextQuery();
        },
      });
      await Promise.all(kills);
      assert.deepEqual(killedAt.map((n) => n > 0), [true, true], 'a reader query was killed mid-flight twice');
      // Each kill costs only the chunks of the queries it killed.
      assert.ok(result.reconnects >= 1 && result.reconnects <= 8, `resumed on a fresh connection (${result.reconnects} chunk refetches)`);
      fs.renameSync(`${dest}.part`, dest);
      assert.equal(result.sha512, info.sha512);
      assert.equal(await sha512Of(dest), await sha512Of(path.join(site.feed.feedDir, site.feed.packages['1.1.0']!.name)), 'the assembled file is the vendor\'s file byte for byte');
    });
  }

  for (const backend of backends().filter((b) => b.name !== 'mssql')) {
    test(`${backend.name}: a transfer that died after 7 chunks continues at chunk 7 in the next attempt`, async () => {
      site ??= await startFeed(['1.1.0'], 3 * 1024 * 1024);
      const { db, cleanup } = await migratedDb(backend);
      cleanups.push(cleanup);
      const release = await releaseWithPackage(db, site.feed, '1.1.0', settings({ databaseLayout: 'chunks' }));
      const store = new PackageStore(db);
      const info = (await store.info(release.id))!;
      const dest = path.join(tempDir(), 'pkg.tar.gz');
      const crash = new Error('power cut');
      await assert.rejects(
        downloadFromDatabase(store, info, dest, { retries: 0, log: new MemoryLogger(), onChunk: ({ seq }) => {
          if (seq === 6) throw crash;
        } }),
        (err) => err === crash,
      );
      fs.appendFileSync(`${dest}.part`, Buffer.alloc(1000, 7)); // half a chunk written when the power went
      const seen: number[] = [];
      const result = await downloadFromDatabase(store, info, dest, { retries: 0, log: new MemoryLogger(), onChunk: ({ seq }) => void seen.push(seq) });
      assert.equal(result.resumedAt, 7);
      assert.equal(seen[0], 7);
      assert.equal(seen.length, info.chunkCount - 7);
      assert.equal(result.sha512, info.sha512);
      assert.equal(result.bytes, info.size);
    });
  }
});
