/**
 * Installing and the restart are states of the one update union: a window knows it is busy from `update.type` alone.
 * Real download from the loopback feed, real installer into a temp install folder; a refused install (this user is
 * not among installer.allowedUsers, S10) returns to `downloaded` with the error, so *Install now* can run again.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { UpdateState } from '../../contract/update';
import { createHostSite, HostSite, installedVersion, TestHost } from './support/hostSite';

async function downloaded(t: TestHost): Promise<string> {
  await t.host.start();
  const version = (await t.shell.session.check())!.preselected!;
  await t.shell.session.download({ version, when: { type: 'background' }, modules: [], confirmIncompatible: false });
  for (let i = 0; i < 600 && t.shell.updates.getState().type !== 'downloaded'; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(t.shell.updates.getState().type, 'downloaded');
  return version;
}

describe('installing and the restart in the update state union', () => {
  let site: HostSite;
  before(async () => {
    site = await createHostSite();
    const admin = await site.host({ id: 'admin-pc', installed: '1.0.0' });
    await admin.shell.workstation.ledger.release('1.0.0');
  });
  after(async () => site?.close());

  test('downloaded → installing → restart-requested, in the snapshots the windows get', async () => {
    const t = await site.host({ id: 'desk', installed: '1.0.0' });
    const version = await downloaded(t);
    const seen: UpdateState[] = [];
    t.shell.session.onState((s) => seen.push(s.update));
    await t.shell.session.installDownloaded();
    const types = seen.map((s) => s.type).filter((type, i, all) => type !== all[i - 1]);
    assert.deepEqual(types, ['installing', 'restart-requested']);
    assert.deepEqual(t.shell.session.snapshot().update, { type: 'restart-requested', version, from: '1.0.0', elevation: 'none' });
    assert.equal(t.relaunches, 1);
    assert.equal(installedVersion(t.installDir), version);
  });

  test('a refused install returns to downloaded with its error; the files stay for the next try', async () => {
    const t = await site.host({ id: 'not-allowed', installed: '1.0.0', allowedUsers: ['someone-else'] });
    const version = await downloaded(t);
    const before = t.shell.updates.getState();
    const seen: string[] = [];
    t.shell.session.onState((s) => seen.push(s.update.type));
    await assert.rejects(t.shell.session.installDownloaded(), (e: { code?: string }) => e.code === 'E_NOT_PERMITTED');
    assert.deepEqual(seen, ['installing', 'downloaded']);
    const after = t.shell.updates.getState();
    assert.ok(after.type === 'downloaded' && before.type === 'downloaded');
    assert.equal(after.installError?.code, 'E_NOT_PERMITTED');
    assert.deepEqual({ ...after, installError: undefined }, { ...before, installError: undefined }, 'the same files, still on offer');
    assert.equal(t.relaunches, 0);
    assert.equal(installedVersion(t.installDir), '1.0.0');
    assert.notEqual(version, '1.0.0');
  });
});
