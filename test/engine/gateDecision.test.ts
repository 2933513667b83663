import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { GateDecision, mayUseDatabase } from '../../contract/gate';
import { GateFacts, decide } from '../../engine/gateDecision';
import { parseVersion } from '../../kernel/version';

type Row = [string, Partial<Omit<GateFacts, 'installed' | 'released'>> & { installed: string; released: string | null }, GateDecision, boolean];

const base = { installedState: null, testMarked: false, isAdmin: false, policy: 'block' as const };

const TABLE: Row[] = [
  ['I = R', { installed: '7.0.0.19', released: '7.0.0.19' }, { type: 'proceed', installed: '7.0.0.19', released: '7.0.0.19' }, true],
  ['I = R written differently', { installed: '7.0', released: '7.0.0.0' }, { type: 'proceed', installed: '7.0', released: '7.0.0.0' }, true],
  ['I < R', { installed: '6.7.3.20', released: '7.0.0.19' }, { type: 'upgrade', installed: '6.7.3.20', released: '7.0.0.19', downgrade: false }, false],
  ['I > R undecided, admin', { installed: '1.2.0', released: '1.2.0-beta.2', isAdmin: true }, { type: 'ask-release', installed: '1.2.0', released: '1.2.0-beta.2', canAnswer: true }, true],
  ['I > R undecided, not admin', { installed: '1.10.0', released: '1.2.0' }, { type: 'ask-release', installed: '1.10.0', released: '1.2.0', canAnswer: false }, true],
  ['I > R test-marked', { installed: '1.10.0', released: '1.2.0', testMarked: true }, { type: 'test-workstation', installed: '1.10.0', released: '1.2.0' }, true],
  ['I > R withdrawn → back down', { installed: '1.10.0', released: '1.2.0', installedState: 'withdrawn', testMarked: true }, { type: 'upgrade', installed: '1.10.0', released: '1.2.0', downgrade: true }, false],
  ['no release yet, admin', { installed: '1.0.0', released: null, isAdmin: true }, { type: 'ask-release', installed: '1.0.0', released: null, canAnswer: true }, true],
  ['no release yet, test-marked', { installed: '1.0.0', released: null, testMarked: true }, { type: 'test-workstation', installed: '1.0.0', released: null }, true],
];

describe('start-up gate decision (S14)', () => {
  for (const [name, f, expected, mayUse] of TABLE) {
    test(name, () => {
      const d = decide({ ...base, ...f, installed: parseVersion(f.installed), released: f.released === null ? null : parseVersion(f.released) });
      assert.deepEqual(d, expected);
      assert.equal(mayUseDatabase(d), mayUse);
    });
  }
  test('outdated: block refuses the database, warn allows it', () => {
    const reason = null;
    assert.equal(mayUseDatabase({ type: 'outdated', installed: '1', released: '2', policy: 'block', reason }), false);
    assert.equal(mayUseDatabase({ type: 'outdated', installed: '1', released: '2', policy: 'warn', reason }), true);
  });
});
