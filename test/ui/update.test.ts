/**
 * Extras → Update… in real Chromium, per language, through the real engine, SQLite database, loopback feed and
 * installer: search → choose (keyboard only) → download with progress → install a portable package into the temp
 * install folder → restart requested; the separate download with *Install now*; the scheduled download; nothing newer;
 * an unreachable feed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import type { Locale } from '../../contract/messages';
import type { ServedFolder } from '../../electron/shell/feedServer';
import { DEMO_VERSIONS, demoModuleBytes, demoModuleFile } from '../../electron/shell/demoSite';
import { launchChromium, openWindow, screenshot, serveWindows } from './helpers/browser';
import { createSite, Site } from './helpers/site';

const TEXT: Record<Locale, { updateTo: (v: string) => string; none: string; background: string }> = {
  en: { updateTo: (v) => `Update to version ${v}`, none: 'No newer version available', background: 'Download running in the background…' },
  de: { updateTo: (v) => `Update auf Version ${v} durchführen`, none: 'Keine neuere Version verfügbar', background: 'Download läuft im Hintergrund…' },
  fr: { updateTo: (v) => `Mettre à jour vers la version ${v}`, none: 'Aucune version plus récente disponible', background: 'Téléchargement en arrière-plan…' },
};

// 1.1.0 carries 3 MB of filler and the feed sends packages at 1.5 MB/s, so the progress bar is seen moving.
const VERSIONS = DEMO_VERSIONS.map((v) => (v.version === '1.1.0' ? { ...v, padBytes: 3 * 1024 * 1024 } : v));

function versionFile(installDir: string): string {
  return JSON.parse(fs.readFileSync(path.join(installDir, 'lockstep-version.json'), 'utf8')).version;
}

describe('Update window in Chromium', () => {
  let browser: Browser;
  let web: ServedFolder;
  let site: Site;

  before(async () => {
    browser = await launchChromium();
    web = await serveWindows();
    site = await createSite({ windowsOrigin: web.origin, versions: VERSIONS, bytesPerSecond: 1.5 * 1024 * 1024 });
    // An administrator released 1.0.0 for the site: the workstations below start on the released version.
    const admin = await site.workstation({ id: 'admin-pc', installed: '1.0.0', start: false });
    await admin.shell.workstation.ledger.release('1.0.0');
  });
  after(async () => {
    await site?.close();
    await web?.close();
    await browser?.close();
  });

  for (const locale of ['en', 'de', 'fr'] as const) {
    test(`${locale}: search → choose → download → install → restart requested, keyboard only`, async () => {
      const ws = await site.workstation({ id: `now-${locale}`, installed: '1.0.0', locale, modules: { reports: '1.0.0', 'legacy-export': '0.9.0' } });
      assert.equal(ws.shell.session.snapshot().gate?.type, 'proceed');
      const w = await openWindow(browser, web, ws.shell, 'update');
      const { page } = w;
      await screenshot(page, 'update-idle', locale);

      await page.keyboard.press('Tab'); // "Search now" is the first control
      assert.equal(await page.evaluate('document.activeElement && document.activeElement.id'), 'search');
      await page.keyboard.press('Enter');
      await page.waitForSelector('main[data-state="available"]');
      // Every newer version, newest first, with the licence reason on the one this edition may not install (S3, S4).
      assert.deepEqual(await page.$$eval('input[name="version"]', (els) => els.map((e) => e.getAttribute('value'))), ['2.0.0', '1.2.0', '1.1.0']);
      assert.equal(await page.$eval('li.blocked .error', (e) => e.getAttribute('data-code')), 'E_LICENSE');
      assert.equal((await page.textContent('#update-button'))?.trim(), TEXT[locale].updateTo('1.2.0'));
      assert.match((await page.textContent('#notes')) ?? '', /1\.2\.0/);
      // The module table: the newer Reports module ticked, the unreleased module needs confirmation (S6).
      assert.equal(await page.isChecked('#module-reports'), true);
      await screenshot(page, 'update-available', locale, true);

      // Keyboard only: arrow to 1.1.0 in the version group, tick the confirmation, submit with Enter.
      await page.focus('#version-1\\.2\\.0');
      await page.keyboard.press('ArrowDown');
      await page.waitForFunction("document.querySelector('#update-button').textContent.includes('1.1.0')");
      assert.equal((await page.textContent('#update-button'))?.trim(), TEXT[locale].updateTo('1.1.0'));
      await page.focus('#confirm-modules');
      await page.keyboard.press('Space');
      await page.focus('#update-button');
      await page.keyboard.press('Enter');

      await page.waitForSelector('[role="progressbar"][aria-valuenow]:not([aria-valuenow="0"])');
      const now = Number(await page.getAttribute('#progress', 'aria-valuenow'));
      assert.ok(now > 0 && now < 100, `progress ${now}`);
      assert.equal(await page.getAttribute('#progress', 'aria-valuemax'), '100');
      assert.match((await page.textContent('#progress-facts')) ?? '', /\/s/);
      await screenshot(page, 'update-downloading', locale, true);

      await page.waitForSelector('#restart', { timeout: 30_000 });
      await screenshot(page, 'update-restart', locale, true);
      assert.equal(versionFile(ws.installDir), '1.1.0');
      assert.equal(fs.readFileSync(path.join(ws.installDir, 'README.txt'), 'utf8'), 'Lockstep Demo 1.1.0\n');
      assert.equal(fs.statSync(path.join(ws.installDir, 'data', 'filler.bin')).size, 3 * 1024 * 1024);
      assert.equal(ws.relaunches, 1);
      assert.deepEqual(ws.shell.session.snapshot().update, { type: 'restart-requested', version: '1.1.0', from: '1.0.0', elevation: 'none' });
      assert.deepEqual(w.console.filter((l) => /error|refused|violat/i.test(l)), []);
      await w.close();
    });

    test(`${locale}: download separately, then Install now`, async () => {
      const ws = await site.workstation({ id: `later-${locale}`, installed: '1.0.0', locale });
      const ready: string[] = [];
      ws.shell.session.onEvent((e) => e.type === 'background-ready' && ready.push(e.version));
      const w = await openWindow(browser, web, ws.shell, 'update');
      const { page } = w;
      await page.click('#search');
      await page.waitForSelector('main[data-state="available"]');
      await page.click('#mode-later');
      await page.waitForSelector('#start-at');
      await page.click('#update-button');
      await page.waitForSelector('main[data-state="downloaded"]', { timeout: 30_000 });
      assert.deepEqual(ready, ['1.2.0']); // the notification (S7)
      assert.equal(versionFile(ws.installDir), '1.0.0'); // nothing installed before Install now
      await screenshot(page, 'update-downloaded', locale, true);
      await page.click('#install-now');
      await page.waitForSelector('#restart', { timeout: 30_000 });
      assert.equal(versionFile(ws.installDir), '1.2.0');
      assert.equal(ws.relaunches, 1);
      await w.close();
    });
  }

  test('the background download says so while it runs, and a scheduled one waits for its time (S7)', async () => {
    for (const locale of ['en', 'de', 'fr'] as const) {
      const ws = await site.workstation({ id: `bg-${locale}`, installed: '1.0.0', locale });
      const w = await openWindow(browser, web, ws.shell, 'update');
      const { page } = w;
      await page.click('#search');
      await page.waitForSelector('main[data-state="available"]');
      await page.check('#version-1\\.1\\.0');
      await page.click('#mode-later');
      await page.click('#update-button');
      await page.waitForSelector('[role="progressbar"][aria-valuenow]:not([aria-valuenow="0"])');
      assert.equal((await page.textContent('main[data-state="downloading"] p[role="status"]'))?.trim(), TEXT[locale].background);
      await screenshot(page, 'update-background', locale);
      await page.waitForSelector('main[data-state="downloaded"]', { timeout: 30_000 });

      await page.click('#search');
      await page.waitForSelector('main[data-state="available"]');
      await page.click('#mode-later');
      await page.fill('#start-at', '03:00');
      await page.click('#update-button');
      await page.waitForSelector('#scheduled');
      const schedule = JSON.parse(fs.readFileSync(path.join(ws.dir, 'cache', 'schedule.json'), 'utf8'));
      assert.equal(schedule.version, '1.1.0'); // the choice made before stays selected after searching again
      assert.equal(schedule.state, 'pending');
      assert.equal(new Date(schedule.at).getHours(), 3);
      await screenshot(page, 'update-scheduled', locale);

      // Cancel: back to the offer at once (not "scheduled" until the next search), the schedule forgotten.
      await page.click('#cancel');
      await page.waitForSelector('main[data-state="available"]');
      assert.equal(await page.isChecked('#version-1\\.1\\.0'), true);
      assert.equal(fs.existsSync(path.join(ws.dir, 'cache', 'schedule.json')), false);
      assert.equal(ws.shell.updates.getState().type, 'available');
      await w.close();
    }
  });

  test('modules: the ticked update is installed with the app, the unticked and the incompatible one stay byte for byte (S6)', async () => {
    const ws = await site.workstation({ id: 'modules', installed: '1.0.0', modules: { reports: '1.0.0', charts: '2.0.0', scanner: '1.0.0' } });
    // What IT installed with 1.0.0, in the install folder's module location (engine/moduleInstall.ts).
    const modulesDir = path.join(ws.installDir, 'modules');
    const itInstalled: Record<string, string> = { 'charts/charts.bin': 'Charts 2.0.0 as IT installed it', 'reports/reports.bin': 'Reports 1.0.0', 'scanner/scanner.bin': 'Scanner 1.0.0', 'scanner/de/labels.txt': 'Belege' };
    for (const [rel, text] of Object.entries(itInstalled)) {
      fs.mkdirSync(path.dirname(path.join(modulesDir, rel)), { recursive: true });
      fs.writeFileSync(path.join(modulesDir, rel), text);
    }
    const w = await openWindow(browser, web, ws.shell, 'update');
    const { page } = w;
    await page.click('#search');
    await page.waitForSelector('main[data-state="available"]');
    assert.equal((await page.textContent('#update-button'))?.trim(), TEXT.en.updateTo('1.2.0'));
    // Both updates preselected; the scanner has no version for 1.2.0: no box, a confirmation instead.
    assert.equal(await page.isChecked('#module-reports'), true);
    assert.equal(await page.isChecked('#module-charts'), true);
    assert.equal(await page.$('#module-scanner'), null);
    await page.uncheck('#module-charts');
    await page.click('#update-button');
    await page.waitForSelector('#errors .error[data-code="E_USAGE"]'); // not confirmed: refused, nothing fetched
    assert.equal(ws.shell.updates.getState().type, 'available');
    await page.check('#confirm-modules');
    await page.click('#update-button');
    await page.waitForSelector('#restart', { timeout: 30_000 });

    assert.equal(versionFile(ws.installDir), '1.2.0');
    const files = (dir: string): string[] => fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => path.relative(modulesDir, path.join(e.parentPath, e.name))).sort();
    assert.deepEqual(files(modulesDir), ['charts/charts.bin', `reports/${demoModuleFile('reports', '1.2.0')}`, 'scanner/de/labels.txt', 'scanner/scanner.bin']);
    assert.deepEqual(fs.readFileSync(path.join(modulesDir, 'reports', demoModuleFile('reports', '1.2.0'))), demoModuleBytes('reports', '1.2.0'));
    for (const rel of ['charts/charts.bin', 'scanner/scanner.bin', 'scanner/de/labels.txt']) assert.equal(fs.readFileSync(path.join(modulesDir, rel), 'utf8'), itInstalled[rel]);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(ws.installDir, 'lockstep-modules.json'), 'utf8')), { charts: '2.0.0', reports: '1.2.0', scanner: '1.0.0' });
    assert.equal(fs.existsSync(path.join(ws.dir, 'cache', 'downloads', demoModuleFile('charts', '2.1.0'))), false, 'the unticked module was not even downloaded');

    // What the next search reports for the modules now installed.
    const next = await ws.shell.session.check();
    assert.deepEqual(next!.versions[0]!.modules.map((m) => [m.id, m.installed, m.status]), [
      ['charts', '2.0.0', 'update-available'],
      ['reports', '1.2.0', 'compatible'],
      ['scanner', '1.0.0', 'incompatible'],
    ]);
    await w.close();
  });

  test('nothing newer, and an unreachable feed, in every language (S2, S11)', async () => {
    for (const locale of ['en', 'de', 'fr'] as const) {
      const ws = await site.workstation({ id: `newest-${locale}`, installed: '2.0.0', locale });
      const w = await openWindow(browser, web, ws.shell, 'update');
      await w.page.click('#search');
      await w.page.waitForSelector('#none');
      assert.equal((await w.page.textContent('#none'))?.trim(), TEXT[locale].none);
      assert.match((await w.page.textContent('main')) ?? '', /2\.0\.0/);
      await screenshot(w.page, 'update-none', locale, true);
      await w.close();
    }
    const offline = await createSite({ windowsOrigin: web.origin });
    try {
      for (const locale of ['en', 'de', 'fr'] as const) {
        const ws = await offline.workstation({ id: `offline-${locale}`, installed: '1.0.0', locale, start: false });
        await ws.shell.workstation.ledger.release('1.0.0').catch(() => undefined);
        await ws.shell.session.start();
        await offline.server.close(); // the feed server is gone: E_CONNECT naming the address
        const w = await openWindow(browser, web, ws.shell, 'update');
        await w.page.click('#search');
        await w.page.waitForSelector('main[data-state="failed"] .error[data-code="E_CONNECT"]', { timeout: 20_000 });
        assert.match((await w.page.textContent('.error')) ?? '', new RegExp(new URL(offline.server.url).host.replace(/\./g, '\\.')));
        await screenshot(w.page, 'update-error', locale, true);
        await w.close();
      }
    } finally {
      await offline.close();
    }
  });
});
