/**
 * Real Chromium for the windows (Debian's /usr/bin/chromium through playwright-core). The page gets the app's real
 * preload (build/electron/preload.js) with the one part that cannot exist here — Electron's ipcRenderer and
 * contextBridge — replaced by a shim that forwards to the REAL handler table through exposeBinding, with the calling
 * frame's URL as the sender. Snapshots are pushed the way main.ts pushes them (session.onState → the state channel).
 */
import { after, before } from 'node:test';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, Browser, Page } from 'playwright-core';
import type { Shell } from '../../../electron/shell/compose';
import { serveFolder, ServedFolder } from '../../../electron/shell/feedServer';

export const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = path.join(ROOT, 'test-artifacts', 'ui');
const README_SHOTS = path.join(ROOT, 'docs', 'screenshots');
/** The same policy the HTML pages declare; sent as a header as Electron's protocol handler does. */
export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'none'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export async function launchChromium(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/setup-system.sh installs it).`);
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'] });
}

/**
 * Serves build/web on 127.0.0.1. The windows are built once before the test processes start (npm test and
 * scripts/run-tests.js run scripts/build-renderer.js): two test processes rebuilding the folder at once would delete
 * pages under each other's feet.
 */
/** Chromium and the windows server that one describe block's tests share: opened before them, closed after. */
export interface SharedBrowser {
  browser: Browser;
  web: ServedFolder;
}

export function sharedBrowser(): SharedBrowser {
  const ui = {} as SharedBrowser;
  before(async () => {
    ui.browser = await launchChromium();
    ui.web = await serveWindows();
  });
  after(async () => {
    await ui.web?.close();
    await ui.browser?.close();
  });
  return ui;
}

export async function serveWindows(): Promise<ServedFolder> {
  const web = path.join(ROOT, 'build', 'web');
  if (!fs.existsSync(path.join(web, 'renderer'))) throw new Error(`${web} is missing: run node scripts/build-renderer.js (npm test does).`);
  return serveFolder(web, { headers: { 'content-security-policy': CSP } });
}

function preloadShim(): string {
  const preload = fs.readFileSync(path.join(ROOT, 'build', 'electron', 'preload.js'), 'utf8');
  return `(() => {
  const listeners = new Map();
  window.__lockstepEmit = (channel, payload) => { for (const l of listeners.get(channel) ?? []) l({}, payload); };
  const ipcRenderer = {
    invoke: (channel, ...args) => window.__lockstepInvoke(channel, args),
    on: (channel, l) => { listeners.set(channel, [...(listeners.get(channel) ?? []), l]); },
    removeListener: (channel, l) => { listeners.set(channel, (listeners.get(channel) ?? []).filter((x) => x !== l)); },
  };
  const contextBridge = { exposeInMainWorld: (key, value) => Object.defineProperty(window, key, { value: Object.freeze(value), writable: false, configurable: false }) };
  const require = (name) => { if (name !== 'electron') throw new Error('a sandboxed preload may only require electron, not ' + name); return { ipcRenderer, contextBridge }; };
  const exports = {}; const module = { exports };
  (function (require, exports, module) {\n${preload}\n})(require, exports, module);
})();`;
}

export interface Window {
  page: Page;
  /** Messages Chromium printed (CSP violations land here). */
  console: string[];
  close(): Promise<void>;
}

/** Opens renderer/<kind>.html for `shell`, as Electron would: preload first, then the page, snapshots pushed. */
export async function openWindow(browser: Browser, web: ServedFolder, shell: Shell, kind: string, pageOrigin = web.origin): Promise<Window> {
  const context = await browser.newContext({ viewport: { width: 900, height: 700 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const consoleLines: string[] = [];
  page.on('console', (m) => consoleLines.push(m.text()));
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
  await page.exposeBinding('__lockstepInvoke', (source, channel: string, args: unknown[]) => shell.handlers.invoke(channel, { url: source.frame.url() }, args));
  await page.addInitScript({ content: preloadShim() });
  const unsubscribe = shell.session.onState((s) => void page.evaluate((snap) => (globalThis as unknown as { __lockstepEmit?: (c: string, p: unknown) => void }).__lockstepEmit?.('lockstep:state', snap), s).catch(() => undefined));
  await page.goto(`${pageOrigin}/renderer/${kind}.html`);
  try {
    await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
  } catch (err) {
    throw new Error(`${kind} window never became ready: ${(err as Error).message}\nconsole: ${consoleLines.join(' | ')}\nbody: ${(await page.content()).slice(0, 2000)}`);
  }
  return {
    page,
    console: consoleLines,
    async close() {
      unsubscribe();
      await context.close();
    },
  };
}

/**
 * Saves test-artifacts/ui/<locale>/<name>.png. The English main screens also refresh docs/screenshots for the README,
 * but only when asked (LOCKSTEP_UPDATE_SCREENSHOTS=1): an ordinary test run must not change tracked files.
 */
export async function screenshot(page: Page, name: string, locale: string, forReadme = false): Promise<void> {
  const file = path.join(ARTIFACTS, locale, `${name}.png`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file, fullPage: true });
  if (forReadme && locale === 'en' && process.env['LOCKSTEP_UPDATE_SCREENSHOTS'] === '1') {
    fs.mkdirSync(README_SHOTS, { recursive: true });
    fs.copyFileSync(file, path.join(README_SHOTS, `${name}.png`));
  }
}
