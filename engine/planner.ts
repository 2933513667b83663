/**
 * Upgrade paths (S5). A version may require a stepping stone: installs below `requires.below` must first install
 * `requires.version` (which may itself require an earlier stone), so the chain is resolved backwards and applied in
 * ascending order, one after another. A version may also declare `reinstallBelow`: installs older than that cannot be
 * updated in place — the plan says so and nothing is attempted.
 */
import { ErrorInfo } from '../contract/errors';
import { CatalogVersion } from '../kernel/catalogSchema';
import { Version, compareVersions, parseVersion } from '../kernel/version';

export type Plan = { ok: true; chain: CatalogVersion[] } | { ok: false; chain: CatalogVersion[]; reason: ErrorInfo };

export function planUpgrade(installed: Version | string, target: CatalogVersion, versions: readonly CatalogVersion[]): Plan {
  const from = typeof installed === 'string' ? parseVersion(installed) : installed;
  const visited = new Set<string>();

  function resolve(step: CatalogVersion): Plan {
    if (visited.has(step.version)) {
      return { ok: false, chain: [], reason: { code: 'E_UPGRADE_PATH', message: `The stepping stones of version ${target.version} form a cycle at ${step.version}.`, details: { version: target.version } } };
    }
    visited.add(step.version);
    if (step.reinstallBelow && compareVersions(from, step.reinstallBelow) < 0) {
      return {
        ok: false,
        chain: [],
        reason: {
          code: 'E_REINSTALL_REQUIRED',
          message: `Version ${step.version} cannot be installed over ${from.raw}: installs older than ${step.reinstallBelow} need a full reinstallation.`,
          details: { version: step.version, below: step.reinstallBelow, installed: from.raw },
        },
      };
    }
    const req = step.requires;
    if (req && compareVersions(from, req.below) < 0 && compareVersions(from, req.version) < 0) {
      const stone = versions.find((v) => compareVersions(v.version, req.version) === 0);
      if (!stone) {
        return {
          ok: false,
          chain: [],
          reason: {
            code: 'E_UPGRADE_PATH',
            message: `Version ${step.version} needs version ${req.version} installed first, and the feed does not offer it.`,
            details: { version: step.version, steppingStone: req.version },
          },
        };
      }
      const before = resolve(stone);
      return before.ok ? { ok: true, chain: [...before.chain, step] } : before;
    }
    return { ok: true, chain: [step] };
  }

  return resolve(target);
}
