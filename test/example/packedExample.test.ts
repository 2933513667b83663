/**
 * `npm pack` → a fresh folder outside the repository with the example client → it typechecks against the published
 * .d.ts only, resolves the three entry points and nothing else, and its data layer works on the shared database
 * through the composition lockstep/electron's start() uses (composeShell → LockstepHost): before the gate nothing,
 * after it the customer table beside Lockstep's, and under a newer release with "block" no more business work —
 * while the rows stay for the workstation that runs the released version.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isLockstepError } from '../../contract/errors';
import { serveFolder, ServedFolder } from '../../electron/shell/feedServer';
import { launchChromium, openWindow, serveWindows } from '../ui/helpers/browser';
import { createHostSite, HostSite } from './support/hostSite';
import { EXAMPLE, packExample, PackedExample, ROOT, tsc } from './support/packedExample';

const HAS_CHROMIUM = fs.existsSync('/usr/bin/chromium');

/** What the README shows a vendor, verbatim. */
const README_SNIPPET = `import { app, BrowserWindow, Menu } from 'electron';
import { registerScheme, start } from 'lockstep/electron';

registerScheme(); // before ready: Lockstep's own windows load from lockstep://
app.whenReady().then(async () => {
  const lockstep = await start(); // recover → start-up gate, before any window; config: lockstep.machine.json beside the exe
  Menu.setApplicationMenu(Menu.buildFromTemplate([{ label: 'Extras', submenu: lockstep.menu() }]));
  const openMain = () => {
    const win = new BrowserWindow();
    win.once('ready-to-show', () => lockstep.confirmHealthy()); // this version works: keep it
    void win.loadFile('index.html');
  };
  if (lockstep.action.type === 'go-on') openMain(); else lockstep.on('continue', openMain);
  app.on('window-all-closed', () => void lockstep.close().then(() => app.quit()));
});
`;

interface CustomerStoreCtor {
  new (lockstep: { database(): unknown; noteDatabaseAccess(): Promise<unknown> }): {
    ensureTable(): Promise<void>;
    list(): Promise<Array<{ id: number; name: string; city: string }>>;
    add(c: { name: unknown; city?: unknown }): Promise<{ id: number; name: string; city: string }>;
  };
}

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(path.join(dir, e.name)) : /\.(ts|js)$/.test(e.name) ? [path.join(dir, e.name)] : []));
}

