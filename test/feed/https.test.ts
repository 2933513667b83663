/**
 * HTTPS against a real TLS server on 127.0.0.1 with a certificate made at test time: the feed directly, and through
 * the explicit proxy's CONNECT tunnel (a real authenticating CONNECT proxy on loopback). The test CA is trusted the way
 * IT trusts a company CA — feed.caFile — while chain and host-name checks stay on: an untrusted certificate or one for
 * another name is E_CONNECT naming the host, at once (a retry cannot fix a certificate).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import * as net from 'node:net';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { isLockstepError } from '../../contract/errors';
import { proxyAccount } from '../../engine/feed/context';
import { TestFeedServer, faults } from './feedServer';
import { FeedFixture, feedFixture, linuxInstaller } from './fixture';
import { selfSignedCertificate } from './tlsCert';

async function httpsFeed(fx: FeedFixture, subjectAltName = 'IP:127.0.0.1') {
  const cert = selfSignedCertificate(fx.dir, `feed-${subjectAltName.replace(/\W/g, '-')}`, subjectAltName);
  const server = await new TestFeedServer(fx.demo.feedDir, { key: cert.key, cert: cert.cert }).start();
  return { cert, server };
}

function retries(fx: FeedFixture): number {
  return fx.log.entries.filter((e) => e.event === 'feed.retry').length;
}

describe('https feed', () => {
  test('with its CA in feed.caFile: check, download and a dropped transfer resumed over TLS; untrusted or wrong-name certificates are E_CONNECT', async () => {
    const fx = await feedFixture();
    const { cert, server } = await httpsFeed(fx);
    const other = await httpsFeed(fx, 'DNS:updates.vendor.example');
    try {
      const host = new URL(server.url).host;
      fx.setFeed({ url: server.url });
      await assert.rejects((await fx.service()).check(), (e) => isLockstepError(e, 'E_CONNECT') && e.details['host'] === host && /SELF_SIGNED/.test(String(e.details['tls'])) && e.message.includes('feed.caFile'));
      assert.equal(retries(fx), 0, 'a certificate problem is not retried');
      assert.deepEqual(server.log, [], 'no HTTP request went over the untrusted connection');

      fx.setFeed({ caFile: cert.certFile });
      const service = await fx.service();
      const r = await service.check();
      assert.deepEqual(r.versions.map((v) => v.version), ['3.0.0', '2.1.0', '2.0.0', '1.1.0']);
      const name = linuxInstaller('1.1.0');
      server.fault = faults(server).dropAfter(name, 100_000);
      const [step] = await service.download('1.1.0');
      assert.ok(fs.readFileSync(step!.file).equals(server.file(name)));
      assert.deepEqual(server.requestsFor(name).map((q) => [q.status, q.headers.range ?? null]), [[200, null], [206, 'bytes=100000-']]);
      assert.equal(server.requestsFor('catalog.json')[0]!.headers['x-lockstep-license'], 'DEMO-0001');

      // A trusted CA does not make every name valid: the host-name check stays on.
      fx.setFeed({ url: other.server.url, caFile: other.cert.certFile });
      await assert.rejects((await fx.service()).check(), (e) => isLockstepError(e, 'E_CONNECT') && e.details['tls'] === 'ERR_TLS_CERT_ALTNAME_INVALID');
      assert.deepEqual(other.server.log, []);

      fx.setFeed({ caFile: path.join(fx.dir, 'no-such-ca.pem') });
      await assert.rejects(fx.service(), (e) => isLockstepError(e, 'E_CONFIG_INVALID') && e.message.includes('no-such-ca.pem'));
    } finally {
      await server.close();
      await other.server.close();
      await fx.cleanup();
    }
  });

  test('through the explicit proxy: an authenticated CONNECT tunnel carries catalog and download; the certificate is still checked inside it', async () => {
    const fx = await feedFixture();
    const { cert, server } = await httpsFeed(fx);
    const seen: Array<{ method: string; target: string; auth: string | undefined }> = [];
    const good = `Basic ${Buffer.from('alice:s3cret').toString('base64')}`;
    const proxy = http.createServer((req, res) => {
      seen.push({ method: req.method ?? '', target: req.url ?? '', auth: req.headers['proxy-authorization'] });
      res.writeHead(405).end(); // an https target must never be fetched as a plain forwarded request
    });
    proxy.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
      seen.push({ method: 'CONNECT', target: req.url ?? '', auth: req.headers['proxy-authorization'] });
      if (req.headers['proxy-authorization'] !== good) {
        client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n');
        return;
      }
      const [h, p] = (req.url ?? '').split(':');
      const up = net.connect(Number(p), h!, () => {
        client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        up.write(head);
        up.pipe(client);
        client.pipe(up);
      });
      up.on('error', () => client.destroy());
      client.on('error', () => up.destroy());
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    const target = new URL(server.url).host;
    try {
      fx.setFeed({ url: server.url, caFile: cert.certFile, proxy: { url: proxyUrl, username: 'alice' } });
      await fx.secrets.set(proxyAccount(proxyUrl, 'alice'), 'wrong');
      await assert.rejects((await fx.service()).check(), (e) => isLockstepError(e, 'E_CONNECT') && /proxy/.test(e.message) && e.details['proxy'] === new URL(proxyUrl).host);
      assert.equal(server.log.length, 0, 'refused at the proxy: nothing reached the feed server');

      await fx.secrets.set(proxyAccount(proxyUrl, 'alice'), 's3cret');
      const service = await fx.service();
      await service.check();
      const [step] = await service.download('1.1.0');
      assert.ok(fs.readFileSync(step!.file).equals(server.file(linuxInstaller('1.1.0'))));
      assert.ok(seen.length >= 3 && seen.every((s) => s.method === 'CONNECT' && s.target === target), JSON.stringify(seen));
      assert.deepEqual(server.log.map((q) => [q.name, q.status]), [['catalog.json', 200], [linuxInstaller('1.1.0'), 200]]);
      assert.ok(server.log.every((q) => q.headers['proxy-authorization'] === undefined), 'the proxy credentials stay with the proxy');
      assert.ok(fx.log.entries.every((e) => !JSON.stringify(e).includes('s3cret')), 'the proxy password never reaches the log');

      fx.setFeed({ caFile: undefined });
      await assert.rejects((await fx.service()).check(), (e) => isLockstepError(e, 'E_CONNECT') && /SELF_SIGNED/.test(String(e.details['tls'])));
    } finally {
      proxy.close();
      await server.close();
      await fx.cleanup();
    }
  });
});
