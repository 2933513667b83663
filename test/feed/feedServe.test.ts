/**
 * `lockstep feed serve` (and the demo's folder server) against malformed request paths sent on a raw socket: a broken
 * percent escape or an escaped control character is answered 400, and the server keeps serving the feed afterwards.
 */
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { serveFolder } from '../../electron/shell/feedServer';
import { createDemoFeed } from '../../authoring/demo';
import { tempDir } from '../helpers/backends';
import { CLI } from '../helpers/workstationSim';

/** Sends `request` as-is (no client-side URL parsing that would fix or refuse it) and returns the whole answer. */
function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    socket.setTimeout(5_000, () => socket.destroy(new Error('no answer within 5 s')));
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    socket.on('error', reject);
    socket.on('close', () => resolve(answer));
    socket.write(request); // not end(): a half-closed client may lose an answer the server streams later
  });
}

const get = (target: string) => `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;

/** Starts the real CLI and waits for the line that names its address. */
async function startFeedServe(feedDir: string): Promise<{ child: ChildProcess; port: number; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, [CLI, 'feed', 'serve', '--feed', feedDir, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`feed serve did not start: ${stderr}`)), 20_000);
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
      const m = /at http:\/\/127\.0\.0\.1:(\d+)\//.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', () => reject(new Error(`feed serve ended: ${stderr}`)));
  });
  return { child, port, exited };
}

describe('feed serve: malformed URLs', () => {
  test('a broken percent escape and an escaped NUL are answered 400; the server keeps serving', async () => {
    const dir = tempDir('lockstep-serve-');
    const demo = await createDemoFeed(dir, { installerBytes: 4096 });
    const { child, port, exited } = await startFeedServe(demo.feedDir);
    try {
      for (const target of ['/%E0%A4%A', '/%00', '/catalog.json%00', '/%']) {
        const answer = await rawRequest(port, get(target));
        assert.match(answer, /^HTTP\/1\.1 400 /, `${target}: ${answer.slice(0, 80)}`);
      }
      const answer = await rawRequest(port, get('/catalog.json'));
      assert.match(answer, /^HTTP\/1\.1 200 /);
      const body = answer.slice(answer.indexOf('\r\n\r\n') + 4);
      assert.equal(body, fs.readFileSync(path.join(demo.feedDir, 'catalog.json'), 'latin1'), 'the feed is served byte for byte afterwards');
      assert.equal(child.exitCode, null, 'the server is still running');
    } finally {
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("the demo's folder server answers 400 too and keeps serving", async () => {
    const dir = tempDir('lockstep-serve-');
    fs.writeFileSync(path.join(dir, 'a.json'), '{"a":1}');
    const served = await serveFolder(dir);
    try {
      const port = Number(new URL(served.origin).port);
      assert.match(await rawRequest(port, get('/%E0%A4%A')), /^HTTP\/1\.1 400 /);
      assert.match(await rawRequest(port, get('/%00')), /^HTTP\/1\.1 400 /);
      const ok = await rawRequest(port, get('/a.json'));
      assert.match(ok, /^HTTP\/1\.1 200 /);
      assert.ok(ok.endsWith('{"a":1}'));
    } finally {
      await served.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
