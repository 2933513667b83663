/**
 * The host confirms health, not the gate: an update installed through *Extras → Update…* is kept only when the next
 * start reaches the host's first window (lockstep/electron confirmHealthy()). A version that dies while opening its
 * first window never confirms, and the start after it reverts to the version before — with real installs into a temp
 * install folder, the real journal and health deadline, through the host layer start() is built on.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isLockstepError } from '../../contract/errors';
import { createHostSite, HostSite, installedVersion, TestHost } from './support/hostSite';

const HEALTH_MS = 1_000; // the shortest the configuration allows

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 600 && !ok(); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(ok(), what);
}

/** Start → the update window's search → "download and install now" → the restart Lockstep asks for. */
async function installNewest(t: TestHost): Promise<string> {
  const action = await t.host.start();
  assert.equal(action.type, 'go-on');
  const restarts: Array<string | null> = [];
  t.host.on('restart', ({ version }) => restarts.push(version));
  const result = await t.shell.session.check();
  const version = result!.preselected!;
  await t.shell.session.download({ version, when: { type: 'now' }, modules: [], confirmIncompatible: false });
  await until(`the install of ${version} asked for a restart`, () => t.relaunches === 1);
  assert.deepEqual(restarts, [version], 'the host heard of the restart before it happened');
  assert.equal(installedVersion(t.installDir), version);
  return version;
}

describe('health is confirmed by the host’s first window', () => {
  let site: HostSite;
  before(async () => {
    site = await createHostSite();
    const admin = await site.host({ id: 'admin-pc', installed: '1.0.0' });
    await admin.shell.workstation.ledger.release('1.0.0');
  });
  after(async () => site?.close());

  test('a version that crashes while opening its first window is reverted at the next start', async () => {
    const first = await site.host({ id: 'crashes', installed: '1.0.0', healthTimeoutMs: HEALTH_MS });
    const newer = await installNewest(first);
    await first.host.close();

    // The next start of the new version: the gate lets it go on; then its main window crashes the process before
    // 'ready-to-show', so the host never calls confirmHealthy().
    const crashing = await site.host({ id: 'crashes', installed: '1.0.0', healthTimeoutMs: HEALTH_MS });
    const action = await crashing.host.start();
    assert.equal(action.type, 'release-question', `${newer} is newer than the released 1.0.0: an administrator is asked`);
    assert.equal(installedVersion(crashing.installDir), newer, 'start() itself confirms nothing and reverts nothing yet');
    await crashing.host.close();

    await new Promise((r) => setTimeout(r, HEALTH_MS + 100)); // the health deadline is wall-clock time in the journal
    const after = await site.host({ id: 'crashes', installed: '1.0.0', healthTimeoutMs: HEALTH_MS });
    const back = await after.host.start();
    assert.equal(installedVersion(after.installDir), '1.0.0', 'the unconfirmed version was reverted');
    assert.deepEqual(back, { type: 'go-on', decision: { type: 'proceed', installed: '1.0.0', released: '1.0.0' }, testVersion: false });
    assert.ok(after.log.entries.some((e) => e.event === 'recover.reverting' && e.fields['reason'] === 'unhealthy'), 'the log says why');
  });

  test('a version whose first window becomes ready is kept', async () => {
    const first = await site.host({ id: 'healthy', installed: '1.0.0', healthTimeoutMs: HEALTH_MS });
    const newer = await installNewest(first);
    await first.host.close();

    const next = await site.host({ id: 'healthy', installed: '1.0.0', healthTimeoutMs: HEALTH_MS });
    assert.throws(() => next.host.confirmHealthy(), (e: unknown) => isLockstepError(e, 'E_INVALID_STATE'), 'before start() there is nothing to confirm');
    await next.host.start();
    assert.equal(next.host.confirmHealthy(), true, 'the install awaited this confirmation');
    assert.equal(next.host.confirmHealthy(), false, 'once per start');
    await next.host.close();

    await new Promise((r) => setTimeout(r, HEALTH_MS + 100));
    const later = await site.host({ id: 'healthy', installed: '1.0.0', healthTimeoutMs: HEALTH_MS });
    await later.host.start();
    assert.equal(installedVersion(later.installDir), newer, 'kept');
    assert.ok(!later.log.entries.some((e) => e.event === 'recover.reverting'));
  });

  test('a clerk on the released version: Lockstep shows nothing at start, its menu has no release management', async () => {
    const clerk = await site.host({ id: 'old-desk', installed: '1.0.0', admin: false, policy: 'block' });
    const action = await clerk.host.start();
    assert.equal(action.type, 'go-on');
    assert.deepEqual(clerk.windows.filter((w) => w.startsWith('show:')), [], 'Lockstep showed nothing: the host opens its main window');
    assert.throws(() => clerk.host.open('admin'), (e: unknown) => isLockstepError(e, 'E_NOT_ADMIN'));
    assert.deepEqual(clerk.host.menuItems().map((i) => i.id), ['lockstep-update'], 'no release management for a clerk');
  });

  test('outdated under block at start: Lockstep’s notice is the only window this run, and its readiness confirms', async () => {
    // A newer release this workstation may not install (installer.allowedUsers, S10): the gate cannot upgrade it.
    const admin = await site.host({ id: 'admin-pc', installed: '1.0.0' });
    const newer = (await admin.shell.updates.check()).preselected!;
    await admin.shell.workstation.ledger.release(newer);
    const stuck = await site.host({ id: 'stuck', installed: '1.0.0', admin: false, policy: 'block', allowedUsers: ['someone-else'] });
    const action = await stuck.host.start();
    assert.equal(action.type, 'outdated');
    assert.ok(action.type === 'outdated' && action.policy === 'block');
    assert.deepEqual(stuck.windows.filter((w) => w.startsWith('show:')), ['show:outdated']);
    assert.equal(stuck.host.mayUseDatabase(), false);
    assert.throws(() => stuck.host.database(), (e: unknown) => isLockstepError(e, 'E_INVALID_STATE'));
    stuck.ready.get('outdated')!(); // the notice became ready: that start counts as healthy
    assert.equal(stuck.host.confirmHealthy(), false, 'already confirmed by the notice');
  });
});
