/**
 * The fleet view in release management, in real Chromium over the real shell, gate and SQLite registry, in en/de/fr:
 * convergence and the versions chart match the registry rows, the test workstation, a real failed upgrade with its
 * code and time, a workstation not seen for 40 days retired from the window (audited) and back once it starts again,
 * the CSV export downloaded and parsed back with a hostile host name kept as text. Screenshots: test-artifacts/ui/<locale>/fleet*.png.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { summarizeFleet } from '../../engine/fleet/fleetSummary';
import { serverNowPlus } from '../../db/serverTime';
import { parseCsv } from '../fleet/fleetCsvParse';
import { openWindow, screenshot, sharedBrowser } from './helpers/browser';
import { createSite, ME } from './helpers/site';
import { DEMO_VERSIONS } from '../../electron/shell/demoSite';

const LOCALES = ['en', 'de', 'fr'] as const;
const HOSTILE_HOST = '=HYPERLINK("http://evil.example/","a, "b"")\nx';
const EXPECTED_CONVERGENCE = {
  en: '2 of 6 workstations run the released version 1.1.0 (33%).',
  de: '2 von 6 Arbeitsplätzen nutzen die freigegebene Version 1.1.0 (33 %).',
  fr: '2 postes sur 6 utilisent la version publiée 1.1.0 (33 %).',
} as const;

describe('Fleet view in Chromium', () => {
  const ui = sharedBrowser();

  for (const locale of LOCALES) {
    test(`${locale}: convergence, versions, test workstations, failed upgrades, stale ones retired and back, CSV`, async () => {
      // 1.1.0 is released but not in the feed, so the workstations on 1.0.0 fail to upgrade for real.
      const site = await createSite({ windowsOrigin: ui.web.origin, versions: DEMO_VERSIONS.filter((v) => v.version !== '1.1.0') });
      try {
        const admin = await site.workstation({ id: 'admin-pc', installed: '1.1.0', start: false, locale });
        await admin.shell.workstation.ledger.release('1.1.0');
        await admin.shell.session.start();
        await site.workstation({ id: 'front-desk', installed: '1.1.0', admin: false });
        const tester = await site.workstation({ id: 'tester', installed: '1.2.0' });
        await tester.shell.session.answerRelease('no');
        // 1.0.0 under warn: the upgrade from the shared database fails for real (no package stored with 1.1.0).
        await site.workstation({ id: 'old-pc', installed: '1.0.0', admin: false, policy: 'warn' });
        const lab = await site.workstation({ id: 'lab-pc', installed: '1.0.0', admin: false, policy: 'warn' });
        await site.workstation({ id: 'kiosk', installed: '1.2.0', admin: false, policy: 'warn' });
        const knex = admin.shell.workstation.db.knex;
        await knex('lockstep_workstations').where({ workstation_id: 'lab-pc' }).update({ last_start: serverNowPlus(knex, -40 * 86_400_000) });
        // A host name is whatever the workstation reports: here a spreadsheet formula with quotes and a line break.
        await knex('lockstep_workstations').where({ workstation_id: 'kiosk' }).update({ host_name: HOSTILE_HOST });

        const w = await openWindow(ui.browser, ui.web, admin.shell, 'admin');
        await w.page.waitForSelector('#fleet');
        // The numbers, computed independently from the registry rows and the server clock.
        const rows = await admin.shell.workstation.fleet.workstations.list();
        const now = new Date(await admin.shell.workstation.fleet.workstations.serverTime());
        const expected = summarizeFleet({ channel: 'stable', released: '1.1.0', rows, now, staleDays: 14 });
        assert.deepEqual([expected.total, expected.onReleased], [6, 2]);
        assert.equal((await w.page.textContent('#convergence'))?.replace(/\s/g, ' '), EXPECTED_CONVERGENCE[locale]);
        assert.deepEqual([await w.page.getAttribute('#fleet', 'data-total'), await w.page.getAttribute('#fleet', 'data-on-released')], ['6', '2']);
        const bars = await w.page.$$eval('#versions-chart g', (gs) => gs.map((g) => `${g.getAttribute('data-version')}=${g.getAttribute('data-count')}`));
        assert.deepEqual(bars, expected.versions.map((v) => `${v.version}=${v.count}`));
        assert.deepEqual(bars, ['1.2.0=2', '1.1.0=2', '1.0.0=2']);
        assert.equal(await w.page.$$eval('#versions-chart rect.released', (r) => r.length), 1);
        assert.deepEqual(await w.page.$$eval('#test-workstations tbody tr', (r) => r.map((x) => x.getAttribute('data-id'))), ['tester']);
        const failed = await w.page.$$eval('#failed tbody tr', (r) => r.map((x) => `${x.getAttribute('data-id')}:${x.getAttribute('data-code')}`));
        assert.deepEqual(failed.sort(), ['lab-pc:E_UPGRADE_UNAVAILABLE', 'old-pc:E_UPGRADE_UNAVAILABLE']);
        assert.deepEqual(await w.page.$$eval('#stale tbody tr', (r) => r.map((x) => x.getAttribute('data-id'))), ['lab-pc']);
        assert.equal(await w.page.$eval('#workstations tr[data-host^="=HYPERLINK"] td', (td) => td.textContent), HOSTILE_HOST, 'shown as text, never markup');
        assert.deepEqual(w.console.filter((l) => /Refused|violat|pageerror/i.test(l)), [], 'no CSP violation, no page error');
        await screenshot(w.page, 'fleet', locale, true);

        // Retire from the window: confirm in place, one audit row, no longer counted.
        await w.page.click('#retire-lab-pc');
        await screenshot(w.page, 'fleet-retire-confirm', locale);
        await w.page.keyboard.press('Enter'); // the confirm button has the focus
        await w.page.waitForSelector('#fleet[data-total="5"]');
        assert.equal(await w.page.$$eval('#stale tbody tr[data-id]', (r) => r.length), 0);
        assert.match((await w.page.textContent('#retired')) ?? '', /LAB-PC/);
        const audit = await admin.shell.workstation.fleet.events({ action: 'retire-workstation' });
        assert.deepEqual(audit.map((e) => [e.outcome, e.actor, e.workstationId, e.detail?.['workstationId']]), [['ok', ME, 'admin-pc', 'lab-pc']]);
        await screenshot(w.page, 'fleet-retired', locale);

        if (locale === 'en') {
          const download = w.page.waitForEvent('download');
          await w.page.click('#export-csv');
          const file = await (await download).path();
          const [head, ...records] = parseCsv(fs.readFileSync(file, 'utf8'));
          assert.equal(head![0], 'host');
          assert.equal(records.length, 5);
          assert.equal(records.find((r) => r[2] === 'kiosk')![0], `'${HOSTILE_HOST}`);
          for (const r of records) for (const cell of r) assert.doesNotMatch(cell, /^[=+\-@\t\r]/);
        }

        // A non-administrator can neither read nor retire.
        const clerk = site.workstation({ id: 'clerk', installed: '1.1.0', admin: false });
        const sender = { url: `${ui.web.origin}/renderer/admin.html` };
        const c = await clerk;
        for (const [channel, args] of [['lockstep:fleet', [14]], ['lockstep:retire-workstation', ['front-desk', 14]], ['lockstep:fleet-csv', [14]]] as const) {
          const denied = await c.shell.handlers.invoke(channel, sender, [...args]);
          assert.equal(denied.ok ? 'ok' : denied.error.code, 'E_NOT_ADMIN', channel);
        }
        assert.equal((await admin.shell.workstation.fleet.events({ action: 'retire-workstation' })).length, 1);

        // lab-pc starts again: counted again, without anyone un-retiring it.
        await lab.shell.workstation.gate.heartbeat();
        await w.page.click('#refresh');
        await w.page.waitForSelector('#fleet[data-total="7"]');
        assert.equal(await w.page.$('#retired'), null);
        await w.close();
      } finally {
        await site.close();
      }
    });
  }
});
