/**
 * The signed licence (S4): number, edition and the last day of the update contract, signed by the vendor with the
 * same key as the feed. Only the licence number ever leaves the workstation (as a request header); the edition and the
 * contract are decided here against the signed catalog.
 */
import * as fs from 'node:fs';
import { ErrorInfo, LockstepError, isLockstepError } from '../contract/errors';
import { License, LicenseSchema, describeZodIssues } from '../kernel/catalogSchema';
import { releaseInstant } from './releaseDate';
import { SignedDocument, verifyDocument } from '../kernel/signing';

export const CONTRACT_WARNING_DAYS = 30;
const DAY_MS = 24 * 3600_000;

/** Reads and verifies the licence file. Missing → E_REGISTRATION_MISSING; changed or malformed → E_LICENSE. */
export function loadLicense(file: string | undefined, trustedKeys: readonly string[]): License {
  if (!file) throw new LockstepError('E_REGISTRATION_MISSING', 'No licence file is configured (feed.licenseFile in the machine configuration).');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new LockstepError('E_REGISTRATION_MISSING', `The licence file ${file} cannot be read (${code ?? 'error'}).`, { file });
  }
  // The same text verified against the same keys before (every update check reads the file): that verdict stands.
  const keys = trustedKeys.join('\n');
  if (lastVerified?.text === text && lastVerified.keys === keys) return lastVerified.license;
  let doc: SignedDocument<unknown>;
  try {
    doc = JSON.parse(text.replace(/^\uFEFF/, '')) as SignedDocument<unknown>;
  } catch {
    throw new LockstepError('E_LICENSE', `The licence file ${file} is not valid JSON.`, { file });
  }
  try {
    verifyDocument(doc, trustedKeys, 'licence');
  } catch (err) {
    if (isLockstepError(err, 'E_SIGNATURE')) throw new LockstepError('E_LICENSE', `The licence file ${file} is not validly signed: ${err.message}`, { file });
    throw err;
  }
  const parsed = LicenseSchema.safeParse(doc.signed);
  if (!parsed.success) throw new LockstepError('E_LICENSE', `The licence file ${file} is malformed: ${describeZodIssues(parsed.error)}`, { file });
  lastVerified = { text, keys, license: Object.freeze(parsed.data) };
  return lastVerified.license;
}

/** The licence text this process last verified, the keys it was verified against, and the result. */
let lastVerified: { text: string; keys: string; license: License } | null = null;

/**
 * The contract rule: a release dated on or before the contract's last day, as a UTC day, is covered. The licence
 * names that day ("contractUntil": "2026-03-31"); the contract ends at its last millisecond UTC, 2026-03-31T23:59:59.999Z.
 * A release dated 2026-03-31T23:59:59Z (or 2026-04-01T01:30:00+02:00, the same instant) is covered; one dated
 * 2026-04-01T00:00:00Z is not. The release date is read as an instant (releaseDate.ts: a date-time without an offset
 * counts as UTC), so the verdict is the same in every time zone. What is covered can be installed at any time later,
 * also after the contract ended.
 */
export function contractEnd(license: License): Date {
  return new Date(Date.parse(`${license.contractUntil}T00:00:00.000Z`) + DAY_MS - 1);
}

export interface ContractWarning {
  code: 'W_CONTRACT_ENDING' | 'W_CONTRACT_ENDED';
  contractUntil: string;
  daysLeft: number;
  message: string;
}

/** A warning when the contract ends within 30 days or has ended (S4); null otherwise. */
export function contractWarning(license: License, now: Date): ContractWarning | null {
  const end = contractEnd(license).getTime();
  const daysLeft = Math.ceil((end - now.getTime()) / DAY_MS);
  if (end < now.getTime()) {
    return { code: 'W_CONTRACT_ENDED', contractUntil: license.contractUntil, daysLeft, message: `The update contract ended on ${license.contractUntil}: versions released after that cannot be installed.` };
  }
  if (daysLeft <= CONTRACT_WARNING_DAYS) {
    return { code: 'W_CONTRACT_ENDING', contractUntil: license.contractUntil, daysLeft, message: `The update contract ends on ${license.contractUntil} (in ${daysLeft} day${daysLeft === 1 ? '' : 's'}).` };
  }
  return null;
}

/** Why the licence does not cover this version, or null when it does. */
export function licenseBlocks(license: License, target: { version: string; releaseDate: string; editions: readonly string[] }): ErrorInfo | null {
  if (target.editions.length > 0 && !target.editions.some((e) => e.toLowerCase() === license.edition.toLowerCase())) {
    return {
      code: 'E_LICENSE',
      message: `Version ${target.version} is not part of the "${license.edition}" edition (available for: ${target.editions.join(', ')}).`,
      details: { version: target.version, edition: license.edition, editions: [...target.editions] },
    };
  }
  if (releaseInstant(target.releaseDate) > contractEnd(license).getTime()) {
    return {
      code: 'E_CONTRACT_ENDED',
      message: `Version ${target.version} was released on ${new Date(releaseInstant(target.releaseDate)).toISOString().slice(0, 10)} (UTC), after the update contract ended on ${license.contractUntil}.`,
      details: { version: target.version, contractUntil: license.contractUntil, releaseDate: target.releaseDate },
    };
  }
  return null;
}
