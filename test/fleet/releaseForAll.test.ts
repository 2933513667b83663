/**
 * "Release for all" carries the package (S14 "Yes", S17, S19): two administrators answering at the same moment give
 * one release and one upload; a half-written package is never visible as released; an interrupted upload resumes
 * (stored chunks are skipped); releasing the same version again uploads nothing. On SQLite and PostgreSQL.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { isLockstepError } from '../../contract/errors';
import { FixedVersionSource } from '../../kernel/installation';
import { MemoryLogger } from '../../kernel/log';
import { canonicalJson } from '../../kernel/signing';
import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import { StartupGate } from '../../engine/startupGate';
import { parseVersion } from '../../kernel/version';
import { backends, migratedDb } from '../helpers/backends';
import { admin, feedPackage, releasingLedger, settings } from './helpers/inProcess';
import { CountingFeed, fleetWorkstation, installFromFeedProcess, startFeed } from './helpers/site';

for (const backend of backends().filter((b) => b.name !== 'mssql')) {
  describe(`release for all carries the package (${backend.name})`, () => {
    let site: CountingFeed;
    const cleanups: Array<() => Promise<void>> = [];
    after(async () => {
      for (const c of cleanups.reverse()) await c();
      await site?.close();
    });

    test('two administrators answer "yes" at the same moment (two processes): one release, one upload', async () => {
      site ??= await startFeed(['1.1.0'], 1024 * 1024);
      const { db, tdb, cleanup } = await migratedDb(backend);
      cleanups.push(cleanup);
      const admins = ['admin-1', 'admin-2'].map((id) => fleetWorkstation({ dbUrl: tdb.configUrl, feedUrl: site.url, publicKey: site.feed.publicKey, id, installed: '1.0.0', admin: true }));
      for (const a of admins) {
        await installFromFeedProcess(a, '1.1.0');
        assert.equal((await a.json<{ decision: { type: string } }>(['gate'])).body.decision.type, 'ask-release');
      }
      const answers = await Promise.all(admins.map((a) => a.json<{ decision?: { type: string }; alreadyReleased?: { version: string }; error?: { code: string } }>(['gate', '--answer', 'yes'])));
      // Both go on; the one whose "yes" came second (lost the compare-and-set, or found the question answered) is told so.
      assert.deepEqual(answers.map((r) => r.code), [0, 0], answers.map((r) => r.stdout).join('\n'));
      assert.deepEqual(answers.map((r) => r.body.alreadyReleased?.version ?? null).sort(), ['1.1.0', null], answers.map((r) => r.stdout).join('\n'));
      const events = await db.knex('lockstep_events').select('action', 'version');
      assert.equal(events.filter((e) => e.action === 'release').length, 1, 'one release');
      assert.equal(events.filter((e) => e.action === 'release-answer').length, 1, "the second administrator's answer");
      assert.equal(events.filter((e) => e.action === 'package-upload').length, 1, 'one upload');
      const rel = await db.knex('lockstep_releases').where({ version: '1.1.0' }).select('id', 'state');
      assert.deepEqual(rel.map((r) => r.state), ['released']);
      const pkg = await db.knex('lockstep_release_packages').where({ release_id: rel[0].id }).first('chunk_count', 'state', 'layout');
      const blocks = await db.knex('lockstep_release_blocks').where({ release_id: rel[0].id }).count({ n: '*' }).first();
      assert.deepEqual([pkg.state, pkg.layout, Number(blocks!.n)], ['complete', 'blocks', Number(pkg.chunk_count)]);
    });

    test('a half-written package is never released; the upload resumes; a second release uploads nothing', async () => {
      site ??= await startFeed(['1.1.0'], 1024 * 1024);
      const { db, cleanup } = await migratedDb(backend);
      cleanups.push(cleanup);
      // Fixed-size chunks: the layout of packages stored before blocks, still written when configured.
      const { packages, publisher, ledger, fleet } = releasingLedger(db, site.feed, admin('admin-a'), settings({ databaseLayout: 'chunks' }));
      const local = feedPackage(site.feed, '1.1.0');
      const ref = ledger.ref('1.1.0');
      // An upload that stopped after 5 chunks (the workstation lost power): row `uploading`, package incomplete.
      const manifest = local.manifest as { signed: { files: Array<{ size: number; sha512: string; name: string }> }; signature: string };
      const info = await packages.begin(ref, { user: 'admin', workstationId: 'admin-a' }, { text: canonicalJson(manifest.signed), signature: manifest.signature }, {
        fileName: manifest.signed.files[0]!.name, size: manifest.signed.files[0]!.size, sha512: manifest.signed.files[0]!.sha512, chunkSize: 64 * 1024, store: 'database', catalog: null,
      });
      assert.ok(await packages.claimUpload(info.releaseId, 'admin-a', 60_000));
      const bytes = fs.readFileSync(local.file);
      for (let seq = 0; seq < 5; seq++) {
        const c = bytes.subarray(seq * 65536, (seq + 1) * 65536);
        await packages.putChunk(info.releaseId, seq, c, createHash('sha256').update(c).digest('hex'));
      }
      await assert.rejects(fleet.releases.release(ref, { user: 'admin', workstationId: 'admin-a' }, { expectedRevision: 0, action: 'release' }), (e) => isLockstepError(e, 'E_INVALID_STATE'));
      assert.equal((await fleet.releases.current('stable'))?.release ?? null, null, 'nothing is released while the package is half written');
      const gate = new StartupGate(fleet, admin('ws-x'), new FixedVersionSource(parseVersion('1.0.0')), ledger, new MemoryLogger(), { channel: 'stable', policy: 'block', ring: 'regular' });
      assert.equal((await gate.evaluate()).decision.type, 'ask-release', 'an older workstation sees no release of 1.1.0 yet');

      // The administrator answers again (or another one does, after the claim expired): the upload resumes.
      await ledger.release('1.1.0');
      const uploads = await fleet.events({ action: 'package-upload' });
      assert.equal(uploads.length, 1);
      assert.deepEqual([uploads[0]!.detail?.['chunksSkipped'], uploads[0]!.detail?.['chunksWritten']], [5, info.chunkCount - 5]);
      assert.equal((await fleet.releases.current('stable'))?.release?.version, '1.1.0');

      // Withdraw and re-release: the package is complete and verified, nothing is uploaded again.
      await ledger.withdraw('1.1.0');
      await publisher.publish(ref);
      assert.equal((await fleet.events({ action: 'package-upload' })).length, 1);
    });
  });
}
