/** `lockstep license issue` (S20): a licence signed with the vendor key — number, edition, last contract day. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError } from '../contract/errors';
import { License, LicenseSchema, describeZodIssues } from '../kernel/catalogSchema';
import { Signer, signDocument } from '../kernel/signing';

export interface LicenseInput {
  product: string;
  number: string;
  edition: string;
  contractUntil: string;
  issuedAt?: string;
}

export function issueLicense(input: LicenseInput, signer: Signer, out: string): License {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(input.contractUntil) || Number.isNaN(Date.parse(input.contractUntil))) {
    throw new LockstepError('E_USAGE', `--contract-until must be a date like 2027-12-31, not "${input.contractUntil}".`);
  }
  const parsed = LicenseSchema.safeParse({ type: 'lockstep-license', product: input.product, number: input.number, edition: input.edition, contractUntil: input.contractUntil, issuedAt: input.issuedAt ?? new Date().toISOString() });
  if (!parsed.success) throw new LockstepError('E_USAGE', `The licence is invalid: ${describeZodIssues(parsed.error)}`);
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  fs.writeFileSync(out, JSON.stringify(signDocument(parsed.data, signer), null, 2) + '\n');
  return parsed.data;
}
