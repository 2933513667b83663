/**
 * The floor record beside the installer's state (S31): raised by every verified manifest, never lowered, never read
 * through a link, and honoured by the side with rights — handing it an older but genuinely signed package below the
 * floor once verified on this machine installs nothing.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { LOCAL_FLOOR_FILE, raiseLocalFloor, readLocalFloor, statedFloor } from '../../kernel/localFloor';
import { MemoryLogger } from '../../kernel/log';
import { nodeSpawner } from '../../installer/spawn';
import { applyWithRights } from '../../installer/withRights';
import { appTree, makeTarGz, openTempDir, treeHash, writeTree } from './support/fixtures';
import { VENDOR, manifestOf, signManifest } from './support/vendor';

function recordOf(file: string): string | null | undefined {
  const r = readLocalFloor(file);
  return r.known ? (r.floor?.raw ?? null) : undefined;
}

test('the record only rises, and a damaged or linked record counts as unknown', () => {
  const dir = openTempDir('lockstep-floor-record-');
  const file = path.join(dir, 'state', LOCAL_FLOOR_FILE);
  assert.equal(recordOf(file), undefined);
  raiseLocalFloor(file, statedFloor(null), 'test');
  assert.equal(recordOf(file), null, 'a signed "no floor" makes the floor known');
  raiseLocalFloor(file, statedFloor('2.0.0'), 'test');
  raiseLocalFloor(file, statedFloor('1.5.0'), 'test');
  raiseLocalFloor(file, statedFloor(null), 'test');
  raiseLocalFloor(file, statedFloor(undefined), 'test');
  assert.equal(recordOf(file), '2.0.0');
  raiseLocalFloor(file, statedFloor('2.0.10'), 'test');
  assert.equal(recordOf(file), '2.0.10', 'versions compare as versions');
  assert.deepEqual(fs.readdirSync(path.dirname(file)), [LOCAL_FLOOR_FILE], 'no temporary file left behind');

  fs.writeFileSync(file, '{"floor": "not a version"}');
  assert.equal(recordOf(file), undefined);
  // A link planted in place of the record is not read, and raising replaces the link — its target stays as it was.
  const target = path.join(dir, 'elsewhere.json');
  fs.writeFileSync(target, JSON.stringify({ floor: '1.0.0' }));
  fs.rmSync(file);
  fs.symlinkSync(target, file);
  assert.equal(recordOf(file), undefined);
  raiseLocalFloor(file, statedFloor('3.0.0'), 'test');
  assert.equal(fs.lstatSync(file).isFile(), true);
  assert.equal(recordOf(file), '3.0.0');
  assert.equal(fs.readFileSync(target, 'utf8'), JSON.stringify({ floor: '1.0.0' }));
});

test('the side with rights refuses a signed package below the recorded floor and raises the record from what it installs', async () => {
  const dir = openTempDir('lockstep-floor-record-');
  const installDir = path.join(dir, 'app');
  writeTree(installDir, appTree('2.0.0'));
  const before = treeHash(installDir).hash;
  const settings = { installDir, stateDir: path.join(dir, '.app.lockstep'), dataFolders: [], keepBackups: 2, healthTimeoutMs: 60_000 };
  const rc = { settings, log: new MemoryLogger(), spawner: nodeSpawner, startedBy: 'tester' };
  const record = path.join(settings.stateDir, LOCAL_FLOOR_FILE);
  raiseLocalFloor(record, statedFloor('1.8.0'), 'test');

  // Genuinely signed, but older than the floor verified here (its own manifest predates the floor).
  const old = makeTarGz(dir, 'app-1.5.0.tar.gz', appTree('1.5.0'));
  const request = (pkg: string, version: string, floor?: string | null) =>
    ({ id: `floor-${version.replace(/\./g, '-')}`, kind: 'portable', packagePath: pkg, toVersion: version, manifest: signManifest({ ...manifestOf(version, [pkg]), ...(floor !== undefined ? { securityFloor: floor } : {}) }, VENDOR) }) as never;
  await assert.rejects(applyWithRights(request(old, '1.5.0'), rc, [VENDOR.publicKey]), { code: 'E_BELOW_SECURITY_FLOOR' });
  assert.equal(treeHash(installDir).hash, before, 'the install folder is untouched');
  assert.deepEqual(fs.readdirSync(settings.stateDir), [LOCAL_FLOOR_FILE], 'no journal, staging or backup was written');

  // A version whose signed manifest states a higher floor raises the record; the record is not lowered afterwards.
  const next = makeTarGz(dir, 'app-2.1.0.tar.gz', appTree('2.1.0'));
  const j = await applyWithRights(request(next, '2.1.0', '2.1.0'), rc, [VENDOR.publicKey]);
  assert.equal(j.phase, 'awaiting-health');
  assert.equal(recordOf(record), '2.1.0');
});
