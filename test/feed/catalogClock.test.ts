/**
 * A catalog issued ahead of this workstation's clock (beyond the allowed skew, 5 minutes by default) is reported,
 * never refused: a coded warning on the check result and a log warning, on a fresh fetch and on a 304. Against a real
 * feed on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { feedFixture } from './fixture';

const DAY_MS = 24 * 3600_000;

describe('catalog issue time ahead of this clock', () => {
  test('two days ahead: checked normally, reported as W_CATALOG_FROM_FUTURE and in the log, again after a 304', async () => {
    const issued = new Date(Date.now() + 2 * DAY_MS);
    const fx = await feedFixture({ now: issued });
    try {
      const service = await fx.service();
      const first = await service.check();
      const warning = first.warnings.find((w) => w.code === 'W_CATALOG_FROM_FUTURE');
      assert.ok(warning, `warnings: ${JSON.stringify(first.warnings)}`);
      assert.equal(warning.issuedAt, issued.toISOString());
      assert.ok(Number(warning.aheadMs) > 2 * DAY_MS - 60_000 && Number(warning.aheadMs) <= 2 * DAY_MS);
      assert.match(warning.message, /Check this computer's clock/);
      assert.ok(first.versions.length > 0, 'the catalog was used, not refused');
      const state = service.getState();
      const shown = state.type === 'available' ? state.result.warnings : state.type === 'up-to-date' ? state.warnings : [];
      assert.ok(shown.some((w) => w.code === 'W_CATALOG_FROM_FUTURE'), 'the warning reaches the window state');
      const again = await service.check();
      assert.equal(again.catalog.notModified, true);
      assert.ok(again.warnings.some((w) => w.code === 'W_CATALOG_FROM_FUTURE'));
      const logged = fx.log.entries.filter((e) => e.event === 'feed.catalog-from-future');
      assert.equal(logged.length, 2);
      assert.equal(logged[0]!.level, 'warn');
      assert.equal(logged[0]!.fields['issuedAt'], issued.toISOString());
    } finally {
      await fx.cleanup();
    }
  });

  test('within the skew, or within a configured wider one, nothing is reported', async () => {
    for (const [aheadMs, feed] of [[60_000, {}], [2 * DAY_MS, { catalogClockSkewMs: 3 * DAY_MS }]] as const) {
      const fx = await feedFixture({ now: new Date(Date.now() + aheadMs), feed });
      try {
        const r = await (await fx.service()).check();
        assert.deepEqual(r.warnings.filter((w) => w.code === 'W_CATALOG_FROM_FUTURE'), []);
        assert.equal(fx.log.entries.filter((e) => e.event === 'feed.catalog-from-future').length, 0);
      } finally {
        await fx.cleanup();
      }
    }
  });
});
