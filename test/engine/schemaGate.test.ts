/** The gate's decision with the client's schema level, one table row per case (pure: no database). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { mayUseDatabase } from '../../contract/gate';
import { GateFacts, decideWithSchema } from '../../engine/gateDecision';
import { SchemaClaim } from '../../kernel/schemaClaim';
import { parseVersion } from '../../kernel/version';

const works12: SchemaClaim = { works: { min: 1, max: 2 }, brings: 2 };
const works3: SchemaClaim = { works: { min: 3, max: 3 }, brings: 3 };

function facts(installed: string, released: string | null, o: Partial<GateFacts> = {}): GateFacts {
  return { installed: parseVersion(installed), released: released ? parseVersion(released) : null, installedState: null, testMarked: false, isAdmin: true, policy: 'warn', ...o };
}

describe('gate decision with the schema level', () => {
  const rows: Array<[string, GateFacts, SchemaClaim | null, number | null, string, boolean, Record<string, unknown>]> = [
    ['I = R on its level', facts('2.0.0', '2.0.0'), works3, 3, 'proceed', true, {}],
    ['I = R below its level (released without migrating): blocked', facts('2.0.0', '2.0.0'), works3, 2, 'outdated', false, { policy: 'block' }],
    ['I < R: upgrade as always', facts('1.1.0', '2.0.0'), works12, 3, 'upgrade', false, {}],
    ['I > R, works and migrates: asks, Yes migrates, uses the database', facts('1.1.0', '1.0.0'), works12, 1, 'ask-release', true, { migration: { from: 1, to: 2, worksOnCurrent: true } }],
    ['I > R, needs the migration first: asks, leaves the database alone', facts('2.0.0', '1.1.0'), works3, 2, 'ask-release', false, { migration: { from: 2, to: 3, worksOnCurrent: false } }],
    ['I > R test-marked, needs the migration: test marker, no database', facts('2.0.0', '1.1.0', { testMarked: true }), works3, 2, 'test-workstation', false, { migration: { from: 2, to: 3, worksOnCurrent: false } }],
    ['I > R but the database is beyond it: blocked', facts('1.1.0', '1.0.0'), works12, 3, 'outdated', false, { policy: 'block' }],
    ['no claim: as before', facts('2.0.0', '1.1.0'), null, 2, 'ask-release', true, {}],
    ['no level recorded: works, migrates from 0', facts('1.1.0', null), works12, null, 'ask-release', true, { migration: { from: 0, to: 2, worksOnCurrent: true } }],
  ];
  for (const [name, f, claim, level, type, may, extra] of rows) {
    test(name, () => {
      const d = decideWithSchema(f, { claim, level });
      assert.equal(d.type, type);
      assert.equal(mayUseDatabase(d), may);
      for (const [k, v] of Object.entries(extra)) assert.deepEqual((d as Record<string, unknown>)[k], v, k);
      if (d.type === 'outdated') assert.equal(d.reason?.code, 'E_SCHEMA_LEVEL');
    });
  }
});
