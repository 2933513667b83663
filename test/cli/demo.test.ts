import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/backends';
import { CLI, runNode } from '../helpers/workstationSim';

test('the headless demo runs the whole fleet loop on the embedded default and leaves a usable shared database', async () => {
  const dir = tempDir();
  const r = await runNode(CLI, ['demo', '--dir', dir, '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const body = JSON.parse(r.stdout) as { steps: Array<{ workstation: string; result: string }>; feedPackageDownloads: number };
  assert.deepEqual(
    body.steps.map((s) => `${s.workstation}: ${s.result.split(' — ')[0]}`),
    [
      `vendor: serving ${body.steps[0]!.result.split(' ')[1]} (package Lockstep-Demo-1.1.0-linux.tar.gz; module reports 1.0.0 for <1.1.0, 1.1.0 for >=1.1.0)`,
      'admin-pc: ask-release',
      'admin-pc: proceed',
      'front-desk: proceed',
      'admin-pc: installed 1.1.0 (was 1.0.0); feed package downloads so far: 1; modules reports 1.1.0',
      'admin-pc: ask-release',
      'admin-pc: ask-release',
      'front-desk: proceed',
      'front-desk: upgrade',
      'front-desk: proceed',
      'admin-pc: ADMIN-PC 1.1.0 (regular), FRONT-DESK 1.1.0 (regular)',
      'vendor: 1',
    ],
  );
  assert.match(body.steps[6]!.result, /package Lockstep-Demo-1\.1\.0-linux\.tar\.gz \d+ bytes in \d+ chunks \(complete\);/);
  assert.match(body.steps[6]!.result, /is scheduled for release at .*; modules travelling with it: reports 1\.1\.0$/);
  assert.match(body.steps[9]!.result, /^proceed — .*; modules reports 1\.1\.0 \(module packages fetched from the feed: 1\)$/, 'front-desk got the module from the database (the one feed fetch is admin-pc\'s)');
  assert.match(body.steps[8]!.result, /installed from the shared database, restart into 1\.1\.0; feed downloads during this start: 0$/);
  assert.equal(body.feedPackageDownloads, 1);
  const frontDesk = path.join(dir, 'front-desk');
  assert.equal(JSON.parse(fs.readFileSync(path.join(frontDesk, 'app', 'lockstep-version.json'), 'utf8')).version, '1.1.0');
  assert.ok(fs.statSync(path.join(frontDesk, 'app', 'data', 'filler.bin')).size === 1024 * 1024, 'the package payload was installed');
  const status = await runNode(CLI, ['status', '--json', '--config', path.join(frontDesk, 'lockstep.machine.json')]);
  assert.deepEqual(JSON.parse(status.stdout).decision, 'proceed');
  const releases = await runNode(CLI, ['releases', '--json', '--config', path.join(dir, 'admin-pc', 'lockstep.machine.json')]);
  const list = JSON.parse(releases.stdout) as { current: string; releases: Array<{ version: string; package: { state: string } | null }> };
  assert.equal(list.current, '1.1.0');
  assert.deepEqual(list.releases.map((x) => [x.version, x.package?.state ?? null]), [['1.1.0', 'complete'], ['1.0.0', null]]);
});
