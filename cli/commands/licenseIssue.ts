/** `lockstep license issue`: a signed licence file (S4, S20). */
import { issueLicense } from '../../authoring/licenseIssuer';
import { Command } from '../command';
import { SIGNING_OPTIONS, required, signerFrom } from './vendorArgs';

const USAGE = 'lockstep license issue --number N --edition E --contract-until YYYY-MM-DD --key KEY --out FILE [--product NAME] [--passphrase-stdin] [--json]';

export const licenseIssue: Command = {
  name: 'license issue',
  summary: 'vendor: write a signed licence (number, edition, end of the update contract)',
  usage: USAGE,
  options: { ...SIGNING_OPTIONS, number: { type: 'string' }, edition: { type: 'string' }, 'contract-until': { type: 'string' }, out: { type: 'string' }, product: { type: 'string' } },
  async run(ctx) {
    const out = required(ctx, 'out', USAGE);
    const license = issueLicense(
      { product: (ctx.values['product'] as string | undefined) ?? 'Lockstep Demo', number: required(ctx, 'number', USAGE), edition: required(ctx, 'edition', USAGE), contractUntil: required(ctx, 'contract-until', USAGE) },
      await signerFrom(ctx, USAGE),
      out,
    );
    return { json: { file: out, license }, text: `Licence ${license.number} (${license.edition}, contract until ${license.contractUntil}) written to ${out}.` };
  },
};
