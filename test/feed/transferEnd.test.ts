/**
 * How a transfer ends. Reaching the signed size (the server's exact end, or the hard stop before extra bytes) and a
 * cancellation must end the attempt as what they are — not as "the server closed the connection mid-transfer", which
 * destroying the response reports synchronously. With `retries: 0` such a misreading fails the download with
 * E_CONNECT; with retries it costs a retryDelayMs sleep and a feed.retry warning on every download (bench/download
 * measured 100 ms per file with its 100 ms back-off; 1 s with the default).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, test } from 'node:test';
import { CancellationToken } from 'builder-util-runtime';
import { isLockstepError } from '../../contract/errors';
import { feedContext } from '../../engine/feed/context';
import { ResumableDownloader } from '../../engine/feed/resumableDownload';
import { faults } from './feedServer';
import { feedFixture, linuxInstaller } from './fixture';

describe('transfer end', () => {
  test('a download that reaches its signed size is one clean attempt, even with retries: 0 and a long back-off', async () => {
    const fx = await feedFixture({ installerBytes: 3 * 1024 * 1024 + 5, feed: { retries: 0, retryDelayMs: 60_000 } });
    try {
      const service = await fx.service();
      await service.check();
      const [step] = await service.download('1.1.0');
      const name = linuxInstaller('1.1.0');
      assert.deepEqual(fs.readFileSync(step!.file), fx.server.file(name));
      assert.deepEqual(fx.server.requestsFor(name).map((r) => r.status), [200]);
      assert.deepEqual(fx.log.entries.filter((e) => e.event === 'feed.retry' || e.event === 'feed.download-failed'), []);
    } finally {
      await fx.cleanup();
    }
  });

  test('the hard stop before 8 MB of extra bytes is a clean end too', async () => {
    const fx = await feedFixture({ feed: { retries: 0, retryDelayMs: 60_000 } });
    try {
      const name = linuxInstaller('1.1.0');
      fx.server.fault = faults(fx.server).extraBytes(name, 8 * 1024 * 1024);
      const service = await fx.service();
      await service.check();
      const [step] = await service.download('1.1.0');
      assert.deepEqual(fs.readFileSync(step!.file), fx.server.file(name));
      assert.equal(fx.server.requestsFor(name).length, 1);
      assert.deepEqual(fx.log.entries.filter((e) => e.event === 'feed.retry'), []);
    } finally {
      await fx.cleanup();
    }
  });

  test('a cancellation mid-transfer is E_CANCELLED at once, not a retried network failure; the part file is kept', async () => {
    const fx = await feedFixture({ installerBytes: 16 * 1024 * 1024, feed: { retries: 3, retryDelayMs: 20_000 } });
    try {
      const ctx = await feedContext(fx.config(), { secrets: fx.secrets, log: fx.log, platform: 'linux', licenseNumber: null });
      const name = linuxInstaller('1.1.0');
      const catalog = JSON.parse(fs.readFileSync(`${fx.demo.feedDir}/catalog.json`, 'utf8'));
      const file = catalog.signed.versions.find((v: { manifest: { signed: { version: string } } }) => v.manifest.signed.version === '1.1.0').manifest.signed.files.find((f: { name: string }) => f.name === name);
      const token = new CancellationToken();
      const downloader = new ResumableDownloader(ctx.http, `${fx.dir}/partial`);
      let cancelled = false;
      const started = Date.now();
      const done = downloader.download({ url: new URL(name, fx.server.url), size: file.size, sha512: file.sha512 }, `${fx.dir}/out.bin`, {
        cancellationToken: token,
        onProgress: (p) => {
          if (!cancelled && p.transferred > 0) {
            cancelled = true;
            token.cancel();
          }
        },
      });
      await assert.rejects(done, (e) => isLockstepError(e, 'E_CANCELLED'));
      assert.ok(Date.now() - started < 10_000, 'no back-off sleep before the cancellation was reported');
      assert.deepEqual(fx.log.entries.filter((e) => e.event === 'feed.retry'), []);
      const kept = downloader.existingBytes({ url: new URL(name, fx.server.url), size: file.size, sha512: file.sha512 });
      assert.ok(kept > 0 && kept < file.size, `kept ${kept} bytes`);
      assert.ok(fs.readFileSync(`${fx.dir}/partial/${fs.readdirSync(`${fx.dir}/partial`).find((f) => f.endsWith('.part'))}`).equals(fx.server.file(name).subarray(0, kept)));
    } finally {
      await fx.cleanup();
    }
  });
});
