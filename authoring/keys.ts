/**
 * The vendor's signing key on disk (S20). `lockstep keygen` writes the private key as PKCS#8 PEM with mode 0600 —
 * encrypted with a passphrase read from standard input when one is given, which is how it should be kept outside a
 * build machine — and the public key (base64, one line) that goes into the app's trust list (trust.ts).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError } from '../contract/errors';
import { Signer, generateKeyPair, signerFromPem } from '../kernel/signing';

export interface WrittenKeys {
  privateKeyFile: string;
  publicKeyFile: string;
  publicKey: string;
  keyId: string;
  encrypted: boolean;
}

/** Writes <out>.key (private) and <out>.pub (public). Refuses to overwrite a key: losing one is not undoable. */
export function writeKeyPair(out: string, passphrase?: string): WrittenKeys {
  const privateKeyFile = `${out}.key`;
  const publicKeyFile = `${out}.pub`;
  for (const f of [privateKeyFile, publicKeyFile]) {
    if (fs.existsSync(f)) throw new LockstepError('E_USAGE', `${f} already exists; choose another name (a signing key is never overwritten).`, { file: f });
  }
  fs.mkdirSync(path.dirname(path.resolve(out)), { recursive: true });
  const pair = generateKeyPair(passphrase || undefined);
  fs.writeFileSync(privateKeyFile, pair.privateKeyPem, { mode: 0o600, flag: 'wx' });
  fs.writeFileSync(publicKeyFile, pair.publicKey + '\n', { flag: 'wx' });
  return { privateKeyFile, publicKeyFile, publicKey: pair.publicKey, keyId: pair.keyId, encrypted: Boolean(passphrase) };
}

export function loadSigner(privateKeyFile: string, passphrase?: string): Signer {
  let pem: string;
  try {
    pem = fs.readFileSync(privateKeyFile, 'utf8');
  } catch (err) {
    throw new LockstepError('E_USAGE', `The signing key ${privateKeyFile} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'}).`, { file: privateKeyFile });
  }
  return signerFromPem(pem, passphrase || undefined);
}
