/**
 * Version ranges for module compatibility (S6), written like npm ranges but evaluated with Lockstep's own ordering,
 * so four-part versions (7.0.0.19) work: space-separated comparators (>=, >, <=, <, =) are ANDed, "||" ORs groups,
 * "*" matches everything. Examples: ">=7.0 <8.0", "7.0.0.19 || >=7.1".
 */
import { LockstepError } from '../contract/errors';
import { Version, compareVersions, parseVersion } from './version';

type Comparator = { op: '>=' | '>' | '<=' | '<' | '='; version: Version };

export function parseRange(range: string): Comparator[][] {
  const groups = range.split('||').map((g) => g.trim());
  return groups.map((group) => {
    if (group === '*' || group === '') return [];
    return group.split(/\s+/).map((token) => {
      const m = /^(>=|<=|>|<|=)?\s*(.+)$/.exec(token);
      if (!m) throw new LockstepError('E_VERSION_INVALID', `"${range}" is not a version range.`, { range });
      return { op: (m[1] ?? '=') as Comparator['op'], version: parseVersion(m[2]!) };
    });
  });
}

export function isValidRange(range: string): boolean {
  try {
    parseRange(range);
    return true;
  } catch {
    return false;
  }
}

export function satisfies(version: Version | string, range: string): boolean {
  const v = typeof version === 'string' ? parseVersion(version) : version;
  return parseRange(range).some((group) =>
    group.every(({ op, version: bound }) => {
      const c = compareVersions(v, bound);
      return op === '>=' ? c >= 0 : op === '>' ? c > 0 : op === '<=' ? c <= 0 : op === '<' ? c < 0 : c === 0;
    }),
  );
}
