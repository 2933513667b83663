/**
 * The administrator's time controls in real Chromium over the real gate and SQLite ledger, in de/en/fr.
 * "Yes — at 22:00": the administrator picks a time, the schedule is stored for its next occurrence (this machine's time
 * zone, after the database server's now), the pointer stays where it is, and the window says when the release happens.
 * "Warn for 2 days, then block": the workstation cannot upgrade (only IT may install here), the release happened 2 days
 * minus a few seconds ago by the server's clock, so the notice says by when it must be updated and counts down; at zero
 * it says the grace period ended, "Continue anyway" is gone and the API refuses it too.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { serverNowPlus } from '../../db/serverTime';
import { resolveReleaseTime } from '../../engine/releaseTime';
import { openWindow, screenshot, sharedBrowser } from './helpers/browser';
import { createSite } from './helpers/site';

const LOCALES = ['en', 'de', 'fr'] as const;
const TWO_DAYS_MS = 2 * 24 * 3600_000;
const LEFT_MS = 4_000;

describe('Release at a chosen time and the grace period in Chromium', () => {
  const ui = sharedBrowser();

  for (const locale of LOCALES) {
    test(`${locale}: Yes — at 21:30 stores the schedule, the pointer stays, the window says when`, async () => {
      const site = await createSite({ windowsOrigin: ui.web.origin });
      try {
        const admin = await site.workstation({ id: 'admin-pc', installed: '1.0.0', start: false });
        await admin.shell.workstation.ledger.release('1.0.0');
        const ws = await site.workstation({ id: 'tester', installed: '1.1.0', locale });
        const w = await openWindow(ui.browser, ui.web, ws.shell, 'release');
        await w.page.fill('#release-time', '21:30');
        assert.match(await w.page.textContent('#yes-at') ?? '', /21:30/);
        await screenshot(w.page, 'release-at-question', locale, true);
        await w.page.click('#yes-at');
        await w.page.waitForSelector('#answered');
        const fleet = ws.shell.workstation.fleet;
        const pending = (await fleet.schedules.pending('stable'))!;
        assert.equal(pending.version, '1.1.0');
        const expected = resolveReleaseTime('21:30', await fleet.schedules.serverNow());
        assert.equal(pending.dueAt, expected, 'the next 21:30 after the server time');
        assert.equal((await fleet.releases.current('stable'))?.release?.version, '1.0.0', 'nothing moves before the time');
        const overview = await ws.shell.session.adminOverview();
        assert.deepEqual(overview.releases.find((r) => r.version === '1.1.0')?.scheduledFor, { at: expected, by: pending.scheduledBy }, 'the release management data says "scheduled for"');
        assert.deepEqual(overview.workstations.find((w) => w.workstationId === 'tester')?.grace, { state: 'ahead', deadline: null });
        assert.equal(await w.page.isVisible('#scheduled'), true);
        assert.equal(await w.page.isVisible('#yes-at'), false, 'one schedule at a time');
        await screenshot(w.page, 'release-at-scheduled', locale);
        await w.close();
      } finally {
        await site.close();
      }
    });
  }

  for (const locale of LOCALES) {
    test(`${locale}: must be updated by …, counting down; then the grace period ended`, async () => {
      const site = await createSite({ windowsOrigin: ui.web.origin });
      try {
        const admin = await site.workstation({ id: 'admin-pc', installed: '1.1.0', start: false });
        await admin.shell.workstation.ledger.release('1.1.0');
        const knex = admin.shell.workstation.fleet.db.knex;
        await knex('lockstep_releases').where({ version: '1.1.0' }).update({ released_at: serverNowPlus(knex, -(TWO_DAYS_MS - LEFT_MS)) });
        const ws = await site.workstation({ id: 'late-pc', installed: '1.0.0', policy: { warnDays: 2 }, admin: false, locale, allowedUsers: ['it-department'] });
        const gate = ws.shell.session.snapshot().gate;
        assert.ok(gate?.type === 'outdated' && gate.policy === 'warn' && typeof gate.deadline === 'string' && gate.msLeft! > 0 && gate.msLeft! <= LEFT_MS, JSON.stringify(gate));
        const w = await openWindow(ui.browser, ui.web, ws.shell, 'outdated');
        await w.page.waitForSelector('#deadline');
        const first = (await w.page.textContent('#deadline')) ?? '';
        assert.equal(await w.page.getAttribute('#deadline', 'role'), 'timer');
        assert.equal(await w.page.isVisible('#continue'), true);
        await screenshot(w.page, 'outdated-grace', locale, true);
        await w.page.waitForSelector('#continue', { state: 'detached', timeout: LEFT_MS + 10_000 });
        const ended = (await w.page.textContent('#deadline')) ?? '';
        assert.notEqual(ended, first);
        assert.match(ended, /1\.1\.0/, 'the ended notice names the version to run');
        await screenshot(w.page, 'outdated-grace-ended', locale, true);
        const late = (await w.page.evaluate('window.lockstep.continueStart()')) as { ok: boolean; error?: { code: string } };
        assert.deepEqual([late.ok, late.error?.code], [false, 'E_INVALID_STATE'], 'no way past it after the deadline, not even through the API');
        await w.close();
      } finally {
        await site.close();
      }
    });
  }
});
