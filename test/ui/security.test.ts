/**
 * The walls around the windows, in real Chromium: a hostile release note executes nothing (sanitizer + CSP); the page
 * sees only the named preload functions; the handler table refuses wrong arguments and callers that are not our
 * pages; the credentials window hands the password over once and clears it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { serveFolder, ServedFolder } from '../../electron/shell/feedServer';
import { DEMO_VERSIONS } from '../../electron/shell/demoSite';
import { launchChromium, openWindow, screenshot, serveWindows } from './helpers/browser';
import { createSite, ME, Site, TestWorkstation } from './helpers/site';

const HOSTILE = [
  '## Version 1.1.0',
  '<img src=x onerror="window.__pwned = \'img\'">',
  '<script>window.__pwned = "script"</script>',
  '[click me](javascript:window.__pwned="link")',
  '<a href="https://example.com/changes" onclick="window.__pwned=\'click\'">changes</a>',
  '<iframe src="https://example.com"></iframe><style>body{display:none}</style>',
].join('\n\n');

describe('Security of the windows in Chromium', () => {
  let browser: Browser;
  let web: ServedFolder;
  let site: Site;
  let ws: TestWorkstation;

  before(async () => {
    browser = await launchChromium();
    web = await serveWindows();
    site = await createSite({ windowsOrigin: web.origin, versions: DEMO_VERSIONS.map((v) => (v.version === '1.1.0' ? { ...v, notes: HOSTILE } : v)) });
    ws = await site.workstation({ id: 'ws', installed: '1.0.0', start: false });
    await ws.shell.workstation.ledger.release('1.0.0');
    await ws.shell.session.start();
  });
  after(async () => {
    await site?.close();
    await web?.close();
    await browser?.close();
  });

  test('a release note with <img onerror>, <script>, javascript: links and handlers executes nothing', async () => {
    const w = await openWindow(browser, web, ws.shell, 'update');
    await w.page.click('#search');
    await w.page.waitForSelector('main[data-state="available"]');
    await w.page.check('#version-1\\.1\\.0');
    await w.page.waitForSelector('#notes h2');
    await w.page.click('#notes a'); // the handler that was stripped would have fired here
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await w.page.evaluate('window.__pwned'), undefined);
    const notes = (await w.page.$eval('#notes', (e) => e.innerHTML)) as string;
    assert.doesNotMatch(notes, /<script|<img|<iframe|<style|onerror|onclick|javascript:/i);
    const hrefs = (await w.page.$$eval('#notes a[href]', (as) => as.map((a) => a.getAttribute('href')))) as string[];
    assert.deepEqual(hrefs, ['https://example.com/changes']);
    // The second wall: even markup inserted by script cannot run inline code under the window's CSP.
    await w.page.evaluate(`document.body.insertAdjacentHTML('beforeend', '<img src=x onerror="window.__pwned=1">')`);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await w.page.evaluate('window.__pwned'), undefined);
    await screenshot(w.page, 'update-hostile-notes', 'en');
    await w.close();
  });

  test('the page sees the named preload functions only, never ipcRenderer', async () => {
    const w = await openWindow(browser, web, ws.shell, 'home');
    const keys = (await w.page.evaluate('Object.keys(window.lockstep).sort()')) as string[];
    assert.deepEqual(keys, ['adminOverview', 'answerRelease', 'cancelDownload', 'check', 'continueStart', 'credentials', 'download', 'fleet', 'fleetCsv', 'install', 'onState', 'openWindow', 'rerelease', 'retireWorkstation', 'setCheckAtStart', 'snapshot', 'withdraw']);
    assert.equal(await w.page.evaluate('typeof window.ipcRenderer + typeof window.require + typeof window.process'), 'undefinedundefinedundefined');
    const opened: string[] = [];
    ws.shell.session.onEvent((e) => e.type === 'open-window' && opened.push(e.kind));
    await w.page.click('#open-update');
    await w.page.click('#open-admin');
    assert.deepEqual(opened, ['update', 'admin']);
    await screenshot(w.page, 'home', 'en', true);
    await w.close();
  });

  test('the handler table refuses wrong arguments and unknown channels, and changes nothing', async () => {
    const w = await openWindow(browser, web, ws.shell, 'update');
    const call = (channel: string, args: unknown[]) => w.page.evaluate(([c, a]) => (globalThis as unknown as { __lockstepInvoke: (c: unknown, a: unknown) => Promise<unknown> }).__lockstepInvoke(c, a), [channel, args] as const) as Promise<{ ok: boolean; error?: { code: string; message: string } }>;
    const settings = path.join(ws.dir, 'user-settings.json');
    const before = fs.existsSync(settings) ? fs.readFileSync(settings, 'utf8') : null;
    const stateBefore = JSON.stringify(ws.shell.updates.getState());
    for (const [channel, args] of [
      ['lockstep:set-check-at-start', ['yes']],
      ['lockstep:set-check-at-start', [true, 'extra']],
      ['lockstep:download', [{ version: '1.1.0', when: { type: 'at', time: '25:00' }, modules: [], confirmIncompatible: false }]],
      ['lockstep:download', [{ version: '1.1.0', when: { type: 'now' }, modules: [], confirmIncompatible: false, path: '/etc/passwd' }]],
      ['lockstep:answer-release', ['maybe']],
      ['lockstep:open-window', ['devtools']],
      ['lockstep:eval', ['1+1']],
    ] as const) {
      const r = await call(channel, [...args]);
      assert.equal(r.ok, false, `${channel} ${JSON.stringify(args)}`);
      assert.equal(r.error?.code, 'E_USAGE');
    }
    assert.equal(fs.existsSync(settings) ? fs.readFileSync(settings, 'utf8') : null, before);
    assert.equal(JSON.stringify(ws.shell.updates.getState()), stateBefore);
    const ok = await call('lockstep:set-check-at-start', [true]);
    assert.equal(ok.ok, true);
    assert.equal(JSON.parse(fs.readFileSync(settings, 'utf8')).checkAtStart, true);
    await w.close();
  });

  test('a call from a page that is not ours is refused (unknown sender)', async () => {
    const evilDir = fs.mkdtempSync(path.join(site.dir, 'evil-'));
    fs.mkdirSync(path.join(evilDir, 'renderer'));
    fs.writeFileSync(path.join(evilDir, 'renderer', 'update.html'), '<!doctype html><title>not lockstep</title>');
    const evil = await serveFolder(evilDir);
    try {
      const w = await openWindow(browser, web, ws.shell, 'update');
      await w.page.goto(`${evil.origin}/renderer/update.html`); // same binding, other origin (a navigation, an iframe…)
      const r = (await w.page.evaluate(`window.__lockstepInvoke('lockstep:set-check-at-start', [false])`)) as { ok: boolean; error: { code: string } };
      assert.deepEqual([r.ok, r.error.code], [false, 'E_NOT_PERMITTED']);
      assert.equal(JSON.parse(fs.readFileSync(path.join(ws.dir, 'user-settings.json'), 'utf8')).checkAtStart, true);
      await w.close();
      const direct = await ws.shell.handlers.invoke('lockstep:snapshot', { url: `${web.origin}/somewhere/else.html` }, []);
      assert.equal(direct.ok ? null : direct.error.code, 'E_NOT_PERMITTED');
      const garbage = await ws.shell.handlers.invoke('lockstep:snapshot', { url: 'not a url' }, []);
      assert.equal(garbage.ok ? null : garbage.error.code, 'E_NOT_PERMITTED');
    } finally {
      await evil.close();
    }
  });

  for (const locale of ['en', 'de', 'fr'] as const) {
    test(`${locale}: the credentials window hands the password over once, clears it, and Escape cancels`, async () => {
      const other = await site.workstation({ id: `cred-${locale}`, installed: '1.0.0', locale });
      const w = await openWindow(browser, web, other.shell, 'credentials');
      await w.page.waitForSelector('#none');
      // What the Linux elevator calls where no polkit agent runs (installer/elevation/linux.ts).
      const asked = other.shell.broker.prompt({ account: ME, reason: 'install an update' });
      await w.page.waitForSelector('form[role="dialog"][aria-modal="true"]');
      assert.equal(await w.page.inputValue('#account'), ME);
      assert.equal(await w.page.evaluate('document.activeElement.id'), 'password');
      await w.page.keyboard.type('s3cret pässword');
      await screenshot(w.page, 'credentials', locale, true);
      assert.doesNotMatch(JSON.stringify(other.shell.session.snapshot()), /s3cret/);
      const field = (await w.page.$('#password'))!; // kept: the dialog goes away once answered
      await w.page.keyboard.press('Enter');
      const creds = await asked;
      assert.equal(creds?.account, ME);
      assert.equal(creds?.password.toString('utf8'), 's3cret pässword');
      assert.equal(await field.inputValue(), '');
      await w.page.waitForSelector('#none');

      const cancelled = other.shell.broker.prompt({ account: ME, reason: 'install an update' });
      await w.page.waitForSelector('form[role="dialog"]');
      await w.page.keyboard.type('typed but cancelled');
      await w.page.keyboard.press('Escape');
      assert.equal(await cancelled, null);
      assert.equal(await field.inputValue(), '');
      assert.doesNotMatch(other.log.entries.map((e) => JSON.stringify(e)).join('\n'), /s3cret|typed but cancelled/);
      await w.close();
    });
  }
});
