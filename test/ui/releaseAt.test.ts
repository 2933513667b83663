/**
 * "Yes — at 22:00" in real Chromium over the real gate and SQLite ledger, in de/en/fr: the administrator picks a time,
 * the schedule is stored for its next occurrence (this machine's time zone, after the database server's now), the
 * pointer stays where it is, and the window says when the release happens ("scheduled for …").
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import type { ServedFolder } from '../../electron/shell/feedServer';
import { resolveReleaseTime } from '../../engine/releaseTime';
import { launchChromium, openWindow, screenshot, serveWindows } from './helpers/browser';
import { createSite } from './helpers/site';

const LOCALES = ['en', 'de', 'fr'] as const;

describe('Release at a chosen time in Chromium', () => {
  let browser: Browser;
  let web: ServedFolder;

  before(async () => {
    browser = await launchChromium();
    web = await serveWindows();
  });
  after(async () => {
    await web?.close();
    await browser?.close();
  });

  for (const locale of LOCALES) {
    test(`${locale}: Yes — at 21:30 stores the schedule, the pointer stays, the window says when`, async () => {
      const site = await createSite({ windowsOrigin: web.origin });
      try {
        const admin = await site.workstation({ id: 'admin-pc', installed: '1.0.0', start: false });
        await admin.shell.workstation.ledger.release('1.0.0');
        const ws = await site.workstation({ id: 'tester', installed: '1.1.0', locale });
        const w = await openWindow(browser, web, ws.shell, 'release');
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
});
