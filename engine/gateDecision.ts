/**
 * The S14 decision as a pure function: installed version I, the channel's released version R and what this
 * workstation has recorded. No I/O here, so every branch is a table row in the tests.
 */
import { GateDecision, OutdatedPolicy, SchemaMove } from '../contract/gate';
import { ErrorInfo } from '../contract/errors';
import { SchemaClaim, describeWorks, migratesFrom, worksOn } from '../kernel/schemaClaim';
import { Version, compareVersions } from '../kernel/version';

export interface GateFacts {
  installed: Version;
  /** R, or null where no version was ever released on this channel (a new site). */
  released: Version | null;
  /** The ledger state of I, when the ledger knows I. */
  installedState: 'uploading' | 'test' | 'released' | 'withdrawn' | null;
  /** This workstation answered "No" (test only) for I. */
  testMarked: boolean;
  isAdmin: boolean;
  policy: OutdatedPolicy;
}

export function decide(f: GateFacts): GateDecision {
  const installed = f.installed.raw;
  if (f.released === null) {
    return f.testMarked ? { type: 'test-workstation', installed, released: null } : { type: 'ask-release', installed, released: null, canAnswer: f.isAdmin };
  }
  const released = f.released.raw;
  const order = compareVersions(f.installed, f.released);
  if (order === 0) return { type: 'proceed', installed, released };
  if (order < 0) return { type: 'upgrade', installed, released, downgrade: false };
  // I > R. An administrator withdrew I (S15): follow the pointer back down — the only way a workstation downgrades.
  if (f.installedState === 'withdrawn') return { type: 'upgrade', installed, released, downgrade: true };
  if (f.testMarked) return { type: 'test-workstation', installed, released };
  return { type: 'ask-release', installed, released, canAnswer: f.isAdmin };
}

/** What the client database's schema adds to the facts: the installed version's claim and the database's level. */
export interface SchemaFacts {
  claim: SchemaClaim | null;
  /** null where no level was ever recorded (every version works on it). */
  level: number | null;
}

/**
 * The decision with the client's schema: a version that does not work on the database's level must not use it —
 * the outdated notice under `block`, whatever the configured policy, since `warn` would let it write into a schema it
 * does not know. A test installation that needs a migration first learns so and leaves the database alone.
 */
export function decideWithSchema(f: GateFacts, schema: SchemaFacts): GateDecision {
  const d = decide(f);
  const { claim, level } = schema;
  if (!claim) return d;
  const works = worksOn(claim, level);
  const move: SchemaMove | undefined = migratesFrom(claim, level) ? { from: level ?? 0, to: claim.brings, worksOnCurrent: works } : undefined;
  const blocked = (released: string): GateDecision => ({ type: 'outdated', installed: d.installed, released, policy: 'block', reason: levelReason(d.installed, claim, level) });
  switch (d.type) {
    case 'upgrade':
      return d; // the released version is what the database was moved for
    case 'outdated':
      return works ? d : { ...d, policy: 'block' };
    case 'proceed':
      return works ? d : blocked(d.released);
    case 'ask-release':
    case 'test-workstation':
      if (move) return { ...d, migration: move };
      return works ? d : blocked(d.released ?? 'none');
  }
}

/** Why a version may not use the database at `level` (E_SCHEMA_LEVEL); null where it works on that level. */
export function schemaLevelBlock(installed: string, claim: SchemaClaim | null, level: number | null): ErrorInfo | null {
  return claim && !worksOn(claim, level) ? levelReason(installed, claim, level) : null;
}

function levelReason(installed: string, claim: SchemaClaim, level: number | null): ErrorInfo {
  const works = describeWorks(claim);
  return { code: 'E_SCHEMA_LEVEL', message: `Version ${installed} works on schema levels ${works}; the database is at level ${level ?? 0}.`, details: { version: installed, level: level ?? 0, works } };
}
