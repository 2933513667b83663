/**
 * A feed that trickles a package (a few bytes a second, each byte resetting the idle time-out) against the minimum
 * transfer rate and the overall deadline: the download ends in E_CONNECT "too slow" naming the host, the bytes that
 * arrived stay in the part file, and a later download from a normal server resumes from them (Range) and verifies.
 * The window and the deadline are configured small so the real trickling server on 127.0.0.1 makes this quick.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { isLockstepError } from '../../contract/errors';
import { partialDir } from '../../engine/feed/download';
import { Fault } from './feedServer';
import { feedFixture, linuxInstaller } from './fixture';

const PREFIX = 20_000;

/** Sends the first PREFIX bytes at once, then one byte every `everyMs` (well inside the idle time-out) until cut. */
function trickle(target: string, data: () => Buffer, everyMs: number): { fault: Fault; stop(): void } {
  const timers = new Map<NodeJS.Timeout, import('node:http').ServerResponse>();
  return {
    fault: (req, res, name) => {
      if (name !== target || req.headers.range) return false;
      const bytes = data();
      res.writeHead(200, { 'Content-Length': bytes.length });
      res.write(bytes.subarray(0, PREFIX));
      let sent = PREFIX;
      const timer = setInterval(() => {
        if (sent >= bytes.length) return;
        res.write(bytes.subarray(sent, sent + 1));
        sent += 1;
      }, everyMs);
      timers.set(timer, res);
      res.on('close', () => {
        clearInterval(timer);
        timers.delete(timer);
      });
      return true;
    },
    /** Ends every trickle: its timer and its connection. */
    stop: () =>
      timers.forEach((res, timer) => {
        clearInterval(timer);
        res.destroy();
      }),
  };
}

/** Bounds a test that would otherwise trickle for hours without the limits: after `ms` the trickle is cut. */
async function cutAfter<T>(ms: number, slow: { stop(): void }, work: Promise<T>): Promise<T> {
  const timer = setTimeout(() => slow.stop(), ms);
  try {
    return await work;
  } finally {
    clearTimeout(timer);
  }
}

/** The part file of the only transfer in the cache (one .part + its .part.json). */
function partFile(cacheDir: string): string {
  const parts = fs.readdirSync(partialDir(cacheDir)).filter((f) => f.endsWith('.part'));
  assert.equal(parts.length, 1, `one part file: ${parts.join(', ')}`);
  return path.join(partialDir(cacheDir), parts[0]!);
}

describe('slow retrieval', () => {
  test('below the minimum rate over the window: E_CONNECT "too slow" naming the host, part kept, a later download resumes and verifies', async () => {
    const fx = await feedFixture({ feed: { timeoutMs: 2_000, retries: 2, minBytesPerSecond: 1024, minRateWindowMs: 600 } });
    const name = linuxInstaller('1.1.0');
    const slow = trickle(name, () => fx.server.file(name), 40);
    try {
      const service = await fx.service();
      await service.check();
      fx.server.fault = slow.fault;
      const host = new URL(fx.server.url).host;
      const started = Date.now();
      await assert.rejects(cutAfter(8_000, slow, service.download('1.1.0')), (e) => {
        assert.ok(isLockstepError(e, 'E_CONNECT'), String(e));
        assert.match(e.message, /too slow/);
        assert.ok(e.message.includes(host), e.message);
        assert.equal(e.details['host'], host);
        assert.equal(e.details['reason'], 'too-slow');
        return true;
      });
      const took = Date.now() - started;
      assert.ok(took < 5_000, `ended after ${took} ms, not after the idle time-out resets ran on`);
      assert.equal(fx.server.requestsFor(name).length, 1, 'too slow is not retried: a trickle always "moves forward"');

      const part = partFile(fx.cacheDir);
      const kept = fs.readFileSync(part);
      assert.ok(kept.length >= PREFIX, `kept ${kept.length} bytes`);
      assert.deepEqual(kept, fx.server.file(name).subarray(0, kept.length), 'the kept bytes are the start of the file');
      assert.equal(fs.existsSync(path.join(fx.cacheDir, 'downloads', name)), false);

      fx.server.fault = null;
      await service.check();
      const [step] = await service.download('1.1.0');
      assert.deepEqual(fs.readFileSync(step!.file), fx.server.file(name));
      const resumed = fx.server.requestsFor(name)[1]!;
      assert.equal(resumed.headers.range, `bytes=${kept.length}-`);
      assert.equal(resumed.status, 206);
      assert.deepEqual(fs.readdirSync(partialDir(fx.cacheDir)), [], 'the part file is gone once verified');
    } finally {
      slow.stop();
      await fx.cleanup();
    }
  });

  test('over the deadline derived from the signed size: E_CONNECT "too slow", part kept', async () => {
    // The rate floor is out of the way (1 byte/s); only the deadline (1 s + 256 KiB at 1 GiB/s) can end it.
    const fx = await feedFixture({ feed: { timeoutMs: 2_000, minBytesPerSecond: 1, minRateWindowMs: 60_000, deadlineBaseMs: 1_000, deadlineBytesPerSecond: 1024 * 1024 * 1024 } });
    const name = linuxInstaller('1.1.0');
    const slow = trickle(name, () => fx.server.file(name), 20);
    try {
      const service = await fx.service();
      await service.check();
      fx.server.fault = slow.fault;
      const host = new URL(fx.server.url).host;
      const started = Date.now();
      await assert.rejects(cutAfter(8_000, slow, service.download('1.1.0')), (e) => isLockstepError(e, 'E_CONNECT') && /too slow/.test(e.message) && e.message.includes(host) && e.details['reason'] === 'deadline');
      const took = Date.now() - started;
      assert.ok(took >= 900 && took < 5_000, `ended after ${took} ms`);
      assert.ok(fs.statSync(partFile(fx.cacheDir)).size >= PREFIX);
    } finally {
      slow.stop();
      await fx.cleanup();
    }
  });

  test('the limits are in the feed configuration with their defaults', async () => {
    const fx = await feedFixture();
    try {
      const feed = fx.config().feed!;
      assert.deepEqual([feed.minBytesPerSecond, feed.minRateWindowMs, feed.deadlineBaseMs, feed.deadlineBytesPerSecond], [1024, 30_000, 60_000, 51_200]);
      fx.setFeed({ minBytesPerSecond: 0 });
      assert.throws(() => fx.config(), (e) => isLockstepError(e, 'E_CONFIG_INVALID'));
    } finally {
      await fx.cleanup();
    }
  });
});
