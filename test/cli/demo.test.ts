import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/backends';
import { CLI, runNode } from '../helpers/workstationSim';

interface SchemaStatusJson {
  level: { level: number; version: string; setFrom: string } | null;
  history: Array<{ fromLevel: number; toLevel: number; migrations: string[]; version: string; doneFrom: string; backup: string | null }>;
  installed: { version: string; worksOnCurrent: boolean; migration: unknown };
}

test('the headless demo runs the whole fleet loop on the embedded default, moves the database with the 2.0.0 release and leaves a usable shared database', async () => {
  const dir = tempDir();
  const r = await runNode(CLI, ['demo', '--dir', dir, '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const body = JSON.parse(r.stdout) as { steps: Array<{ workstation: string; result: string }>; feedPackageDownloads: number; schemaStatus: SchemaStatusJson };
  const table = 'table customer_list_customers';
  assert.deepEqual(
    body.steps.map((s) => `${s.workstation}: ${s.result.split(' — ')[0]}`),
    [
      `vendor: serving ${body.steps[0]!.result.split(' ')[1]} (packages Lockstep-Demo-1.0.0-linux.tar.gz, Lockstep-Demo-1.1.0-linux.tar.gz, Lockstep-Demo-2.0.0-linux.tar.gz; schema: 1.0.0 works on level 1, brings 1; 1.1.0 works on level 1, brings 1; 2.0.0 works on level 2, brings 2; module reports 1.0.0 for <1.1.0, 1.1.0 for >=1.1.0)`,
      'admin-pc: installed 1.0.0; feed package downloads so far: 1',
      'admin-pc: ask-release',
      'admin-pc: proceed',
      `admin-pc: schema level 1; moved 0 → 1 by 0001_create_customers.js; ${table} (id, name, city, created_at): no rows`,
      'front-desk: proceed',
      `front-desk: ${table} (id, name, city, created_at): Müller GmbH (Bremen)`,
      'admin-pc: installed 1.1.0 (was 1.0.0); feed package downloads so far: 2; modules reports 1.1.0',
      'admin-pc: ask-release',
      'admin-pc: ask-release',
      'front-desk: proceed',
      'front-desk: upgrade',
      'front-desk: proceed',
      'admin-pc: installed 2.0.0 (was 1.1.0); feed package downloads so far: 3',
      'admin-pc: ask-release',
      `admin-pc: ${body.steps[15]!.result.split(' — ')[0]}`,
      'admin-pc: proceed',
      'front-desk: outdated',
      'front-desk: upgrade',
      'front-desk: proceed',
      `front-desk: ${body.steps[20]!.result.split(' — ')[0]}`,
      'admin-pc: ADMIN-PC 2.0.0 (regular), FRONT-DESK 2.0.0 (regular)',
      'vendor: 3',
    ],
  );
  // The first release created the example's table (0 → 1); the scheduled 1.1.0 works on level 1 and moved nothing.
  assert.match(body.steps[2]!.result, /"yes" migrates the database from schema level 0 to 1/);
  assert.match(body.steps[9]!.result, /package Lockstep-Demo-1\.1\.0-linux\.tar\.gz \d+ bytes in \d+ chunks \(complete\);/);
  assert.match(body.steps[9]!.result, /is scheduled for release at .*; modules travelling with it: reports 1\.1\.0$/);
  assert.match(body.steps[11]!.result, /installed from the shared database, restart into 1\.1\.0; feed downloads during this start: 0$/);
  assert.match(body.steps[12]!.result, /^proceed — .*; modules reports 1\.1\.0 \(module packages fetched from the feed: 1\)$/, 'front-desk got the module from the database (the one feed fetch is admin-pc\'s)');
  // 2.0.0: the question says what "yes" does, the release reports the move, and the customer survived it.
  assert.match(body.steps[14]!.result, /"yes" migrates the database from schema level 1 to 2/);
  assert.match(
    body.steps[15]!.result,
    new RegExp(`^2\\.0\\.0 is the released version; the database moved from schema level 1 to 2 in the release's one transaction \\(0002_add_email\\.js\\); backup before it: shared\\.db\\.before-2\\.0\\.0-\\d{8}T\\d{6}Z\\.backup; ${table} \\(id, name, city, created_at, email\\): Müller GmbH \\(Bremen, e-mail —\\)$`),
  );
  // front-desk still runs 1.1.0 (works on level 1) under "warn": the level blocks it all the same.
  assert.match(body.steps[17]!.result, /^outdated — .*runs 1\.1\.0, the released version is 2\.0\.0.*\(blocked: the database is not used\) \[E_SCHEMA_LEVEL: /);
  assert.match(body.steps[18]!.result, /installed from the shared database, restart into 2\.0\.0$/);
  assert.match(body.steps[19]!.result, new RegExp(`^proceed — this workstation runs the released version 2\\.0\\.0; ${table} \\(id, name, city, created_at, email\\): Müller GmbH \\(Bremen, e-mail —\\)$`));
  assert.equal(body.feedPackageDownloads, 3);

  // The schema status the demo printed, and the one the real command prints at front-desk, agree: level 2, two moves.
  const frontDesk = path.join(dir, 'front-desk');
  const status = await runNode(CLI, ['schema', 'status', '--json', '--config', path.join(frontDesk, 'lockstep.machine.json')]);
  assert.equal(status.code, 0, status.stdout + status.stderr);
  const printed = JSON.parse(status.stdout) as SchemaStatusJson;
  for (const s of [body.schemaStatus, printed]) {
    assert.deepEqual({ level: s.level?.level, version: s.level?.version, from: s.level?.setFrom }, { level: 2, version: '2.0.0', from: 'admin-pc' });
    assert.deepEqual(
      s.history.map((h) => [h.fromLevel, h.toLevel, h.migrations, h.version, h.doneFrom]),
      [[1, 2, ['0002_add_email.js'], '2.0.0', 'admin-pc'], [0, 1, ['0001_create_customers.js'], '1.0.0', 'admin-pc']],
    );
    assert.deepEqual({ version: s.installed.version, works: s.installed.worksOnCurrent, migration: s.installed.migration }, { version: '2.0.0', works: true, migration: null });
  }
  assert.equal(JSON.stringify(printed.history), JSON.stringify(body.schemaStatus.history));
  const backup = printed.history[0]!.backup!;
  assert.equal(path.dirname(backup), dir);
  assert.equal(fs.statSync(backup).mode & 0o777, 0o600, 'the backup before the migration is the database owner\'s alone');

  assert.equal(JSON.parse(fs.readFileSync(path.join(frontDesk, 'app', 'lockstep-version.json'), 'utf8')).version, '2.0.0');
  assert.ok(fs.statSync(path.join(frontDesk, 'app', 'data', 'filler.bin')).size === 1024 * 1024, 'the package payload was installed');
  assert.deepEqual(fs.readdirSync(path.join(frontDesk, 'app', 'migrations')).sort(), ['0001_create_customers.js', '0002_add_email.js'], '2.0.0 carries its migrations');
  const gate = await runNode(CLI, ['status', '--json', '--config', path.join(frontDesk, 'lockstep.machine.json')]);
  assert.deepEqual(JSON.parse(gate.stdout).decision, 'proceed');
  const releases = await runNode(CLI, ['releases', '--json', '--config', path.join(dir, 'admin-pc', 'lockstep.machine.json')]);
  const list = JSON.parse(releases.stdout) as { current: string; releases: Array<{ version: string; package: { state: string } | null }> };
  assert.equal(list.current, '2.0.0');
  assert.deepEqual(list.releases.map((x) => [x.version, x.package?.state ?? null]), [['2.0.0', 'complete'], ['1.1.0', 'complete'], ['1.0.0', 'complete']]);
});
