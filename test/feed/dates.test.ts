/**
 * Dates in the signed catalog: the contract rule (a release dated on or before the contract's last day, as a UTC day,
 * is covered) at its boundaries and in several workstation time zones, and the availability rule (a version dated in
 * the future is listed but not installable before its date, E_NOT_YET_RELEASED) at its boundary and against a real
 * feed on 127.0.0.1.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, test } from 'node:test';
import { isLockstepError } from '../../contract/errors';
import { localizeError } from '../../contract/messages';
import { verifyCatalog } from '../../engine/catalog';
import { CATALOG_FILE, License } from '../../kernel/catalogSchema';
import { licenseBlocks, loadLicense } from '../../engine/license';
import { evaluateOffer } from '../../engine/offer';
import { signDocument } from '../../kernel/signing';
import { parseVersion } from '../../kernel/version';
import { FeedFixture, feedFixture } from './fixture';

const LICENSE: License = { type: 'lockstep-license', product: 'x', number: 'N-1', edition: 'standard', contractUntil: '2026-03-31', issuedAt: '2025-01-01T00:00:00Z' };

function covered(releaseDate: string): boolean {
  const reason = licenseBlocks(LICENSE, { version: '9.0.0', releaseDate, editions: [] });
  if (reason) assert.equal(reason.code, 'E_CONTRACT_ENDED');
  return reason === null;
}

/** Runs `fn` with the process in time zone `tz` (Node re-reads TZ when it is set). */
function inZone<T>(tz: string, fn: () => T): T {
  const before = process.env['TZ'];
  process.env['TZ'] = tz;
  try {
    return fn();
  } finally {
    if (before === undefined) delete process.env['TZ'];
    else process.env['TZ'] = before;
  }
}

/** Dates version `version` at `releaseDate` in the served catalog, signed by the vendor key. */
function redate(fx: FeedFixture, version: string, releaseDate: string): void {
  const file = `${fx.demo.feedDir}/${CATALOG_FILE}`;
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  doc.signed.versions.find((x: { version: string }) => x.version === version).releaseDate = releaseDate;
  fs.writeFileSync(file, JSON.stringify(signDocument(doc.signed, fx.demo.signer)));
}

describe('the contract rule: released on or before the contract end, as a UTC day', () => {
  test('23:59:59Z on the last day is covered, 00:00:00Z the next day is not; offsets count by their instant', () => {
    assert.equal(covered('2026-03-31T23:59:59Z'), true);
    assert.equal(covered('2026-03-31T23:59:59.999Z'), true);
    assert.equal(covered('2026-04-01T00:00:00Z'), false);
    assert.equal(covered('2026-04-01T00:00:00.000Z'), false);
    assert.equal(covered('2026-03-31'), true, 'a bare date is that UTC day');
    assert.equal(covered('2026-04-01'), false);
    assert.equal(covered('2026-04-01T01:30:00+02:00'), true, '= 2026-03-31T23:30Z');
    assert.equal(covered('2026-03-31T20:00:00-05:00'), false, '= 2026-04-01T01:00Z');
    assert.equal(covered('2020-01-01T00:00:00Z'), true, 'older releases stay covered');
  });

  test('the verdict is the same in every workstation time zone (a date-time without an offset counts as UTC)', () => {
    for (const tz of ['UTC', 'Pacific/Kiritimati', 'America/Los_Angeles', 'Europe/Berlin', 'Asia/Kolkata']) {
      inZone(tz, () => {
        assert.equal(covered('2026-03-31T23:59:59Z'), true, tz);
        assert.equal(covered('2026-04-01T00:00:00Z'), false, tz);
        assert.equal(covered('2026-03-31T23:30:00'), true, `${tz}: no offset, the last half hour of the day`);
        assert.equal(covered('2026-04-01T00:30:00'), false, `${tz}: no offset, the first half hour after`);
      });
    }
  });

  test('the message names the UTC day of the release', () => {
    const reason = inZone('Pacific/Kiritimati', () => licenseBlocks(LICENSE, { version: '9.0.0', releaseDate: '2026-04-01T00:30:00', editions: [] }));
    assert.match(reason!.message, /released on 2026-04-01 \(UTC\), after the update contract ended on 2026-03-31/);
  });
});

describe('a version dated in the future', () => {
  test('is listed, not installable before its date (E_NOT_YET_RELEASED, said in the future tense), installable from that instant on', async () => {
    const fx = await feedFixture();
    try {
      const at = '2031-06-01T08:00:00.000Z';
      redate(fx, '1.1.0', at);
      const catalog = verifyCatalog(fs.readFileSync(`${fx.demo.feedDir}/${CATALOG_FILE}`, 'utf8'), [fx.demo.publicKey], new Date());
      const license = { ...loadLicense(fx.demo.licenseFile, [fx.demo.publicKey]), contractUntil: '2099-12-31' };
      const offer = (now: Date) => evaluateOffer({ catalog, notModified: false, feedUrl: fx.server.url, channel: 'stable', installed: parseVersion('1.0.0'), license, modules: {}, platform: 'linux', now });

      const before = offer(new Date(Date.parse(at) - 1));
      const early = before.versions.find((v) => v.version === '1.1.0')!;
      assert.equal(early.installable, false);
      assert.equal(early.reason?.code, 'E_NOT_YET_RELEASED');
      assert.match(early.reason!.message, /is dated 2031-06-01 08:00 UTC and is not offered before then/);
      assert.doesNotMatch(early.reason!.message, /was released|released on/);
      assert.match(localizeError(early.reason!, 'en').problem, /dated 2031-06-01 08:00 UTC and cannot be installed before then/);
      // 2.0.0 steps through 1.1.0: not installable either, for the same reason.
      assert.equal(before.versions.find((v) => v.version === '2.0.0')!.reason?.code, 'E_NOT_YET_RELEASED');
      assert.notEqual(before.preselected, '1.1.0');
      assert.notEqual(before.preselected, '2.0.0');

      const onTime = offer(new Date(at));
      assert.equal(onTime.versions.find((v) => v.version === '1.1.0')!.installable, true, 'at its instant it is out');
      assert.equal(onTime.versions.find((v) => v.version === '2.0.0')!.installable, true);
      assert.equal(onTime.preselected, '2.0.0');
    } finally {
      await fx.cleanup();
    }
  });

  test('against the real feed: check lists it as not installable and download refuses it before any request', async () => {
    const fx = await feedFixture();
    try {
      redate(fx, '1.1.0', new Date(Date.now() + 3600_000).toISOString());
      const service = await fx.service();
      const r = await service.check();
      const v = r.versions.find((x) => x.version === '1.1.0')!;
      assert.deepEqual([v.installable, v.reason?.code], [false, 'E_NOT_YET_RELEASED']);
      await assert.rejects(service.download('1.1.0'), (e) => isLockstepError(e, 'E_NOT_YET_RELEASED'));
      assert.deepEqual(fx.server.log.map((q) => q.name), [CATALOG_FILE], 'no package was requested');
    } finally {
      await fx.cleanup();
    }
  });
});
