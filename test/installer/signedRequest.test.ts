/**
 * The signed install request (S18) in-process: what verifySignedRequest accepts and refuses, the shapes
 * `lockstep install --manifest` reads, and that a refused request touches nothing — not even the journal. The same code
 * runs in the privileged helper; signedInstall.test.ts proves it there as root for a real unprivileged user.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MemoryLogger } from '../../kernel/log';
import { readManifestFile } from '../../installer/manifestInput';
import { sameSha512, verifySignedRequest } from '../../installer/signedRequest';
import { nodeSpawner } from '../../installer/spawn';
import { applyWithRights } from '../../installer/withRights';
import { appTree, makeTarGz, openTempDir, sha512File, treeHash, writeTree } from './support/fixtures';
import { VENDOR, manifestOf, newSigner, sha512Base64, signManifest, signedFor } from './support/vendor';

const KEYS = [VENDOR.publicKey];

function setup() {
  const dir = openTempDir('lockstep-signed-');
  const pkg = makeTarGz(dir, 'app-2.0.0.tar.gz', appTree('2.0.0'));
  return { dir, pkg, request: (manifest = signedFor(pkg, '2.0.0'), extra: Record<string, unknown> = {}) => ({ id: 'signed-test-0001', kind: 'portable', packagePath: pkg, toVersion: '2.0.0', manifest, ...extra }) };
}

describe('verifySignedRequest', () => {
  test('a vendor-signed manifest: the expected bytes are the signed SHA-512 and size, with the key that signed', () => {
    const { dir, pkg, request } = setup();
    try {
      const r = verifySignedRequest(request(), KEYS);
      assert.deepEqual(r, { id: 'signed-test-0001', kind: 'portable', packagePath: pkg, toVersion: '2.0.0', sha512: sha512Base64(pkg), size: fs.statSync(pkg).size, signedBy: VENDOR.keyId });
      // Whitespace or key order do not matter (the signature covers the canonical form of what is used).
      const pretty = JSON.stringify(JSON.parse(request().manifest.text), null, 2);
      assert.equal(verifySignedRequest(request({ text: pretty, signature: request().manifest.signature }), KEYS).sha512, sha512Base64(pkg));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('refused: untrusted key, edited text, other version, file not listed or listed twice, malformed, not JSON', () => {
    const { dir, pkg, request } = setup();
    try {
      const stranger = newSigner();
      const codeOf = (fn: () => unknown): string => {
        try {
          fn();
          return 'accepted';
        } catch (err) {
          return `${(err as { code: string }).code}: ${(err as Error).message}`;
        }
      };
      const genuine = signedFor(pkg, '2.0.0');
      const edited = JSON.parse(genuine.text);
      edited.files[0].size += 1;
      const other = path.join(dir, 'other.tar.gz');
      fs.copyFileSync(pkg, other);
      const twice = manifestOf('2.0.0', [pkg, pkg]);
      const cases: Record<string, string> = {
        stranger: codeOf(() => verifySignedRequest(request(signedFor(pkg, '2.0.0', stranger)), KEYS)),
        edited: codeOf(() => verifySignedRequest(request({ text: JSON.stringify(edited), signature: genuine.signature }), KEYS)),
        otherVersion: codeOf(() => verifySignedRequest(request(signedFor(pkg, '1.9.0')), KEYS)),
        notListed: codeOf(() => verifySignedRequest({ ...request(), packagePath: other }, KEYS)),
        listedTwice: codeOf(() => verifySignedRequest(request(signManifest(twice)), KEYS)),
        malformed: codeOf(() => verifySignedRequest(request(signManifest({ ...manifestOf('2.0.0', [pkg]), type: 'something-else' })), KEYS)),
        notJson: codeOf(() => verifySignedRequest(request({ text: '{not json', signature: genuine.signature }), KEYS)),
        noSignature: codeOf(() => verifySignedRequest(request({ text: genuine.text, signature: '' }), KEYS)),
        keysInRequest: codeOf(() => verifySignedRequest(request(signedFor(pkg, '2.0.0', stranger), { trustedKeys: [stranger.publicKey] }), KEYS)),
        hashInRequest: codeOf(() => verifySignedRequest(request(genuine, { sha512: sha512File(pkg) }), KEYS)),
      };
      const codes = Object.fromEntries(Object.entries(cases).map(([k, v]) => [k, v.split(':')[0]]));
      assert.deepEqual(codes, {
        stranger: 'E_SIGNATURE',
        edited: 'E_SIGNATURE',
        otherVersion: 'E_SIGNATURE',
        notListed: 'E_SIGNATURE',
        listedTwice: 'E_SIGNATURE',
        malformed: 'E_SIGNATURE',
        notJson: 'E_SIGNATURE',
        noSignature: 'E_SIGNATURE',
        keysInRequest: 'E_USAGE',
        hashInRequest: 'E_USAGE',
      });
      assert.match(cases['stranger']!, new RegExp(`key ${stranger.keyId}, which this workstation does not trust`));
      assert.match(cases['edited']!, /changed after signing/);
      assert.match(cases['otherVersion']!, /describes version 1\.9\.0, not 2\.0\.0/);
      assert.match(cases['notListed']!, /does not name the file other\.tar\.gz/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('sameSha512 compares hex and base64 spellings of one hash', () => {
    const hex = 'ab'.repeat(64);
    assert.equal(sameSha512(hex, Buffer.from(hex, 'hex').toString('base64')), true);
    assert.equal(sameSha512(hex.toUpperCase(), Buffer.from(hex, 'hex').toString('base64')), true);
    assert.equal(sameSha512('cd'.repeat(64), Buffer.from(hex, 'hex').toString('base64')), false);
  });
});

describe('applyWithRights with a signed request', () => {
  test('a refused request leaves the install folder and the state folder untouched (no journal), and is logged', async () => {
    const { dir, pkg, request } = setup();
    try {
      const installDir = path.join(dir, 'app');
      writeTree(installDir, appTree('1.0.0'));
      const before = treeHash(installDir).hash;
      const settings = { installDir, stateDir: path.join(dir, '.app.lockstep'), dataFolders: [], keepBackups: 2, healthTimeoutMs: 60_000 };
      const log = new MemoryLogger();
      await assert.rejects(applyWithRights(request(signedFor(pkg, '2.0.0', newSigner())) as never, { settings, log, spawner: nodeSpawner, startedBy: 'tester' }, KEYS), { code: 'E_SIGNATURE' });
      assert.equal(treeHash(installDir).hash, before);
      assert.equal(fs.existsSync(settings.stateDir), false);
      assert.deepEqual(log.entries.map((e) => [e.event, e.fields['code']]), [['apply.refused', 'E_SIGNATURE']]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a signed file whose bytes were swapped after signing: E_CHECKSUM at staging, the old version in place', async () => {
    const { dir, pkg, request } = setup();
    try {
      const installDir = path.join(dir, 'app');
      writeTree(installDir, appTree('1.0.0'));
      const before = treeHash(installDir).hash;
      const signed = signedFor(pkg, '2.0.0');
      makeTarGz(dir, 'swap.tar.gz', appTree('2.0.0', [{ path: 'evil', content: 'not from the vendor' }]));
      fs.renameSync(path.join(dir, 'swap.tar.gz'), pkg);
      const settings = { installDir, stateDir: path.join(dir, '.app.lockstep'), dataFolders: [], keepBackups: 2, healthTimeoutMs: 60_000 };
      const j = await applyWithRights(request(signed) as never, { settings, log: new MemoryLogger(), spawner: nodeSpawner, startedBy: 'tester' }, KEYS);
      assert.deepEqual([j.phase, j.error?.code], ['failed', 'E_CHECKSUM']);
      assert.equal(treeHash(installDir).hash, before);
      assert.deepEqual(fs.readdirSync(path.join(settings.stateDir, 'staging')), []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('lockstep install --manifest: the shapes it reads', () => {
  test('download --json output (every step, paths as written), {text, signature}, {signed, signature}; anything else E_USAGE', () => {
    const dir = openTempDir('lockstep-manifest-input-');
    try {
      const signed = signManifest(manifestOf('2.0.0', [makeTarGz(dir, 'a.tar.gz', appTree('2.0.0'))]));
      const write = (name: string, doc: unknown): string => {
        fs.writeFileSync(path.join(dir, name), JSON.stringify(doc));
        return path.join(dir, name);
      };
      const download = write('dl.json', {
        version: '2.0.0',
        file: '/cache/downloads/b.tar.gz',
        installNow: true,
        steps: [
          { version: '1.1.0', file: '/cache/downloads/a.tar.gz', manifestText: signed.text, manifestSignature: 'sig-a' },
          { version: '2.0.0', file: 'b.tar.gz', manifestText: signed.text, manifestSignature: 'sig-b' },
        ],
      });
      assert.deepEqual(readManifestFile(download), [
        { file: '/cache/downloads/a.tar.gz', version: '1.1.0', manifest: { text: signed.text, signature: 'sig-a' } },
        { file: path.join(dir, 'b.tar.gz'), version: '2.0.0', manifest: { text: signed.text, signature: 'sig-b' } },
      ]);
      assert.deepEqual(readManifestFile(write('text.json', signed)), [{ file: null, version: '2.0.0', manifest: signed }]);
      assert.deepEqual(readManifestFile(write('doc.json', { signed: JSON.parse(signed.text), signature: signed.signature })), [{ file: null, version: '2.0.0', manifest: signed }]);
      for (const bad of [{}, { steps: [] }, { steps: [{ file: 'x' }] }, [1], 'text']) assert.throws(() => readManifestFile(write('bad.json', bad)), { code: 'E_USAGE' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
