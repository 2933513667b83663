/**
 * Downloads through electron-updater + Lockstep's executor against a real loopback feed, with every fault a feed can have:
 * dropped connection (Range resume, bytes match), 5xx and time-outs (bounded retries, then E_CONNECT naming the host),
 * a flipped byte (E_CHECKSUM), more bytes than signed (stopped at the signed size), a non-plain name (no request).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { isLockstepError } from '../../contract/errors';
import { UpdateState } from '../../contract/update';
import { partialDir } from '../../engine/feed/download';
import { downloadVersion } from '../../engine/feed/download';
import { feedContext, proxyAccount } from '../../engine/feed/context';
import { signDocument } from '../../kernel/signing';
import { faults } from './feedServer';
import { feedFixture, linuxInstaller } from './fixture';

const SIZE = 256 * 1024;

describe('download', () => {
  test('happy path: the chain downloads in ascending order, verified, with progress; a second call reuses the files', async () => {
    const fx = await feedFixture();
    try {
      const service = await fx.service();
      await service.check();
      const states: UpdateState[] = [];
      service.onState((s) => states.push(s));
      const steps = await service.download('2.0.0');
      assert.deepEqual(steps.map((s) => s.version), ['1.1.0', '2.0.0']);
      for (const s of steps) {
        assert.deepEqual(fs.readFileSync(s.file), fx.server.file(linuxInstaller(s.version)));
        assert.equal(path.dirname(s.file), path.join(fx.cacheDir, 'downloads'));
        assert.match(s.manifestSignature, /^ed25519:[0-9a-f]{16}:/);
        assert.equal(JSON.parse(s.manifestText).version, s.version);
      }
      const types = states.map((s) => s.type);
      assert.equal(types[0], 'downloading');
      assert.equal(types.at(-1), 'downloaded');
      const last = states.at(-1)!;
      assert.ok(last.type === 'downloaded' && last.version === '2.0.0' && last.steps.length === 2);
      const progress = states.filter((s) => s.type === 'downloading' && s.total === SIZE);
      assert.ok(progress.length >= 2, 'progress reached the full size for both steps');
      assert.deepEqual(fx.server.log.filter((r) => r.name.endsWith('.AppImage')).map((r) => [r.name, r.status, r.headers.range ?? null]), [
        [linuxInstaller('1.1.0'), 200, null],
        [linuxInstaller('2.0.0'), 200, null],
      ]);
      await service.check();
      await service.download('2.0.0');
      assert.equal(fx.server.log.filter((r) => r.name.endsWith('.AppImage')).length, 2, 'already verified files are not fetched again');
    } finally {
      await fx.cleanup();
    }
  });

  test('a dropped connection is resumed with a Range request and the bytes match', async () => {
    const fx = await feedFixture();
    try {
      const name = linuxInstaller('1.1.0');
      fx.server.fault = faults(fx.server).dropAfter(name, 100_000);
      const service = await fx.service();
      await service.check();
      const [step] = await service.download('1.1.0');
      assert.deepEqual(fs.readFileSync(step!.file), fx.server.file(name));
      const reqs = fx.server.requestsFor(name);
      assert.equal(reqs.length, 2);
      assert.equal(reqs[0]!.headers.range, undefined);
      assert.equal(reqs[1]!.headers.range, 'bytes=100000-');
      assert.equal(reqs[1]!.status, 206);
      assert.deepEqual(fs.readdirSync(partialDir(fx.cacheDir)), [], 'the part file is gone once verified');
    } finally {
      await fx.cleanup();
    }
  });

  test('5xx: bounded retries with back-off, then E_CONNECT naming the host; a 5xx that clears up succeeds', async () => {
    const fx = await feedFixture();
    try {
      const name = linuxInstaller('1.1.0');
      fx.server.fault = faults(fx.server).status(name, 503);
      const service = await fx.service();
      await service.check();
      const host = new URL(fx.server.url).host;
      await assert.rejects(service.download('1.1.0'), (e) => isLockstepError(e, 'E_CONNECT') && e.details['host'] === host && e.message.includes(host));
      assert.equal(fx.server.requestsFor(name).length, 3, 'one attempt + retries: 2');
      assert.deepEqual(fx.log.entries.filter((e) => e.event === 'feed.retry').map((e) => e.fields['delayMs']), [10, 20]);
      const state = service.getState();
      assert.ok(state.type === 'failed' && state.during === 'download' && state.error.code === 'E_CONNECT');

      fx.server.fault = faults(fx.server).status(name, 502, 5); // requests 4 and 5 fail, the retry that is the 6th succeeds
      await service.check();
      const [step] = await service.download('1.1.0');
      assert.deepEqual(fs.readFileSync(step!.file), fx.server.file(name));
      assert.deepEqual(fx.server.requestsFor(name).map((r) => r.status), [503, 503, 503, 502, 502, 200]);
    } finally {
      await fx.cleanup();
    }
  });

  test('a server that never answers times out, retries, then E_CONNECT', async () => {
    const fx = await feedFixture({ feed: { timeoutMs: 150, retries: 1 } });
    try {
      const name = linuxInstaller('1.1.0');
      const service = await fx.service();
      await service.check();
      fx.server.fault = faults(fx.server).hang(name);
      await assert.rejects(service.download('1.1.0'), (e) => isLockstepError(e, 'E_CONNECT') && /150 ms/.test(e.message));
      assert.equal(fx.server.requestsFor(name).length, 2);
      // The catalog itself behind an unreachable address: E_CONNECT names that address.
      fx.setFeed({ url: 'http://127.0.0.1:9/' });
      await assert.rejects((await fx.service()).check(), (e) => isLockstepError(e, 'E_CONNECT') && e.details['host'] === '127.0.0.1:9');
    } finally {
      await fx.cleanup();
    }
  });

  test('one flipped byte is E_CHECKSUM and nothing is kept', async () => {
    const fx = await feedFixture();
    try {
      const name = linuxInstaller('1.1.0');
      fx.server.fault = faults(fx.server).flipByte(name, 12345);
      const service = await fx.service();
      await service.check();
      await assert.rejects(service.download('1.1.0'), (e) => isLockstepError(e, 'E_CHECKSUM'));
      assert.deepEqual(fs.readdirSync(partialDir(fx.cacheDir)), []);
      assert.equal(fs.existsSync(path.join(fx.cacheDir, 'downloads', name)), false);
    } finally {
      await fx.cleanup();
    }
  });

  test('a server sending more than the signed size is cut off at the signed size', async () => {
    const fx = await feedFixture();
    try {
      const name = linuxInstaller('1.1.0');
      fx.server.fault = faults(fx.server).extraBytes(name, 8 * 1024 * 1024);
      const service = await fx.service();
      await service.check();
      const [step] = await service.download('1.1.0');
      assert.equal(fs.statSync(step!.file).size, SIZE);
      assert.deepEqual(fs.readFileSync(step!.file), fx.server.file(name));
    } finally {
      await fx.cleanup();
    }
  });

  test('a manifest naming "../../x" is refused before any request; an unsigned or edited manifest is E_SIGNATURE', async () => {
    const fx = await feedFixture();
    try {
      const ctx = await feedContext(fx.config(), { secrets: fx.secrets, log: fx.log, platform: 'linux', licenseNumber: null });
      const catalog = JSON.parse(fs.readFileSync(path.join(fx.demo.feedDir, 'catalog.json'), 'utf8'));
      const manifest = catalog.signed.versions[1].manifest.signed;
      const evil = signDocument({ ...manifest, files: manifest.files.map((f: { name: string }) => ({ ...f, name: '../../x' })) }, fx.demo.signer);
      await assert.rejects(downloadVersion(ctx, evil), (e) => isLockstepError(e, 'E_FEED_INVALID'));
      const edited = { signed: { ...manifest, version: '9.9.9' }, signature: catalog.signed.versions[1].manifest.signature };
      await assert.rejects(downloadVersion(ctx, edited), (e) => isLockstepError(e, 'E_SIGNATURE'));
      assert.deepEqual(fx.server.log, [], 'no request left the workstation');
    } finally {
      await fx.cleanup();
    }
  });

  test('an explicit proxy with authentication (password from the keychain seam) carries catalog and download', async () => {
    const fx = await feedFixture();
    const seen: Array<{ auth: string | undefined; url: string }> = [];
    const proxy = http.createServer((req, res) => {
      seen.push({ auth: req.headers['proxy-authorization'], url: req.url ?? '' });
      if (req.headers['proxy-authorization'] !== `Basic ${Buffer.from('alice:s3cret').toString('base64')}`) {
        res.writeHead(407, { 'Proxy-Authenticate': 'Basic' }).end();
        return;
      }
      const headers = { ...req.headers };
      delete headers['proxy-authorization'];
      const up = http.request(req.url!, { method: req.method, headers }, (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      });
      req.pipe(up);
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    try {
      fx.setFeed({ proxy: { url: proxyUrl, username: 'alice' } });
      await assert.rejects(fx.service(), (e) => isLockstepError(e, 'E_SECRET_MISSING'));
      await fx.secrets.set(proxyAccount(proxyUrl, 'alice'), 'wrong');
      await assert.rejects((await fx.service()).check(), (e) => isLockstepError(e, 'E_CONNECT') && /proxy/.test(e.message));
      await fx.secrets.set(proxyAccount(proxyUrl, 'alice'), 's3cret');
      const service = await fx.service();
      await service.check();
      const [step] = await service.download('1.1.0');
      assert.deepEqual(fs.readFileSync(step!.file), fx.server.file(linuxInstaller('1.1.0')));
      assert.ok(seen.some((s) => s.url === `${fx.server.url}catalog.json`));
      assert.ok(seen.some((s) => s.url === `${fx.server.url}${linuxInstaller('1.1.0')}`));
      assert.ok(fx.log.entries.every((e) => !JSON.stringify(e).includes('s3cret')), 'the proxy password never reaches the log');
    } finally {
      proxy.close();
      await fx.cleanup();
    }
  });
});
