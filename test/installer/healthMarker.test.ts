/**
 * The health folder is world-writable: whatever a user puts under a marker's name that is not a regular file (a
 * directory, a link) confirms nothing and never stops the next install.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MemoryLogger } from '../../kernel/log';
import { StateDir } from '../../installer/journal';
import { confirmHealthy, healthConfirmed } from '../../installer/recovery';
import { nodeSpawner } from '../../installer/spawn';
import { applyWithRights } from '../../installer/withRights';
import { appTree, makeTarGz, openTempDir } from './support/fixtures';
import { VENDOR, signedFor } from './support/vendor';

const made: string[] = [];
after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

describe('health markers', () => {
  test('a directory or a link named <id>.ok is ignored: not healthy, reverted at the deadline, the next install goes on', async () => {
    const dir = openTempDir('lockstep-health-');
    made.push(dir);
    const installDir = path.join(dir, 'app');
    fs.mkdirSync(installDir);
    fs.writeFileSync(path.join(installDir, 'lockstep-version.json'), JSON.stringify({ version: '1.0.0' }));
    const settings = { installDir, stateDir: path.join(dir, '.app.lockstep'), dataFolders: [], keepBackups: 2, healthTimeoutMs: 60_000 };
    const log = new MemoryLogger();
    const rc = { settings, log, spawner: nodeSpawner, startedBy: 'tester' };
    const pkg2 = makeTarGz(dir, 'p2.tar.gz', appTree('2.0.0'));
    const j2 = await applyWithRights({ id: 'health-0002', kind: 'portable', packagePath: pkg2, toVersion: '2.0.0', manifest: signedFor(pkg2, '2.0.0') }, rc, [VENDOR.publicKey]);
    assert.equal(j2.phase, 'awaiting-health');

    const state = new StateDir(settings.stateDir);
    const marker = state.healthMarker('health-0002');
    fs.mkdirSync(marker);
    assert.equal(healthConfirmed(state, j2), false, 'a directory is no confirmation');
    assert.equal(confirmHealthy(state, j2), false, 'the name is taken by a directory: nothing was confirmed');
    fs.rmdirSync(marker);
    const elsewhere = path.join(dir, 'elsewhere.ok');
    fs.writeFileSync(elsewhere, 'x');
    fs.symlinkSync(elsewhere, marker);
    assert.equal(healthConfirmed(state, j2), false, 'a link is no confirmation, even to a file');
    fs.unlinkSync(marker);
    fs.mkdirSync(marker);

    // After the deadline the next install reverts the unconfirmed 2.0.0 and installs 3.0.0; the directory stays.
    const later = new Date(Date.now() + 5 * 60_000);
    const pkg3 = makeTarGz(dir, 'p3.tar.gz', appTree('3.0.0'));
    const j3 = await applyWithRights({ id: 'health-0003', kind: 'portable', packagePath: pkg3, toVersion: '3.0.0', manifest: signedFor(pkg3, '3.0.0') }, { ...rc, now: () => later }, [VENDOR.publicKey]);
    assert.equal(j3.phase, 'awaiting-health');
    assert.equal(JSON.parse(fs.readFileSync(path.join(installDir, 'lockstep-version.json'), 'utf8')).version, '3.0.0');
    assert.deepEqual(log.entries.filter((e) => e.event === 'recover.reverting').map((e) => e.fields), [{ id: 'health-0002', phase: 'awaiting-health', reason: 'unhealthy' }]);
    assert.ok(fs.lstatSync(marker).isDirectory());

    // A genuine confirmation of 3.0.0 still works, and settling it lets a fourth install start.
    assert.equal(confirmHealthy(state, j3), true);
    assert.equal(healthConfirmed(state, j3), true);
    const pkg4 = makeTarGz(dir, 'p4.tar.gz', appTree('4.0.0'));
    const j4 = await applyWithRights({ id: 'health-0004', kind: 'portable', packagePath: pkg4, toVersion: '4.0.0', manifest: signedFor(pkg4, '4.0.0') }, rc, [VENDOR.publicKey]);
    assert.equal(j4.phase, 'awaiting-health');
    assert.equal(fs.existsSync(state.healthMarker('health-0003')), false, 'the settled marker file was removed');
  });
});
