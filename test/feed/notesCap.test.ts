/**
 * One version's release notes over the cap (NOTES_CAP characters) against a real feed on 127.0.0.1: the catalog
 * still offers every version; only that one shows its notes cut at the cap and marked. The signature covers the full
 * text, so a change past the cap is still tampering.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, test } from 'node:test';
import { describeCheck } from '../../cli/commands/check';
import { isLockstepError } from '../../contract/errors';
import { CheckResult } from '../../contract/update';
import { CATALOG_FILE, NOTES_CAP, NOTES_CUT_MARKER } from '../../kernel/catalogSchema';
import { signDocument } from '../../kernel/signing';
import { FeedFixture, feedFixture } from './fixture';

function summary(r: CheckResult) {
  return r.versions.map((v) => ({ version: v.version, installable: v.installable, reason: v.reason?.code ?? null, chain: v.chain }));
}

/** Gives `version` these notes in the served catalog, signed by the vendor key. Returns the catalog document. */
function setNotes(fx: FeedFixture, version: string, notes: string): { signed: { versions: Array<{ version: string; notes: string }> }; signature: string } {
  const file = `${fx.demo.feedDir}/${CATALOG_FILE}`;
  const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  doc.signed.versions.find((x: { version: string }) => x.version === version).notes = notes;
  doc.signed.issuedAt = new Date().toISOString();
  const signed = signDocument(doc.signed, fx.demo.signer);
  fs.writeFileSync(file, JSON.stringify(signed));
  return signed as never;
}

describe('release notes over the cap', () => {
  test('a signed catalog with one 300,000-character notes version: every version offered, that one cut at the cap and marked', async () => {
    const fx = await feedFixture();
    try {
      const before = await (await fx.service()).check();
      // An emoji (a surrogate pair) straddles the cap: the cut must not leave half of it.
      const long = `# 2.0.0\n\n${'a'.repeat(NOTES_CAP - 10)}😀${'b'.repeat(300_000 - NOTES_CAP - 1)}`;
      assert.equal(long.length, 300_000);
      setNotes(fx, '2.0.0', long);

      const r = await (await fx.service()).check();
      assert.deepEqual(summary(r), summary(before), 'the same versions, installability and chains as before');
      const cut = r.versions.find((v) => v.version === '2.0.0')!;
      assert.equal(cut.notesTruncated, true);
      assert.equal(cut.notes, long.slice(0, NOTES_CAP - 1) + NOTES_CUT_MARKER);
      assert.ok(cut.notes.endsWith('cut here.)*'));
      assert.ok(!/[\uD800-\uDBFF]$/.test(cut.notes.slice(0, NOTES_CAP - 1)), 'no lone surrogate at the cut');
      for (const v of r.versions.filter((x) => x.version !== '2.0.0')) {
        assert.equal(v.notesTruncated, undefined, v.version);
        assert.equal(v.notes, before.versions.find((b) => b.version === v.version)!.notes, v.version);
      }
      assert.equal(r.preselected, before.preselected);
      const text = describeCheck(r).split('\n');
      assert.match(text.find((l) => l.startsWith('  2.0.0 '))!, /release notes cut/);
      assert.doesNotMatch(text.find((l) => l.startsWith('  1.1.0 '))!, /release notes cut/);
    } finally {
      await fx.cleanup();
    }
  });

  test('the signature covers the full notes: a character changed past the cap is E_SIGNATURE', async () => {
    const fx = await feedFixture();
    try {
      const doc = setNotes(fx, '2.0.0', 'x'.repeat(300_000));
      const v = doc.signed.versions.find((x) => x.version === '2.0.0')!;
      v.notes = `${'x'.repeat(299_999)}y`;
      fs.writeFileSync(`${fx.demo.feedDir}/${CATALOG_FILE}`, JSON.stringify(doc));
      await assert.rejects((await fx.service()).check(), (e) => isLockstepError(e, 'E_SIGNATURE'));
    } finally {
      await fx.cleanup();
    }
  });
});