describe('the example client, installed from the packed tarball', () => {
  let packed: PackedExample;
  before(() => {
    packed = packExample();
  });
  after(() => packed?.remove());

  test('the tarball holds the build the API needs, the CLI and the windows — no tests, sources or maps', () => {
    const f = new Set(packed.files);
    for (const needed of ['package.json', 'bin/lockstep.js', 'build/engine/index.js', 'build/engine/index.d.ts', 'build/electron/index.js', 'build/electron/index.d.ts', 'build/builder/index.d.ts', 'build/electron/preload.js', 'build/web/renderer/update.html', 'build/installer/privilegedApply.js', 'build/engine/feed/hashingWriterWorker.js', 'build/cli/main.js']) {
      assert.ok(f.has(needed), `${needed} is in the tarball`);
    }
    const stray = packed.files.filter((p) => p.startsWith('build/test/') || p.startsWith('build/bench/') || p.endsWith('.map') || (p.endsWith('.ts') && !p.endsWith('.d.ts')));
    assert.deepEqual(stray, []);
    const manifest = JSON.parse(fs.readFileSync(path.join(packed.dir, 'node_modules', 'lockstep', 'package.json'), 'utf8'));
    assert.equal(manifest.private, undefined, 'publishable');
    assert.deepEqual(Object.keys(manifest.exports), ['.', './electron', './builder']);
  });

  test('the example imports nothing from Lockstep but its public entry points', () => {
    const imports = sources(EXAMPLE)
      .filter((f) => !f.includes(`${path.sep}node_modules${path.sep}`))
      .flatMap((f) => [...fs.readFileSync(f, 'utf8').matchAll(/from '([^']+)'|require\('([^']+)'\)/g)].map((m) => m[1] ?? m[2]!))
      .filter((spec) => spec.startsWith('lockstep') || spec.includes('..'));
    assert.ok(imports.includes('lockstep/electron'));
    assert.deepEqual(imports.filter((s) => !['lockstep', 'lockstep/electron', 'lockstep/builder'].includes(s)), []);
  });

  test('it typechecks and builds against the published .d.ts in a folder outside the repository', () => {
    assert.ok(!path.resolve(packed.dir).startsWith(ROOT + path.sep));
    assert.ok(!fs.lstatSync(path.join(packed.dir, 'node_modules', 'lockstep')).isSymbolicLink(), 'the unpacked tarball, not a link to the sources');
    const r = tsc(packed.dir, ['-p', 'tsconfig.json', '--listFiles']);
    assert.equal(r.code, 0, r.output);
    for (const f of ['main.js', 'customers.js', 'preload.js']) assert.ok(fs.existsSync(path.join(packed.dir, 'build', f)), f);
    const typesUsed = r.output.split('\n').filter((l) => l.includes('/node_modules/lockstep/'));
    assert.ok(typesUsed.length > 0 && typesUsed.every((l) => l.endsWith('.d.ts')), 'only the published declarations');
  });

  test('the README’s "add Lockstep to your app" (15 lines) typechecks against the tarball', () => {
    assert.ok(README_SNIPPET.trim().split('\n').length <= 15);
    fs.writeFileSync(path.join(packed.dir, 'src', 'snippet.ts'), README_SNIPPET);
    try {
      const r = tsc(packed.dir, ['-p', 'tsconfig.json', '--noEmit']);
      assert.equal(r.code, 0, r.output);
    } finally {
      fs.rmSync(path.join(packed.dir, 'src', 'snippet.ts'));
    }
  });

  test('npm start without an Electron binary or display runs Lockstep’s headless demo from the tarball', () => {
    const r = spawnSync(process.execPath, ['start.js'], { cwd: packed.dir, encoding: 'utf8', env: { ...process.env, DISPLAY: '', WAYLAND_DISPLAY: '' }, timeout: 240_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = `${r.stdout}${r.stderr}`; // the demo reports its steps on stderr, its result on stdout
    assert.match(out, /running Lockstep's headless demo/);
    assert.match(out, /\[front-desk\] start after the restart: proceed/);
    assert.match(out, /Demo finished\./);
  });

  test('a deep import past the exports map does not typecheck, and does not load', () => {
    fs.writeFileSync(path.join(packed.dir, 'src', 'deep.ts'), "import { openWorkstation } from 'lockstep/build/engine/workstation';\nexport const open = openWorkstation;\n");
    try {
      const r = tsc(packed.dir, ['-p', 'tsconfig.json', '--noEmit']);
      assert.notEqual(r.code, 0);
      assert.match(r.output, /deep\.ts.*TS2307.*lockstep\/build\/engine\/workstation/);
    } finally {
      fs.rmSync(path.join(packed.dir, 'src', 'deep.ts'));
    }
    const probe = (spec: string) => execFileSync(process.execPath, ['-e', `try { const m = require(${JSON.stringify(spec)}); console.log(Object.keys(m).sort().join(',')); } catch (e) { console.log(e.code); }`], { cwd: packed.dir, encoding: 'utf8' }).trim();
    assert.match(probe('lockstep'), /(^|,)openLockstep(,|$)/, 'the Node entry loads under plain Node');
    assert.match(probe('lockstep'), /(^|,)LockstepError(,|$)/);
    assert.equal(probe('lockstep/build/engine/workstation.js'), 'ERR_PACKAGE_PATH_NOT_EXPORTED');
    assert.match(probe('lockstep/builder'), /(^|,)withLockstep(,|$)/, 'the builder entry resolves to the electron-builder fragment');
  });

  describe('its data layer on the shared database, through the composition start() uses', () => {
    let site: HostSite;
    let web: ServedFolder | null = null;
    let CustomerStore: CustomerStoreCtor;
    before(async () => {
      if (!fs.existsSync(path.join(packed.dir, 'build', 'customers.js'))) assert.equal(tsc(packed.dir).code, 0);
      CustomerStore = (createRequire(__filename)(path.join(packed.dir, 'build', 'customers.js')) as { CustomerStore: CustomerStoreCtor }).CustomerStore;
      if (HAS_CHROMIUM) web = await serveWindows();
      site = await createHostSite(web ? { windowsOrigin: web.origin } : {});
      const admin = await site.host({ id: 'admin-pc', installed: '1.0.0' });
      await admin.shell.workstation.ledger.release('1.0.0');
    });
    after(async () => {
      await site?.close();
      await web?.close();
    });

    test('customers are kept beside Lockstep’s tables; a newer release under block stops the app, not the data', async () => {
      const desk = await site.host({ id: 'front-desk', installed: '1.0.0', admin: false, policy: 'block' });
      const store = new CustomerStore(desk.host);
      await assert.rejects(store.ensureTable(), (e: unknown) => isLockstepError(e, 'E_INVALID_STATE'), 'no business data before the gate');

      const action = await desk.host.start();
      assert.equal(action.type, 'go-on');
      await store.ensureTable();
      await store.add({ name: 'Müller GmbH', city: 'Bremen' });
      await store.add({ name: 'Atelier Dubois', city: 'Lyon' });
      await assert.rejects(store.add({ name: '   ' }), /needs a name/);
      assert.deepEqual((await store.list()).map((c) => [c.name, c.city]), [['Atelier Dubois', 'Lyon'], ['Müller GmbH', 'Bremen']]);
      assert.equal(desk.host.confirmHealthy(), false, 'the main window is ready; no install awaited it');

      // An administrator elsewhere installs and releases 1.1.0 while the desk keeps working.
      const outdated: Array<{ block: boolean }> = [];
      desk.host.on('outdated', (e) => outdated.push({ block: e.block }));
      const admin = await site.host({ id: 'admin-pc', installed: '1.0.0' });
      await admin.shell.workstation.ledger.release('1.1.0');
      await store.list(); // the data layer reports its access: the newer release is noticed there
      for (let i = 0; i < 200 && outdated.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
      assert.deepEqual(outdated, [{ block: true }]);
      assert.ok(desk.windows.includes('show:outdated'), 'Lockstep showed its notice');
      await assert.rejects(store.list(), (e: unknown) => isLockstepError(e, 'E_INVALID_STATE'), 'no more business work on 1.0.0');

      // The rows are in the shared database for a workstation on the released version.
      const next = await site.host({ id: 'back-office', installed: '1.1.0', admin: false });
      assert.equal((await next.host.start()).type, 'go-on');
      const other = new CustomerStore(next.host);
      await other.ensureTable();
      assert.deepEqual((await other.list()).map((c) => c.name), ['Atelier Dubois', 'Müller GmbH']);
      const knex = next.host.database();
      assert.ok(await knex.schema.hasTable('lockstep_releases'), 'Lockstep’s tables and the example’s share the database');
    });

    test('in Chromium: the example’s main window keeps customers, its Extras → Update… opens Lockstep’s update window', { skip: !HAS_CHROMIUM && 'no /usr/bin/chromium' }, async () => {
      const desk = await site.host({ id: 'browser-desk', installed: '1.1.0', admin: false }); // on the release the test before made
      assert.equal((await desk.host.start()).type, 'go-on');
      const store = new CustomerStore(desk.host);
      await store.ensureTable(); // as main.ts does before it opens the main window
      const browser = await launchChromium();
      const exampleWeb = await serveFolder(path.join(packed.dir, 'window'));
      try {
        // The example's window with its preload's three calls, forwarded to its data layer as its ipcMain handlers do.
        const context = await browser.newContext();
        const page = await context.newPage();
        const problems: string[] = [];
        page.on('pageerror', (e) => problems.push(e.message));
        await page.exposeBinding('__customers', (_source, op: 'list' | 'add' | 'remove', arg: unknown) => (op === 'list' ? store.list() : op === 'add' ? store.add(arg as { name: unknown; city: unknown }) : null));
        await page.addInitScript({ content: "window.customers = { list: () => window.__customers('list'), add: (c) => window.__customers('add', c), remove: (id) => window.__customers('remove', id) };" });
        await page.goto(`${exampleWeb.origin}/index.html`);
        assert.equal(desk.host.confirmHealthy(), false, 'the main window is ready (no install awaited it)');
        await page.fill('input[name="name"]', 'Schreinerei Vogt');
        await page.fill('input[name="city"]', 'Freiburg');
        await page.click('button[type="submit"]');
        await page.waitForFunction("document.querySelectorAll('#rows tr').length === 3");
        const shown = await page.$$eval('#rows tr', (trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 2).map((td) => td.textContent)));
        assert.deepEqual(shown, [['Atelier Dubois', 'Lyon'], ['Müller GmbH', 'Bremen'], ['Schreinerei Vogt', 'Freiburg']], 'the customers the other desk entered, and the new one: one shared database');
        assert.deepEqual(problems, []);

        // Extras → Update… as the host's menu has it (lockstep/electron menu() turns these into Electron items).
        const update = desk.host.menuItems().find((i) => i.id === 'lockstep-update')!;
        update.click();
        assert.ok(desk.windows.includes('show:update'), 'Lockstep opened its update window');
        const w = await openWindow(browser, web!, desk.shell, 'update');
        await w.page.click('#search');
        await w.page.waitForSelector('main[data-state="available"]');
        await w.close();
        await context.close();
      } finally {
        await exampleWeb.close();
        await browser.close();
      }
    });
  });
});
