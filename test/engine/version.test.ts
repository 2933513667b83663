import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isLockstepError } from '../../contract/errors';
import { compareVersions, displayVersion, parseVersion, sortVersions, versionSortKey } from '../../kernel/version';

// Each row: a < b, strictly.
const ASCENDING: Array<[string, string]> = [
  ['6.7.3.20', '7.0.0.19'],
  ['5.3.0.9', '5.3.0.10'],
  ['1.2.0-beta.2', '1.2.0'],
  ['1.2.0', '1.10.0'],
  ['1.2.0-beta.2', '1.10.0'],
  ['1.2.0-alpha', '1.2.0-alpha.1'],
  ['1.2.0-alpha.1', '1.2.0-alpha.beta'],
  ['1.2.0-alpha.beta', '1.2.0-beta'],
  ['1.2.0-beta', '1.2.0-beta.2'],
  ['1.2.0-beta.2', '1.2.0-beta.11'],
  ['1.2.0-beta.11', '1.2.0-rc.1'],
  ['1.2.0-rc.1', '1.2.0'],
  ['7.0', '7.0.0.1'],
  ['7.0.0.19', '7.0.1'],
  ['7.0.0 build 19', '7.0.0 build 20'],
  ['7.0.0 (Build 99)', '7.0.1'],
  ['1.0.0-RC', '1.0.0-rc'], // ASCII order: upper case sorts first, as in semver
  ['1.0.0-a', '1.0.0-a1'],
  ['1.0.0-0', '1.0.0-a'], // numeric identifiers rank below alphanumeric
  ['9.9.9.9999999999', '10.0.0'],
];

const EQUAL: Array<[string, string]> = [
  ['7.0.0', '7.0.0.0'],
  ['7.0', '7.0.0'],
  ['1.2.3+build.5', '1.2.3'],
  ['v1.2.3', '1.2.3'],
  ['7.0.0 build 19', '7.0.0.19'],
];

const GARBAGE = ['', '   ', 'abc', '1', '1.', '1..2', '1.2.3.4.5', '01.2.3', '1.2.3-', '1.2.3-beta..1', '1.2.3-01', '1.2.3 beta', '-1.2.3', '1.2.x', '99999999999.0.0', `1.2.3-${'a'.repeat(70)}`, "1.2.3'; drop table x;--"];

describe('version ordering (S26)', () => {
  for (const [a, b] of ASCENDING) {
    test(`${a} < ${b}`, () => {
      assert.equal(compareVersions(a, b), -1);
      assert.equal(compareVersions(b, a), 1);
      assert.ok(versionSortKey(a) < versionSortKey(b), `sort key of ${a} must sort before ${b}`);
    });
  }
  for (const [a, b] of EQUAL) {
    test(`${a} = ${b}`, () => {
      assert.equal(compareVersions(a, b), 0);
      assert.equal(versionSortKey(a), versionSortKey(b));
    });
  }
  test('sorting a shuffled list gives the vendor order, shown as written', () => {
    const written = ['7.0.0.19', '1.10.0', '1.2.0', '5.3.0.10', '1.2.0-beta.2', '6.7.3.20', '5.3.0.9'];
    assert.deepEqual(sortVersions(written, (v) => v).map(displayVersion), ['1.2.0-beta.2', '1.2.0', '1.10.0', '5.3.0.9', '5.3.0.10', '6.7.3.20', '7.0.0.19']);
  });
  test('the sort key uses only collation-proof characters', () => {
    for (const [a] of ASCENDING) assert.match(versionSortKey(a), /^[0-9a-f.~-]+$/);
  });
});

describe('version parsing', () => {
  test('keeps what the vendor wrote and the parts', () => {
    const v = parseVersion(' 7.0.0.19 ');
    assert.deepEqual(
      { raw: v.raw, parts: v.parts, written: v.written, prerelease: v.prerelease, build: v.build },
      { raw: '7.0.0.19', parts: [7, 0, 0, 19], written: 4, prerelease: [], build: null },
    );
    const s = parseVersion('1.2.0-beta.2+exp.sha.5114f85');
    assert.deepEqual({ parts: s.parts, prerelease: s.prerelease, build: s.build, written: s.written }, { parts: [1, 2, 0, 0], prerelease: ['beta', 2], build: 'exp.sha.5114f85', written: 3 });
  });
  for (const g of GARBAGE) {
    test(`rejects ${JSON.stringify(g.slice(0, 30))} with E_VERSION_INVALID`, () => {
      assert.throws(
        () => parseVersion(g),
        (err: unknown) => isLockstepError(err, 'E_VERSION_INVALID') && /is not a version number/.test((err as Error).message),
      );
    });
  }
});
