/**
 * What a check offers (S2–S6): every version newer than the installed one on this workstation's channel — not only
 * the newest — each with whether it may be installed and, when not, a coded reason (licence edition, contract ended,
 * reinstall barrier, missing stepping stone, below the security floor), the upgrade chain the planner chose, and each
 * installed module's status for that target. Pure: the caller fetched and verified everything.
 */
import { ErrorInfo } from '../contract/errors';
import { CheckResult, OfferedVersion, Warning } from '../contract/update';
import { Catalog, License, Platform } from '../kernel/catalogSchema';
import { contractWarning, licenseBlocks } from './license';
import { moduleStatuses } from './modules';
import { planUpgrade } from './planner';
import { notYetReleased } from './releaseDate';
import { Version, compareVersions } from '../kernel/version';

export interface OfferInput {
  catalog: Catalog;
  notModified: boolean;
  feedUrl: string;
  channel: string;
  installed: Version;
  license: License;
  modules: Record<string, string>;
  platform: Platform;
  now: Date;
}

export function evaluateOffer(input: OfferInput): CheckResult {
  const { catalog, installed, license } = input;
  const onChannel = catalog.versions.filter((v) => v.channel === input.channel);
  const newer = onChannel.filter((v) => compareVersions(v.version, installed) > 0).sort((a, b) => compareVersions(b.version, a.version));

  const versions = newer.map((v): OfferedVersion => {
    const plan = planUpgrade(installed, v, onChannel);
    const chain = plan.chain.map((c) => c.version);
    let reason: ErrorInfo | null = plan.ok ? null : plan.reason;
    if (!reason && catalog.securityFloor && compareVersions(v.version, catalog.securityFloor) < 0) {
      reason = { code: 'E_BELOW_SECURITY_FLOOR', message: `Version ${v.version} is below the vendor's security floor ${catalog.securityFloor}.`, details: { version: v.version, floor: catalog.securityFloor } };
    }
    // Every step of the chain is installed, so every step must be out (not dated in the future) and covered by the
    // licence. The date comes first: a version not yet out must not be described as "released after the contract".
    for (const step of plan.chain) {
      if (reason) break;
      reason = notYetReleased(step, input.now) ?? licenseBlocks(license, step);
    }
    const file = v.manifest.signed.files.find((f) => f.platform === input.platform && f.kind === 'installer') ?? v.manifest.signed.files.find((f) => f.platform === input.platform && f.kind === 'zip') ?? null;
    if (!reason && !file) reason = { code: 'E_NOT_FOUND', message: `Version ${v.version} has no installer for this platform (${input.platform}).`, details: { version: v.version, platform: input.platform } };
    return {
      version: v.version,
      channel: v.channel,
      releaseDate: v.releaseDate,
      notes: v.notes,
      ...(v.notesTruncated ? { notesTruncated: true as const } : {}),
      installable: reason === null,
      reason,
      chain: plan.ok ? chain : [],
      file,
      modules: moduleStatuses(input.modules, v.version, catalog.modules),
    };
  });

  const warnings: Warning[] = [];
  const contract = contractWarning(license, input.now);
  if (contract) warnings.push({ ...contract });
  return {
    installed: installed.raw,
    checkedAt: input.now.toISOString(),
    feedUrl: input.feedUrl,
    catalog: { product: catalog.product, issuedAt: catalog.issuedAt, expiresAt: catalog.expiresAt, notModified: input.notModified, securityFloor: catalog.securityFloor },
    license: { number: license.number, edition: license.edition, contractUntil: license.contractUntil },
    warnings,
    versions,
    preselected: versions.find((v) => v.installable)?.version ?? null,
  };
}
