/** `lockstep keygen`: the vendor's Ed25519 signing key pair (S20). */
import { writeKeyPair } from '../../authoring/keys';
import { Command } from '../command';

export const keygen: Command = {
  name: 'keygen',
  summary: 'vendor: make an Ed25519 signing key pair (<out>.key private, <out>.pub public)',
  usage: 'lockstep keygen --out PATH [--passphrase-stdin] [--json]',
  options: { out: { type: 'string' }, 'passphrase-stdin': { type: 'boolean' } },
  async run(ctx) {
    const out = String(ctx.values['out'] ?? 'lockstep-vendor');
    const passphrase = ctx.values['passphrase-stdin'] ? (await ctx.readStdin()).replace(/\r?\n$/, '') : undefined;
    const keys = writeKeyPair(out, passphrase);
    return {
      json: keys,
      text: [`Private key: ${keys.privateKeyFile}${keys.encrypted ? ' (encrypted)' : ''} — keep it offline`, `Public key:  ${keys.publicKey} (key id ${keys.keyId})`].join('\n'),
    };
  },
};
