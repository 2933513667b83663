/** Upgrade paths (S5), version ranges for modules (S6, four-part versions S26), and the signing primitives (S18). */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CatalogVersion } from '../../kernel/catalogSchema';
import { planUpgrade } from '../../engine/planner';
import { canonicalJson, generateKeyPair, signDocument, signerFromPem, verifyDocument } from '../../kernel/signing';
import { satisfies } from '../../kernel/versionRange';

function v(version: string, extra: Partial<CatalogVersion> = {}): CatalogVersion {
  return { version, channel: 'stable', releaseDate: '2026-01-01T00:00:00.000Z', notes: '', editions: [], requires: null, reinstallBelow: null, manifest: { signed: {} as never, signature: '' }, ...extra };
}

describe('planner', () => {
  const versions = [
    v('5.0'),
    v('6.0', { requires: { version: '5.0', below: '5.0' } }),
    v('7.0.0.19', { requires: { version: '6.0', below: '6.0' } }),
    v('8.0', { requires: { version: '7.0.0.19', below: '7.0.0.19' }, reinstallBelow: '4.0' }),
  ];
  const chain = (installed: string, target: string) => {
    const p = planUpgrade(installed, versions.find((x) => x.version === target)!, versions);
    return p.ok ? p.chain.map((c) => c.version) : p.reason.code;
  };
  test('stepping stones resolve backwards and apply in ascending order', () => {
    assert.deepEqual(chain('4.5', '8.0'), ['5.0', '6.0', '7.0.0.19', '8.0']);
    assert.deepEqual(chain('6.0', '8.0'), ['7.0.0.19', '8.0']);
    assert.deepEqual(chain('7.0.0.19', '8.0'), ['8.0']);
    assert.deepEqual(chain('7.0.0.20', '8.0'), ['8.0']);
  });
  test('a reinstall barrier is explained, never planned; a missing stone is E_UPGRADE_PATH; cycles are caught', () => {
    assert.equal(chain('3.9', '8.0'), 'E_REINSTALL_REQUIRED');
    const gap = [v('9.0', { requires: { version: '8.5', below: '8.5' } })];
    const p = planUpgrade('8.0', gap[0]!, gap);
    assert.ok(!p.ok && p.reason.code === 'E_UPGRADE_PATH' && p.reason.details?.['steppingStone'] === '8.5');
    const loop = [v('2.0', { requires: { version: '3.0', below: '3.0' } }), v('3.0', { requires: { version: '2.0', below: '2.0' } })];
    const l = planUpgrade('1.0', loop[1]!, loop);
    assert.ok(!l.ok && l.reason.code === 'E_UPGRADE_PATH');
  });
});

test('version ranges use Lockstep ordering (four-part, pre-releases)', () => {
  assert.equal(satisfies('7.0.0.19', '>=7.0.0.5 <7.1'), true);
  assert.equal(satisfies('7.1', '>=7.0.0.5 <7.1'), false);
  assert.equal(satisfies('7.1.0-beta.1', '<7.1'), true);
  assert.equal(satisfies('9.0', '<8.0 || >=9.0'), true);
  assert.equal(satisfies('8.5', '<8.0 || >=9.0'), false);
  assert.equal(satisfies('1.0', '*'), true);
});

test('signatures cover canonical JSON: key order does not matter, any change does', () => {
  const pair = generateKeyPair();
  const signer = signerFromPem(pair.privateKeyPem);
  const doc = signDocument({ b: 1, a: { y: [1, 2], x: 'ü' } }, signer);
  assert.equal(verifyDocument({ signed: JSON.parse('{"a":{"x":"ü","y":[1,2]},"b":1}'), signature: doc.signature }, [pair.publicKey], 'doc'), pair.keyId);
  assert.throws(() => verifyDocument({ signed: { b: 2, a: doc.signed.a }, signature: doc.signature }, [pair.publicKey], 'doc'), /changed after signing/);
  assert.throws(() => verifyDocument(doc, [generateKeyPair().publicKey], 'doc'), /does not trust/);
  assert.throws(() => canonicalJson({ a: Number.NaN }), /non-finite/);
  const locked = generateKeyPair('pw');
  assert.throws(() => signerFromPem(locked.privateKeyPem), /passphrase/);
  assert.equal(signerFromPem(locked.privateKeyPem, 'pw').keyId, locked.keyId);
});
