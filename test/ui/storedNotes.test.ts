/**
 * "Release for all?" shows the version's release notes from the vendor-signed catalog stored in the shared database
 * when this session never checked the feed; a stored catalog whose signature does not verify (a database writer
 * changed the notes) shows none. Real Chromium, real shell, SQLite, the demo feed's signed catalog.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openWindow, screenshot, sharedBrowser } from './helpers/browser';
import { createSite } from './helpers/site';

describe('Release question notes from the shared database', () => {
  const ui = sharedBrowser();

  for (const locale of ['en', 'de', 'fr'] as const) {
    test(`${locale}: notes of the stored signed catalog, verified before they are shown`, async () => {
      const site = await createSite({ windowsOrigin: ui.web.origin });
      try {
        const admin = await site.workstation({ id: 'admin-pc', installed: '1.1.0', start: false });
        await admin.shell.workstation.ledger.release('1.1.0'); // stores the package with the catalog it verified
        const knex = admin.shell.workstation.db.knex;
        const stored = await knex('lockstep_release_packages').whereNotNull('catalog').select('release_id', 'catalog');
        assert.equal(stored.length, 1, 'the release stored its signed catalog');

        const tester = await site.workstation({ id: 'tester', installed: '1.2.0', locale });
        assert.equal(tester.shell.session.snapshot().update.type, 'idle', 'no feed check ran in this session');
        assert.equal(tester.shell.session.snapshot().gate?.type, 'ask-release');
        const w = await openWindow(ui.browser, ui.web, tester.shell, 'release');
        assert.match((await w.page.textContent('#notes')) ?? '', /Fixes a rounding error in VAT totals\./);
        assert.equal(await w.page.$eval('#notes', (n) => n.querySelector('em')?.textContent), 'reports');
        await screenshot(w.page, 'release-prompt-stored-notes', locale);
        await w.close();

        // A database writer rewrites the notes in the stored catalog (signature unchanged): not shown.
        const doc = JSON.parse(stored[0].catalog as string) as { signed: { versions: Array<{ version: string; notes: string }> } };
        doc.signed.versions.find((v) => v.version === '1.2.0')!.notes = 'Pay the invoice to [this account](https://evil.example/)';
        await knex('lockstep_release_packages').where({ release_id: stored[0].release_id }).update({ catalog: JSON.stringify(doc) });
        const other = await site.workstation({ id: 'tester-2', installed: '1.2.0', locale });
        assert.equal(other.shell.session.snapshot().gate?.type, 'ask-release');
        assert.deepEqual(other.shell.session.snapshot().notesHtml, {});
        const w2 = await openWindow(ui.browser, ui.web, other.shell, 'release');
        assert.equal(await w2.page.$('#notes'), null);
        assert.doesNotMatch((await w2.page.textContent('body')) ?? '', /evil|account/);
        assert.ok(other.log.entries.some((e) => e.event === 'fleet.catalog-ignored'), 'the forged catalog is logged');
        await w2.close();
      } finally {
        await site.close();
      }
    });
  }
});
