/**
 * S14 while running: a workstation still running when a newer release appears learns it at its next database access
 * or within fleet.checkIntervalMs, and shows the outdated notice — end to end through the shell session exactly as
 * main.ts composes it (composeShell: real SQLite shared database, real gate, real ledger of a second workstation), with
 * the interval on node:test's fake timers. The snapshots pushed to the windows and the `outdated` event are asserted.
 */
import assert from 'node:assert/strict';
import { after, afterEach, describe, mock, test } from 'node:test';
import type { ShellSnapshot } from '../../contract/ipc';
import { isLockstepError } from '../../contract/errors';
import type { ShellEvent } from '../../electron/shell/shellSession';
import { createSite, Site } from '../ui/helpers/site';

const INTERVAL = 5 * 60_000; // the default fleet.checkIntervalMs

/** Lets the watcher's database read (real I/O, real promises) finish after a fake-timer tick. */
async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !ok(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(ok(), what);
}

describe('a newer release while the app runs (shell session)', () => {
  const sites: Site[] = [];
  afterEach(() => mock.timers.reset());
  after(async () => {
    for (const s of sites) await s.close();
  });

  async function running(policy: 'block' | 'warn') {
    const site = await createSite({ windowsOrigin: 'http://127.0.0.1:9' });
    sites.push(site);
    const admin = await site.workstation({ id: 'admin-pc', installed: '1.0.0', start: false });
    await admin.shell.workstation.ledger.release('1.0.0');
    mock.timers.enable({ apis: ['setInterval'] }); // only the watcher's interval is fake; database I/O stays real
    const clerk = await site.workstation({ id: 'front-desk', installed: '1.0.0', admin: false, policy });
    const pushed: ShellSnapshot[] = [];
    const events: ShellEvent[] = [];
    clerk.shell.session.onState((s) => pushed.push(s));
    clerk.shell.session.onEvent((e) => events.push(e));
    return { site, admin, clerk, pushed, events };
  }

  test('block: noticed at the next database access — the notice is pushed once, the app may no longer continue', async () => {
    const { admin, clerk, pushed, events } = await running('block');
    assert.equal(clerk.shell.session.snapshot().gate?.type, 'proceed');
    assert.equal(await clerk.shell.session.noteDatabaseAccess(), null, 'nothing newer yet');
    assert.deepEqual([...pushed], []);

    // Another workstation's administrator installs 1.1.0 and releases it for all.
    await admin.shell.workstation.ledger.release('1.1.0');
    const notice = { type: 'outdated', installed: '1.0.0', released: '1.1.0', policy: 'block', reason: null };
    assert.deepEqual(await clerk.shell.session.noteDatabaseAccess(), notice);
    assert.deepEqual(pushed.map((s) => s.gate), [notice], 'one snapshot with the notice went to the windows');
    assert.deepEqual([...events], [{ type: 'outdated', decision: notice, mayUseDatabase: false }]);
    assert.throws(() => clerk.shell.session.continueStart(), (e: unknown) => isLockstepError(e, 'E_INVALID_STATE'));

    // The next accesses see the same release: no second notice.
    await clerk.shell.session.noteDatabaseAccess();
    mock.timers.tick(INTERVAL);
    await clerk.shell.session.noteDatabaseAccess();
    assert.equal(events.length, 1);
    assert.equal(pushed.length, 1);
  });

  test('warn: noticed by the interval without any database access; Continue stays possible', async () => {
    const { admin, clerk, pushed, events } = await running('warn');
    await admin.shell.workstation.ledger.release('1.1.0');
    mock.timers.tick(INTERVAL - 1);
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual([...events], [], 'not before the interval');
    mock.timers.tick(1);
    await until('the interval noticed the release', () => events.length > 0);
    const notice = { type: 'outdated', installed: '1.0.0', released: '1.1.0', policy: 'warn', reason: null };
    assert.deepEqual([...events], [{ type: 'outdated', decision: notice, mayUseDatabase: true }]);
    assert.deepEqual(pushed.at(-1)?.gate, notice);
    clerk.shell.session.continueStart();
    assert.deepEqual(events.at(-1), { type: 'continue' });

    // A still newer release is a new notice.
    await admin.shell.workstation.ledger.release('1.2.0');
    mock.timers.tick(INTERVAL);
    await until('the second release was noticed', () => events.filter((e) => e.type === 'outdated').length === 2);
    assert.equal(clerk.shell.session.snapshot().gate?.type === 'outdated' && clerk.shell.session.snapshot().gate?.released, '1.2.0');
  });

  test('closing the shell stops the watcher: no read after close', async () => {
    const { admin, clerk, events } = await running('block');
    await clerk.shell.close();
    await admin.shell.workstation.ledger.release('1.1.0');
    mock.timers.tick(INTERVAL * 3);
    for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
    assert.deepEqual([...events], []);
    assert.equal(await clerk.shell.session.noteDatabaseAccess(), null);
  });
});
