/**
 * S21: the feed in a folder or on a file share — `feed.url` a plain path or a file: URL pointing at the folder the
 * vendor CLI wrote. The same signed catalog and verification, the same download path through electron-updater (part
 * file, SHA-512, hard stop at the signed size, resume of an interrupted copy only while the source is unchanged), and
 * E_CONNECT naming the folder when it cannot be reached. The loopback HTTP server of the fixture stays idle throughout.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, test } from 'node:test';
import { CancellationToken } from 'builder-util-runtime';
import { isLockstepError } from '../../contract/errors';
import { localizeError } from '../../contract/messages';
import { loadMachineConfig } from '../../kernel/config';
import { feedContext } from '../../engine/feed/context';
import { downloadVersion, partialDir } from '../../engine/feed/download';
import { SignedDocument } from '../../kernel/signing';
import { FeedFixture, feedFixture, linuxInstaller } from './fixture';

const BIG = 6 * 1024 * 1024;

function signedManifest(fx: FeedFixture, version: string): SignedDocument<unknown> {
  const catalog = JSON.parse(fs.readFileSync(path.join(fx.demo.feedDir, 'catalog.json'), 'utf8'));
  return catalog.signed.versions.find((v: { version: string }) => v.version === version).manifest;
}

function transfers(fx: FeedFixture): Array<{ from: unknown; url: unknown }> {
  return fx.log.entries.filter((e) => e.event === 'feed.transfer').map((e) => ({ from: e.fields['from'], url: e.fields['url'] }));
}

describe('feed in a folder (S21)', () => {
  test('a plain path: check lists the versions as over HTTP, an unchanged catalog is "not modified", the chain downloads verified', async () => {
    const fx = await feedFixture();
    try {
      const overHttp = await (await fx.service()).check();
      fx.setFeed({ url: path.relative(fx.dir, fx.demo.feedDir), cacheDir: 'cache-folder' }); // relative to the config file
      assert.equal(fx.config().feed!.url, pathToFileURL(fx.demo.feedDir).href);
      const service = await fx.service();
      const r = await service.check();
      assert.deepEqual(r.versions.map((v) => [v.version, v.installable, v.reason?.code ?? null, v.chain]), overHttp.versions.map((v) => [v.version, v.installable, v.reason?.code ?? null, v.chain]));
      assert.equal(r.catalog.notModified, false);
      assert.equal((await service.check()).catalog.notModified, true);
      const steps = await service.download('2.0.0');
      assert.deepEqual(steps.map((s) => s.version), ['1.1.0', '2.0.0']);
      for (const s of steps) assert.ok(fs.readFileSync(s.file).equals(fx.server.file(linuxInstaller(s.version))));
      assert.deepEqual(transfers(fx).map((t) => [t.from, String(t.url).startsWith('file:///')]), [[0, true], [0, true]]);
      const httpRequests = fx.server.log.length;
      await (await fx.service()).check();
      assert.equal(fx.server.log.length, httpRequests, 'the folder feed sends no HTTP request');
    } finally {
      await fx.cleanup();
    }
  });

  test('feed.url accepts http(s), file: URLs and paths; other schemes and passwords are E_CONFIG_INVALID', async () => {
    const fx = await feedFixture();
    try {
      for (const url of ['ftp://files.vendor.example/feed/', 'https://user:pw@updates.vendor.example/', 'https://']) {
        fx.setFeed({ url });
        assert.throws(() => fx.config(), (e) => isLockstepError(e, 'E_CONFIG_INVALID'), url);
      }
      for (const [url, expected] of [
        ['https://updates.vendor.example/acme', 'https://updates.vendor.example/acme'],
        [pathToFileURL(fx.demo.feedDir).href, pathToFileURL(fx.demo.feedDir).href],
        [fx.demo.feedDir, pathToFileURL(fx.demo.feedDir).href],
        ['shares/acme feed', pathToFileURL(path.join(fx.dir, 'shares/acme feed')).href],
      ]) {
        fx.setFeed({ url });
        assert.equal(fx.config().feed!.url, expected);
      }
    } finally {
      await fx.cleanup();
    }
  });

  test('an interrupted copy continues where it stopped; a source changed meanwhile is copied again from the start', async () => {
    const fx = await feedFixture({ installerBytes: BIG });
    try {
      fx.setFeed({ url: pathToFileURL(fx.demo.feedDir).href });
      const ctx = await feedContext(loadMachineConfig(fx.configPath), { secrets: fx.secrets, log: fx.log, platform: 'linux', licenseNumber: null });
      const manifest = signedManifest(fx, '1.1.0');
      const name = linuxInstaller('1.1.0');
      const interrupt = async () => {
        const token = new CancellationToken();
        await assert.rejects(downloadVersion(ctx, manifest, { cancellationToken: token, onProgress: () => token.cancel() }), (e) => isLockstepError(e, 'E_CANCELLED'));
        const part = fs.readdirSync(partialDir(fx.cacheDir)).find((f) => f.endsWith('.part'))!;
        const bytes = fs.readFileSync(path.join(partialDir(fx.cacheDir), part));
        assert.ok(bytes.length > 0 && bytes.length < BIG, `interrupted after ${bytes.length} bytes`);
        assert.ok(bytes.equals(fx.server.file(name).subarray(0, bytes.length)));
        return bytes.length;
      };

      const kept = await interrupt();
      const done = await downloadVersion(ctx, manifest);
      assert.ok(fs.readFileSync(done.file).equals(fx.server.file(name)));
      assert.deepEqual(transfers(fx).map((t) => t.from), [0, kept]);

      fs.rmSync(done.file);
      await interrupt();
      const source = path.join(fx.demo.feedDir, name);
      fs.utimesSync(source, new Date(), new Date(Date.now() + 5000)); // same bytes, but no longer provably the same file
      const again = await downloadVersion(ctx, manifest);
      assert.ok(fs.readFileSync(again.file).equals(fx.server.file(name)));
      assert.deepEqual(transfers(fx).map((t) => t.from), [0, kept, 0, 0]);
      assert.deepEqual(fs.readdirSync(partialDir(fx.cacheDir)), []);
    } finally {
      await fx.cleanup();
    }
  });

  test('more bytes than signed are cut at the signed size; a flipped byte or a short file is E_CHECKSUM; an edited catalog is E_SIGNATURE', async () => {
    const fx = await feedFixture();
    try {
      fx.setFeed({ url: fx.demo.feedDir });
      const name = linuxInstaller('1.1.0');
      const source = path.join(fx.demo.feedDir, name);
      const original = fs.readFileSync(source);
      const service = await fx.service();
      await service.check();

      fs.appendFileSync(source, Buffer.alloc(8 * 1024 * 1024, 0x41));
      const [step] = await service.download('1.1.0');
      assert.ok(fs.readFileSync(step!.file).equals(original));
      fs.rmSync(step!.file);

      const flipped = Buffer.from(original);
      flipped[4321] = flipped[4321]! ^ 0xff;
      fs.writeFileSync(source, flipped);
      await service.check();
      await assert.rejects(service.download('1.1.0'), (e) => isLockstepError(e, 'E_CHECKSUM'));
      fs.writeFileSync(source, original.subarray(0, original.length - 1));
      await service.check(); // a failed download ends the offer; the user searches again
      await assert.rejects(service.download('1.1.0'), (e) => isLockstepError(e, 'E_CHECKSUM') && /signed size/.test(e.message));
      assert.deepEqual(fs.readdirSync(partialDir(fx.cacheDir)), []);
      assert.equal(fs.existsSync(path.join(fx.cacheDir, 'downloads', name)), false);

      const catalogFile = path.join(fx.demo.feedDir, 'catalog.json');
      fs.writeFileSync(catalogFile, fs.readFileSync(catalogFile, 'utf8').replace('"1.1.0"', '"1.1.1"'));
      await assert.rejects(service.check(), (e) => isLockstepError(e, 'E_SIGNATURE'));
    } finally {
      await fx.cleanup();
    }
  });

  test('a folder that cannot be reached is E_CONNECT naming the folder (after bounded retries); a missing file names the file', async () => {
    const fx = await feedFixture();
    try {
      const share = path.join(fx.dir, 'share-not-connected', 'feed');
      fx.setFeed({ url: share });
      const err = await (await fx.service()).check().then(
        () => assert.fail('check must fail'),
        (e: unknown) => e,
      );
      assert.ok(isLockstepError(err, 'E_CONNECT'));
      assert.equal(err.details['folder'], share);
      assert.match(err.message, new RegExp(`update folder ${share.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not reachable while checking for updates \\(ENOENT`));
      assert.deepEqual(fx.log.entries.filter((e) => e.event === 'feed.retry').map((e) => e.fields['delayMs']), [10, 20]);
      assert.deepEqual(localizeError(err, 'en'), { problem: 'The update folder cannot be reached.', action: `Make sure the folder ${share} is reachable from this workstation (share connected, read access), then try again.` });
      assert.match(localizeError(err, 'de').action, new RegExp(`dass der Ordner ${share.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} von diesem Arbeitsplatz erreichbar ist`));
      assert.match(localizeError(err, 'fr').problem, /dossier de mise à jour est inaccessible/);

      fx.setFeed({ url: fx.demo.feedDir });
      const service = await fx.service();
      await service.check();
      fs.rmSync(path.join(fx.demo.feedDir, linuxInstaller('1.1.0')));
      await assert.rejects(service.download('1.1.0'), (e) => isLockstepError(e, 'E_CONNECT') && e.details['folder'] === fx.demo.feedDir && e.message.includes(`has no file ${linuxInstaller('1.1.0')}`));
      assert.equal(fx.server.log.length, 0, 'nothing went over HTTP');
    } finally {
      await fx.cleanup();
    }
  });
});
