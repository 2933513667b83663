/**
 * Cancelling a scheduled download whose transfer already runs, against a real slow HTTP server on 127.0.0.1: the
 * transfer stops within a bounded time (the server sees its connection closed), the schedule is gone for good (it is
 * not written back as done), the state returns to idle with the coded reason E_CANCELLED, and the part file is kept:
 * the bytes are the start of a file whose whole is checked against the signed SHA-512 anyway, so the next download
 * of that version resumes from them (Range) instead of fetching them again over the site's link.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ServerResponse } from 'node:http';
import { test } from 'node:test';
import { UpdateState } from '../../contract/update';
import { partialDir } from '../../engine/feed/download';
import { ScheduleStore } from '../../engine/schedule';
import { feedFixture, linuxInstaller } from './fixture';

const PREFIX = 64 * 1024;
const STOP_BOUND_MS = 2_000;

function nextState(service: { onState(l: (s: UpdateState) => void): () => void }, match: (s: UpdateState) => boolean): Promise<UpdateState> {
  return new Promise((resolve) => {
    const off = service.onState((s) => {
      if (match(s)) {
        off();
        resolve(s);
      }
    });
  });
}

test('a scheduled download that is transferring is cancelled cleanly: stopped in bounded time, idle with E_CANCELLED, part kept for resume', async () => {
  const fx = await feedFixture();
  const name = linuxInstaller('1.1.0');
  let open: ServerResponse | null = null;
  let closed!: () => void;
  const connectionClosed = new Promise<void>((r) => (closed = r));
  const timers: NodeJS.Timeout[] = [];
  try {
    const service = await fx.service();
    await service.check();
    // The first PREFIX bytes at once, then one byte every 50 ms: a transfer that is running and far from done.
    fx.server.fault = (req, res, file) => {
      if (file !== name || req.headers.range) return false;
      const bytes = fx.server.file(name);
      res.writeHead(200, { 'Content-Length': bytes.length });
      res.write(bytes.subarray(0, PREFIX));
      let sent = PREFIX;
      timers.push(setInterval(() => sent < bytes.length && res.write(bytes.subarray(sent, ++sent)), 50));
      open = res;
      res.on('close', () => closed());
      return true;
    };
    const running = nextState(service, (s) => s.type === 'downloading' && s.transferred >= PREFIX);
    service.scheduleDownload('1.1.0', new Date(Date.now() + 20));
    await running;
    assert.equal(new ScheduleStore(fx.cacheDir).load()?.state, 'running');
    assert.ok(open, 'the server is sending');

    const idle = nextState(service, (s) => s.type !== 'downloading');
    const cancelledAt = Date.now();
    service.cancelScheduled();
    const final = await idle;
    await connectionClosed;
    const took = Date.now() - cancelledAt;
    assert.ok(took < STOP_BOUND_MS, `stopped after ${took} ms`);
    assert.equal(final.type, 'idle');
    assert.equal(final.type === 'idle' ? final.reason?.code : null, 'E_CANCELLED');
    assert.deepEqual(service.getState(), final);
    // The schedule is gone and stays gone (the run's own bookkeeping comes after the state change: give it its turn).
    await new Promise((r) => setImmediate(r));
    assert.equal(fs.existsSync(new ScheduleStore(fx.cacheDir).file), false);

    const parts = fs.readdirSync(partialDir(fx.cacheDir)).filter((f) => f.endsWith('.part'));
    assert.equal(parts.length, 1);
    const kept = fs.readFileSync(path.join(partialDir(fx.cacheDir), parts[0]!));
    assert.ok(kept.length >= PREFIX, `kept ${kept.length} bytes`);
    assert.deepEqual(kept, fx.server.file(name).subarray(0, kept.length));

    // The next download of the version resumes from the kept bytes and verifies the whole file.
    fx.server.fault = null;
    await service.check();
    const [step] = await service.download('1.1.0');
    assert.deepEqual(fs.readFileSync(step!.file), fx.server.file(name));
    assert.equal(fx.server.requestsFor(name).at(-1)!.headers.range, `bytes=${kept.length}-`);
  } finally {
    timers.forEach(clearInterval);
    (open as ServerResponse | null)?.destroy();
    await fx.cleanup();
  }
});
