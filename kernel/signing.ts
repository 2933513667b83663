/**
 * Vendor signatures (S18): Ed25519 through node:crypto over a canonical JSON form, so that what is signed does not
 * depend on key order, whitespace or the JSON library that wrote the file.
 *
 * Formats, chosen so a signed manifest can travel unchanged into the shared database (a text column plus a 200
 * character signature column):
 *  - public key: base64 of the raw 32 bytes (short enough to be a constant in code or a line in the machine config);
 *  - key id: first 16 hex digits of SHA-256 over the raw key (names the key without revealing anything);
 *  - signature: "ed25519:<keyId>:<base64 of 64 bytes>" (≈ 113 characters).
 */
import * as crypto from 'node:crypto';
import { LockstepError } from '../contract/errors';

/** A document and the vendor's signature over canonicalJson(signed). */
export interface SignedDocument<T> {
  signed: T;
  signature: string;
}

/** DER prefix of an Ed25519 SubjectPublicKeyInfo; the raw 32 key bytes follow it. */
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * Canonical JSON: object keys sorted by code unit, no whitespace, arrays in order. Values that JSON cannot carry
 * faithfully (undefined, functions, NaN, Infinity) are refused rather than silently dropped from what is signed.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new LockstepError('E_INTERNAL', 'canonicalJson: non-finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.keys(value as object)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(',')}}`;
  }
  throw new LockstepError('E_INTERNAL', `canonicalJson: cannot encode a ${typeof value}`);
}

export function keyIdOf(publicKey: string): string {
  return crypto.createHash('sha256').update(Buffer.from(publicKey, 'base64')).digest('hex').slice(0, 16);
}

function publicKeyObject(publicKey: string): crypto.KeyObject {
  const raw = Buffer.from(publicKey, 'base64');
  if (raw.length !== 32) throw new LockstepError('E_CONFIG_INVALID', `"${publicKey.slice(0, 20)}…" is not an Ed25519 public key (expected 32 bytes in base64).`);
  return crypto.createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
}

export interface KeyPair {
  publicKey: string;
  keyId: string;
  /** PKCS#8 PEM; encrypted (aes-256-cbc) when a passphrase was given. */
  privateKeyPem: string;
}

export function generateKeyPair(passphrase?: string): KeyPair {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const raw = publicKey.export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length).toString('base64');
  const privateKeyPem = privateKey.export(
    passphrase ? { format: 'pem', type: 'pkcs8', cipher: 'aes-256-cbc', passphrase } : { format: 'pem', type: 'pkcs8' },
  ) as string;
  return { publicKey: raw, keyId: keyIdOf(raw), privateKeyPem };
}

/** A loaded signing key: the private half stays inside the KeyObject. */
export interface Signer {
  keyId: string;
  publicKey: string;
  sign(text: string): string;
}

export function signerFromPem(pem: string, passphrase?: string): Signer {
  let key: crypto.KeyObject;
  try {
    key = crypto.createPrivateKey(passphrase ? { key: pem, format: 'pem', passphrase } : { key: pem, format: 'pem' });
  } catch (err) {
    const encrypted = pem.includes('ENCRYPTED');
    throw new LockstepError('E_USAGE', encrypted && !passphrase ? 'The signing key is encrypted: pass its passphrase on standard input (--passphrase-stdin).' : `The signing key cannot be read: ${(err as Error).message}`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new LockstepError('E_USAGE', `The signing key is ${key.asymmetricKeyType ?? 'unknown'}, not Ed25519.`);
  const publicKey = crypto.createPublicKey(key).export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX.length).toString('base64');
  const keyId = keyIdOf(publicKey);
  return {
    keyId,
    publicKey,
    sign: (text) => `ed25519:${keyId}:${crypto.sign(null, Buffer.from(text, 'utf8'), key).toString('base64')}`,
  };
}

export function signDocument<T>(signed: T, signer: Signer): SignedDocument<T> {
  return { signed, signature: signer.sign(canonicalJson(signed)) };
}

/**
 * Verifies `signature` over `text` against the trusted keys. Returns the key id that signed; throws E_SIGNATURE when
 * the signature is malformed, names an untrusted key, or does not verify. `what` names the document in the message.
 */
export function verifyText(text: string, signature: string, trustedKeys: readonly string[], what: string): string {
  const m = /^ed25519:([0-9a-f]{16}):([A-Za-z0-9+/]{86}==)$/.exec(typeof signature === 'string' ? signature : '');
  if (!m) throw new LockstepError('E_SIGNATURE', `The signature of the ${what} is missing or malformed.`, { what });
  const keyId = m[1]!;
  const key = trustedKeys.find((k) => keyIdOf(k) === keyId);
  if (!key) throw new LockstepError('E_SIGNATURE', `The ${what} is signed with key ${keyId}, which this workstation does not trust.`, { what, keyId });
  const ok = crypto.verify(null, Buffer.from(text, 'utf8'), publicKeyObject(key), Buffer.from(m[2]!, 'base64'));
  if (!ok) throw new LockstepError('E_SIGNATURE', `The signature of the ${what} does not match its content: it was changed after signing.`, { what, keyId });
  return keyId;
}

export function verifyDocument<T>(doc: SignedDocument<T>, trustedKeys: readonly string[], what: string): string {
  if (doc === null || typeof doc !== 'object' || !('signed' in doc)) throw new LockstepError('E_SIGNATURE', `The ${what} is not a signed document.`, { what });
  return verifyText(canonicalJson(doc.signed), doc.signature, trustedKeys, what);
}
