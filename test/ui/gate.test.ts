/**
 * The start-up gate's windows in real Chromium over the real gate and SQLite ledger (S14): "Release for all?" answered
 * Yes and No by an administrator and seen by a non-administrator; the outdated notice under block (no way past it)
 * and warn (Continue); release management with withdraw and re-release (S15, S16).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openWindow, screenshot, sharedBrowser } from './helpers/browser';
import { createSite, Site, TestWorkstation } from './helpers/site';

const LOCALES = ['en', 'de', 'fr'] as const;

describe('Start-up gate windows in Chromium', () => {
  const ui = sharedBrowser();

  /** A site whose released version is `released`, set by an administrator workstation through the ledger. */
  async function siteReleasing(released: string): Promise<{ site: Site; admin: TestWorkstation }> {
    const site = await createSite({ windowsOrigin: ui.web.origin });
    const admin = await site.workstation({ id: 'admin-pc', installed: released, start: false });
    await admin.shell.workstation.ledger.release(released);
    await admin.shell.session.start();
    return { site, admin };
  }

  for (const locale of LOCALES) {
    test(`${locale}: Release for all? — Yes releases the version for every workstation`, async () => {
      const { site } = await siteReleasing('1.0.0');
      try {
        const ws = await site.workstation({ id: 'tester', installed: '1.1.0', locale });
        assert.deepEqual(ws.shell.session.snapshot().gate, { type: 'ask-release', installed: '1.1.0', released: '1.0.0', canAnswer: true });
        const w = await openWindow(ui.browser, ui.web, ws.shell, 'release');
        assert.equal(await w.page.evaluate('document.activeElement && document.activeElement.id'), 'no'); // the safe answer has the focus
        await screenshot(w.page, 'release-prompt', locale, true);
        await w.page.click('#yes');
        await w.page.waitForSelector('#answered');
        const current = await ws.shell.workstation.fleet.releases.current('stable');
        assert.equal(current?.release?.version, '1.1.0');
        assert.equal(current?.release?.releasedFrom, 'tester');
        assert.equal(ws.shell.session.snapshot().gate?.type, 'proceed');
        await screenshot(w.page, 'release-yes', locale);
        const continued: string[] = [];
        ws.shell.session.onEvent((e) => continued.push(e.type));
        await w.page.keyboard.press('Tab');
        await w.page.focus('#continue');
        await w.page.keyboard.press('Enter');
        await w.page.waitForFunction(() => true);
        for (let i = 0; i < 50 && !continued.includes('continue'); i++) await new Promise((r) => setTimeout(r, 10));
        assert.deepEqual(continued, ['continue']);
        await w.close();
      } finally {
        await site.close();
      }
    });

    test(`${locale}: Release for all? — No keeps it a test installation here; others see it awaits release`, async () => {
      const { site, admin } = await siteReleasing('1.0.0');
      try {
        const ws = await site.workstation({ id: 'tester', installed: '1.1.0', locale });
        const w = await openWindow(ui.browser, ui.web, ws.shell, 'release');
        await w.page.click('#no');
        await w.page.waitForSelector('#answered');
        const rows = await ws.shell.workstation.ledger.list();
        assert.deepEqual(rows.map((r) => [r.version, r.state]), [['1.1.0', 'test'], ['1.0.0', 'released']]);
        assert.equal((await admin.shell.workstation.fleet.releases.current('stable'))?.release?.version, '1.0.0');
        assert.equal(ws.shell.session.snapshot().gate?.type, 'test-workstation');
        assert.equal(await w.page.isVisible('header .marker'), true); // the "test version" marker
        await screenshot(w.page, 'release-no', locale);
        await w.close();

        const clerk = await site.workstation({ id: 'clerk', installed: '1.2.0', admin: false, locale });
        const c = await openWindow(ui.browser, ui.web, clerk.shell, 'release');
        await c.page.waitForSelector('#awaiting');
        assert.equal(await c.page.$('#yes'), null);
        const refused = (await c.page.evaluate('window.lockstep.answerRelease("yes")')) as { ok: boolean; error: { code: string } };
        assert.equal(refused.error.code, 'E_NOT_ADMIN');
        assert.deepEqual((await clerk.shell.workstation.ledger.list()).map((r) => r.version), ['1.1.0', '1.0.0']);
        await screenshot(c.page, 'release-awaiting', locale);
        await c.close();
      } finally {
        await site.close();
      }
    });

    for (const policy of ['block', 'warn'] as const) {
      test(`${locale}: outdated notice under ${policy}`, async () => {
        const { site } = await siteReleasing('1.1.0');
        try {
          // A real reason the upgrade cannot happen here: only IT may install updates on this workstation (S10).
          const ws = await site.workstation({ id: `old-${policy}`, installed: '1.0.0', policy, admin: false, locale, allowedUsers: ['it-department'] });
          const gate = ws.shell.session.snapshot().gate;
          assert.equal(gate?.type, 'outdated');
          const w = await openWindow(ui.browser, ui.web, ws.shell, 'outdated');
          await w.page.waitForSelector(`main[data-state="outdated-${policy}"]`);
          assert.match((await w.page.textContent('#versions')) ?? '', /1\.0\.0.*1\.1\.0/);
          assert.equal(await w.page.getAttribute('main', 'role'), 'alertdialog');
          assert.equal(await w.page.$eval('.error', (e) => e.getAttribute('data-code')), 'E_NOT_PERMITTED');
          const answer = (await w.page.evaluate('window.lockstep.continueStart()')) as { ok: boolean; error?: { code: string } };
          if (policy === 'block') {
            assert.equal(await w.page.$('#continue'), null);
            assert.equal(answer.ok, false); // no way past it, not even through the API
            assert.equal(answer.error?.code, 'E_INVALID_STATE');
          } else {
            assert.equal(await w.page.isVisible('#continue'), true);
            assert.equal(answer.ok, true);
          }
          const registry = await ws.shell.workstation.fleet.workstations.get(`old-${policy}`);
          assert.match(registry?.lastResult ?? '', /E_NOT_PERMITTED/);
          await screenshot(w.page, `outdated-${policy}`, locale, true);
          await w.close();
        } finally {
          await site.close();
        }
      });
    }

    test(`${locale}: release management lists workstations and releases; withdraw and re-release`, async () => {
      const { site, admin } = await siteReleasing('1.0.0');
      try {
        await admin.shell.workstation.ledger.release('1.1.0');
        await site.workstation({ id: 'front-desk', installed: '1.0.0', admin: false });
        const ws = await site.workstation({ id: 'back-office', installed: '1.1.0', locale });
        const w = await openWindow(ui.browser, ui.web, ws.shell, 'admin');
        await w.page.waitForSelector('main[data-state="loaded"]');
        assert.deepEqual(await w.page.$$eval('#workstations tbody tr', (rows) => rows.map((r) => r.getAttribute('data-host'))), ['ADMIN-PC', 'BACK-OFFICE', 'FRONT-DESK']);
        assert.deepEqual(await w.page.$$eval('#releases tbody tr', (rows) => rows.map((r) => `${r.getAttribute('data-version')}:${r.getAttribute('data-state')}`)), ['1.1.0:released', '1.0.0:released']);
        await screenshot(w.page, 'admin', locale, true);

        await w.page.click('#withdraw-1\\.1\\.0');
        await w.page.click('#confirm-1\\.1\\.0');
        await w.page.waitForSelector('#releases tr[data-version="1.1.0"][data-state="withdrawn"]');
        assert.equal((await ws.shell.workstation.fleet.releases.current('stable'))?.release?.version, '1.0.0');
        await screenshot(w.page, 'admin-withdrawn', locale);

        await w.page.click('#rerelease-1\\.1\\.0');
        await w.page.keyboard.press('Enter'); // the confirm button has the focus
        await w.page.waitForSelector('#releases tr[data-version="1.1.0"][data-state="released"]');
        assert.equal((await ws.shell.workstation.fleet.releases.current('stable'))?.release?.version, '1.1.0');
        await w.close();

        const clerk = await site.workstation({ id: 'clerk', installed: '1.1.0', admin: false });
        const denied = await clerk.shell.handlers.invoke('lockstep:withdraw', { url: `${ui.web.origin}/renderer/admin.html` }, ['1.1.0']);
        assert.deepEqual(denied.ok ? null : denied.error.code, 'E_NOT_ADMIN');
        assert.equal((await clerk.shell.workstation.fleet.releases.current('stable'))?.release?.version, '1.1.0');
      } finally {
        await site.close();
      }
    });
  }
});
