/**
 * The S14 decision as a pure function: installed version I, the channel's released version R and what this
 * workstation has recorded. No I/O here, so every branch is a table row in the tests.
 */
import { GateDecision, OutdatedPolicy } from '../contract/gate';
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
