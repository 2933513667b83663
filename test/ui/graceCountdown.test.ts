/**
 * The outdated notice under "warn for 2 days, then block" in real Chromium, de/en/fr: the workstation cannot upgrade
 * (only IT may install here), the release happened 2 days minus a few seconds ago by the database server's clock, so
 * the notice says by when this workstation must be updated and counts down; at zero it says the grace period ended
 * and "Continue anyway" is gone.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import type { ServedFolder } from '../../electron/shell/feedServer';
import { serverNowPlus } from '../../db/serverTime';
import { launchChromium, openWindow, screenshot, serveWindows } from './helpers/browser';
import { createSite } from './helpers/site';

const LOCALES = ['en', 'de', 'fr'] as const;
const TWO_DAYS_MS = 2 * 24 * 3600_000;
const LEFT_MS = 4_000;

describe('Grace period countdown in Chromium', () => {
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
    test(`${locale}: must be updated by …, counting down; then the grace period ended`, async () => {
      const site = await createSite({ windowsOrigin: web.origin });
      try {
        const admin = await site.workstation({ id: 'admin-pc', installed: '1.1.0', start: false });
        await admin.shell.workstation.ledger.release('1.1.0');
        const knex = admin.shell.workstation.fleet.db.knex;
        await knex('lockstep_releases').where({ version: '1.1.0' }).update({ released_at: serverNowPlus(knex, -(TWO_DAYS_MS - LEFT_MS)) });
        const ws = await site.workstation({ id: 'late-pc', installed: '1.0.0', policy: { warnDays: 2 }, admin: false, locale, allowedUsers: ['it-department'] });
        const gate = ws.shell.session.snapshot().gate;
        assert.ok(gate?.type === 'outdated' && gate.policy === 'warn' && typeof gate.deadline === 'string' && gate.msLeft! > 0 && gate.msLeft! <= LEFT_MS, JSON.stringify(gate));
        const w = await openWindow(browser, web, ws.shell, 'outdated');
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
