/** Bad input gets a clear, coded error and loses nothing. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { backends, tempDir } from '../helpers/backends';
import { CLI, runNode, simWorkstation } from '../helpers/workstationSim';

interface ErrJson {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** A loopback port with nothing listening: bind, read the port, close. */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('bad input through the CLI', () => {
  test('database unreachable: E_DB_UNREACHABLE naming host and port, nothing written', async () => {
    const port = await closedPort();
    const ws = simWorkstation({ id: 'ws-x', dbUrl: `postgres://lockstep@127.0.0.1:${port}/lockstep`, installed: '1.0.0', admin: true });
    for (const args of [['gate'], ['release', '1.0.0'], ['status']]) {
      const r = await ws.json<ErrJson>(args);
      assert.equal(r.code, 1);
      assert.equal(r.body.error.code, 'E_DB_UNREACHABLE');
      assert.match(r.body.error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      assert.deepEqual(r.body.error.details, { host: '127.0.0.1', port });
    }
    // The install folder and config are untouched.
    assert.equal(ws.installed(), '1.0.0');
  });

  test('a shared database without the Lockstep tables: E_DB_SCHEMA says to migrate', async () => {
    const sqlite = backends()[0]!;
    const tdb = await sqlite.create();
    const ws = simWorkstation({ id: 'ws-s', dbUrl: tdb.url, installed: '1.0.0' });
    const r = await ws.json<ErrJson>(['status']);
    assert.deepEqual([r.code, r.body.error.code], [1, 'E_DB_SCHEMA']);
    assert.match(r.body.error.message, /lockstep db migrate/);
    await tdb.drop();
  });

  test('broken machine config: E_CONFIG_INVALID naming the file and the field; the file is left as it was', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'lockstep.machine.json');
    const cases: Array<[string, RegExp]> = [
      ['{ "installDir": "app", ', /is not valid JSON/],
      [JSON.stringify({ installDir: 'app', database: { url: 'sqlite:x.db' }, outdatedPolicy: 'sometimes' }), /outdatedPolicy/],
      [JSON.stringify({ installDir: 'app', database: { url: 'sqlite:x.db' }, surprise: 1 }), /surprise/],
      [JSON.stringify({ database: { url: 'sqlite:x.db' } }), /installDir/],
    ];
    for (const [text, why] of cases) {
      fs.writeFileSync(file, text);
      const r = await runNode(CLI, ['status', '--json', '--config', file]);
      const body = JSON.parse(r.stdout) as ErrJson;
      assert.equal(r.code, 1);
      assert.equal(body.error.code, 'E_CONFIG_INVALID');
      assert.match(body.error.message, why);
      assert.ok(body.error.message.includes(file));
      assert.equal(fs.readFileSync(file, 'utf8'), text, 'the broken file is kept for IT to fix');
    }
  });

  test('a password in the configured database URL is refused (E_CONFIG_SECRET) and never echoed', async () => {
    const ws = simWorkstation({ id: 'p', dbUrl: 'postgres://lockstep:Sup3rS3cret@127.0.0.1:5432/x', installed: '1.0.0' });
    const r = await ws.json<ErrJson>(['status']);
    assert.deepEqual([r.code, r.body.error.code], [1, 'E_CONFIG_SECRET']);
    assert.ok(!r.stdout.includes('Sup3rS3cret') && !r.stderr.includes('Sup3rS3cret'));
    assert.match(r.body.error.message, /OS keychain/);
  });

  test('a garbage version: in the install folder and as an argument', async () => {
    const sqlite = backends()[0]!;
    const tdb = await sqlite.create();
    const ws = simWorkstation({ id: 'v', dbUrl: tdb.url, installed: 'seven', admin: true });
    assert.equal((await ws.cli(['db', 'migrate'])).code, 0);
    const r = await ws.json<ErrJson>(['gate']);
    assert.deepEqual([r.code, r.body.error.code], [1, 'E_VERSION_INVALID']);
    ws.setInstalled('1.0.0');
    const rel = await ws.json<ErrJson>(['release', '1.0']);
    assert.equal(rel.code, 0);
    const bad = await ws.json<ErrJson>(['release', '1.0.0.0.0']);
    assert.deepEqual([bad.code, bad.body.error.code], [1, 'E_VERSION_INVALID']);
    const usage = await ws.json<ErrJson>(['release']);
    assert.deepEqual([usage.code, usage.body.error.code], [2, 'E_USAGE']);
    const unknown = await ws.json<ErrJson>(['frobnicate']);
    assert.deepEqual([unknown.code, unknown.body.error.code], [2, 'E_USAGE']);
    await tdb.drop();
  });
});
