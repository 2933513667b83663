/**
 * The signed licence (S4): number, edition and the last day of the update contract, signed by the vendor with the
 * same key as the feed. Only the licence number ever leaves the workstation (as a request header); the edition and the
 * contract are decided here against the signed catalog.
 */
import * as fs from 'node:fs';
import { ErrorInfo, LockstepError, isLockstepError } from '../common/errors';
import { License, LicenseSchema, describeZodIssues } from './feed/catalogSchema';
import { SignedDocument, verifyDocument } from './signing';

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
  return parsed.data;
}

/** End of the contract's last day, UTC: a contract "until 2026-03-31" covers releases on that whole day. */
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
  if (Date.parse(target.releaseDate) > contractEnd(license).getTime()) {
    return {
      code: 'E_CONTRACT_ENDED',
      message: `Version ${target.version} was released on ${target.releaseDate.slice(0, 10)}, after the update contract ended on ${license.contractUntil}.`,
      details: { version: target.version, contractUntil: license.contractUntil, releaseDate: target.releaseDate },
    };
  }
  return null;
}
