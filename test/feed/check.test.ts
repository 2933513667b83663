/** *Search now* against a real feed on 127.0.0.1: versions, reasons, chain, modules, warnings, conditional requests. */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { describe, test } from 'node:test';
import { isLockstepError } from '../../contract/errors';
import { CheckResult } from '../../contract/update';
import { CATALOG_FILE } from '../../kernel/catalogSchema';
import { canonicalJson, generateKeyPair, signDocument, signerFromPem } from '../../kernel/signing';
import { issueLicense } from '../../authoring/licenseIssuer';
import { feedFixture } from './fixture';

function summary(r: CheckResult) {
  return r.versions.map((v) => ({ version: v.version, installable: v.installable, reason: v.reason?.code ?? null, chain: v.chain }));
}

describe('check', () => {
  test('lists every newer version with installability, chain and module statuses; warns of the contract end', async () => {
    const fx = await feedFixture();
    try {
      const service = await fx.service();
      const states: string[] = [];
      service.onState((s) => states.push(s.type));
      const r = await service.check();
      assert.deepEqual(summary(r), [
        { version: '3.0.0', installable: false, reason: 'E_REINSTALL_REQUIRED', chain: [] },
        { version: '2.1.0', installable: false, reason: 'E_LICENSE', chain: ['2.1.0'] },
        { version: '2.0.0', installable: true, reason: null, chain: ['1.1.0', '2.0.0'] },
        { version: '1.1.0', installable: true, reason: null, chain: ['1.1.0'] },
      ]);
      assert.equal(r.preselected, '2.0.0');
      assert.equal(r.installed, '1.0.0');
      assert.deepEqual(
        r.versions.find((v) => v.version === '2.0.0')!.modules.map((m) => [m.id, m.status, m.updateTo, m.preselected, m.requiresConfirmation]),
        [
          ['reports', 'update-available', '2.0.0', true, false],
          ['scanner', 'incompatible', null, false, true],
        ],
      );
      assert.deepEqual(r.versions.find((v) => v.version === '1.1.0')!.modules.map((m) => m.status), ['compatible', 'compatible']);
      assert.equal(r.versions.find((v) => v.version === '2.0.0')!.file?.name, 'Lockstep-Demo-2.0.0.AppImage');
      assert.match(r.versions[0]!.notes, /^# 3\.0\.0/);
      assert.equal(r.warnings.length, 1);
      assert.equal(r.warnings[0]!.code, 'W_CONTRACT_ENDING');
      assert.deepEqual(states, ['checking', 'available']);
      assert.equal(service.getState().type, 'available');

      // Only the licence number identifies the site; electron-builder's staging id or anything else never leaves.
      const req = fx.server.requestsFor(CATALOG_FILE)[0]!;
      assert.equal(req.headers['x-lockstep-license'], 'DEMO-0001');
      assert.equal(req.headers['user-agent'], 'Lockstep');
      assert.equal(req.headers['x-user-staging-id'], undefined);
      assert.equal(req.headers['cookie'], undefined);

      // The second check is conditional: one 304, the cached copy re-verified, the same answer.
      const again = await service.check();
      assert.deepEqual(fx.server.requestsFor(CATALOG_FILE).map((q) => q.status), [200, 304]);
      assert.equal(again.catalog.notModified, true);
      assert.deepEqual(summary(again), summary(r));
    } finally {
      await fx.cleanup();
    }
  });

  test('an install at the newest version gets "no newer version"; a module outside every catalog is "not released"', async () => {
    const fx = await feedFixture({ installed: '3.0.0', modules: { custom: '1.0.0' } });
    try {
      const service = await fx.service();
      const r = await service.check();
      assert.deepEqual(r.versions, []);
      assert.equal(r.preselected, null);
      const state = service.getState();
      assert.equal(state.type, 'up-to-date');
      const fx2 = await feedFixture({ installed: '2.0.0', modules: { custom: '1.0.0', reports: '2.0.0' } });
      try {
        const r2 = await (await fx2.service()).check();
        assert.deepEqual(summary(r2), [
          { version: '3.0.0', installable: true, reason: null, chain: ['3.0.0'] },
          { version: '2.1.0', installable: false, reason: 'E_LICENSE', chain: ['2.1.0'] },
        ]);
        assert.deepEqual(r2.versions[0]!.modules.map((m) => [m.id, m.status]), [['custom', 'not-released'], ['reports', 'compatible']]);
      } finally {
        await fx2.cleanup();
      }
    } finally {
      await fx.cleanup();
    }
  });

  test('enterprise licence with an ended contract: newer releases are shown but blocked with E_CONTRACT_ENDED', async () => {
    const now = new Date();
    const ended = new Date(now.getTime() - 90 * 86400_000).toISOString().slice(0, 10); // between 2.0.0 (−120 d) and 2.1.0 (−60 d)
    const fx = await feedFixture({ installed: '1.1.0', edition: 'enterprise', contractUntil: ended });
    try {
      const r = await (await fx.service()).check();
      assert.deepEqual(summary(r), [
        { version: '3.0.0', installable: false, reason: 'E_REINSTALL_REQUIRED', chain: [] },
        { version: '2.1.0', installable: false, reason: 'E_CONTRACT_ENDED', chain: ['2.1.0'] },
        { version: '2.0.0', installable: true, reason: null, chain: ['2.0.0'] },
      ]);
      assert.equal(r.warnings[0]!.code, 'W_CONTRACT_ENDED');
    } finally {
      await fx.cleanup();
    }
  });

  test('a catalog edited after signing is refused with E_SIGNATURE and nothing is offered', async () => {
    const fx = await feedFixture();
    try {
      const file = `${fx.demo.feedDir}/${CATALOG_FILE}`;
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('"editions": [\n          "enterprise"\n        ]', '"editions": []'));
      assert.doesNotMatch(fs.readFileSync(file, 'utf8'), /"enterprise"/);
      const service = await fx.service();
      await assert.rejects(service.check(), (e) => isLockstepError(e, 'E_SIGNATURE'));
      const state = service.getState();
      assert.equal(state.type, 'failed');
      assert.equal(state.type === 'failed' && state.error.code, 'E_SIGNATURE');
    } finally {
      await fx.cleanup();
    }
  });

  test('an expired catalog is refused with E_CATALOG_STALE', async () => {
    const fx = await feedFixture({ now: new Date(Date.now() - 40 * 86400_000) }); // signed 40 days ago, valid 30
    try {
      await assert.rejects((await fx.service()).check(), (e) => isLockstepError(e, 'E_CATALOG_STALE') && /expired/.test(e.message));
    } finally {
      await fx.cleanup();
    }
  });

  test('a catalog naming "../../x" is refused as a whole (E_FEED_INVALID) and no file is ever requested', async () => {
    const fx = await feedFixture();
    try {
      const file = `${fx.demo.feedDir}/${CATALOG_FILE}`;
      const doc = JSON.parse(fs.readFileSync(file, 'utf8'));
      // Signed correctly by the vendor key, so the name check itself must catch it.
      const v = doc.signed.versions.find((x: { version: string }) => x.version === '2.0.0');
      v.manifest.signed.files[0].name = '../../x';
      v.manifest = signDocument(v.manifest.signed, fx.demo.signer);
      fs.writeFileSync(file, JSON.stringify(signDocument(doc.signed, fx.demo.signer)));
      await assert.rejects((await fx.service()).check(), (e) => isLockstepError(e, 'E_FEED_INVALID') && /plain file name/.test(e.message));
      assert.deepEqual(fx.server.log.map((r) => r.name), [CATALOG_FILE]);
    } finally {
      await fx.cleanup();
    }
  });

  test('a licence edited after signing is E_LICENSE; a missing one is E_REGISTRATION_MISSING', async () => {
    const fx = await feedFixture();
    try {
      const text = fs.readFileSync(fx.demo.licenseFile, 'utf8');
      fs.writeFileSync(fx.demo.licenseFile, text.replace('"edition": "standard"', '"edition": "enterprise"'));
      assert.notEqual(fs.readFileSync(fx.demo.licenseFile, 'utf8'), text);
      await assert.rejects((await fx.service()).check(), (e) => isLockstepError(e, 'E_LICENSE'));
      fx.setFeed({ licenseFile: `${fx.dir}/nowhere.json` });
      await assert.rejects((await fx.service()).check(), (e) => isLockstepError(e, 'E_REGISTRATION_MISSING'));
      // A licence signed by someone else's key is no licence either.
      const other = generateKeyPair();
      issueLicense({ product: 'x', number: 'N-1', edition: 'enterprise', contractUntil: '2099-01-01' }, signerFromPem(other.privateKeyPem), `${fx.dir}/forged.json`);
      fx.setFeed({ licenseFile: `${fx.dir}/forged.json` });
      await assert.rejects((await fx.service()).check(), (e) => isLockstepError(e, 'E_LICENSE') && /does not trust/.test(e.message));
      assert.ok(canonicalJson({ b: 1, a: [2, { d: 3, c: 4 }] }) === '{"a":[2,{"c":4,"d":3}],"b":1}');
    } finally {
      await fx.cleanup();
    }
  });
});
