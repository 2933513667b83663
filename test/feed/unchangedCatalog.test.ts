/**
 * An unchanged catalog (304) whose cached text is exactly the text this process already verified, against the same
 * keys, is not verified again. These tests hold the line around that shortcut: a cached copy changed on disk, other
 * trusted keys, the expiry, and the licence read on every check are each still judged — and what is reused cannot be
 * changed by a caller.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { isLockstepError } from '../../contract/errors';
import { fetchCatalog } from '../../engine/catalog';
import { CATALOG_FILE } from '../../kernel/catalogSchema';
import { generateKeyPair } from '../../kernel/signing';
import { feedFixture } from './fixture';

describe('unchanged catalog check', () => {
  test('a cached catalog edited on disk after it was verified is verified again on the next 304 and refused (E_SIGNATURE)', async () => {
    const fx = await feedFixture();
    try {
      const service = await fx.service();
      await service.check();
      assert.equal((await service.check()).catalog.notModified, true, 'the held, verified copy answers a 304');
      const cacheFile = path.join(fx.cacheDir, 'catalog-cache.json');
      const cache = JSON.parse(fs.readFileSync(cacheFile, 'utf8')) as { text: string };
      // Same ETag (so the server still answers 304), other text: the contract end the vendor signed, moved.
      const edited = cache.text.replace(/"expiresAt":\s*"([^"]+)"/, '"expiresAt":"2999-01-01T00:00:00.000Z"');
      assert.notEqual(edited, cache.text);
      fs.writeFileSync(cacheFile, JSON.stringify({ ...cache, text: edited }));
      await assert.rejects(service.check(), (e) => isLockstepError(e, 'E_SIGNATURE'));
      assert.deepEqual(fx.server.requestsFor(CATALOG_FILE).map((q) => q.status), [200, 304, 304]);
    } finally {
      await fx.cleanup();
    }
  });

  test('after the trusted keys change, the held catalog is judged against the new keys (E_SIGNATURE)', async () => {
    const fx = await feedFixture();
    try {
      const service = await fx.service();
      await service.check();
      assert.equal((await fetchCatalog(service.feed)).notModified, true);
      await assert.rejects(fetchCatalog({ ...service.feed, trustedKeys: [generateKeyPair().publicKey] }), (e) => isLockstepError(e, 'E_SIGNATURE') && /does not trust/.test(e.message));
    } finally {
      await fx.cleanup();
    }
  });

  test('the held catalog still expires: a 304 after its expiry is E_CATALOG_STALE', async () => {
    const fx = await feedFixture();
    try {
      const service = await fx.service();
      await service.check();
      assert.equal((await fetchCatalog(service.feed)).notModified, true);
      await assert.rejects(fetchCatalog(service.feed, new Date(Date.now() + 400 * 86400_000)), (e) => isLockstepError(e, 'E_CATALOG_STALE') && /expired/.test(e.message));
    } finally {
      await fx.cleanup();
    }
  });

  test('what a check hands out cannot be changed to alter the next check', async () => {
    const fx = await feedFixture();
    try {
      const service = await fx.service();
      await service.check();
      const held = (await fetchCatalog(service.feed)).catalog;
      assert.throws(() => (held.versions as unknown[]).push({}), TypeError);
      assert.throws(() => ((held.versions[0] as { version: string }).version = '99.0.0'), TypeError);
      assert.notEqual((await fetchCatalog(service.feed)).catalog.versions[0]!.version, '99.0.0');
    } finally {
      await fx.cleanup();
    }
  });

  test('a licence edited after a successful check is refused on the next one (E_LICENSE)', async () => {
    const fx = await feedFixture();
    try {
      const service = await fx.service();
      await service.check();
      const text = fs.readFileSync(fx.demo.licenseFile, 'utf8');
      fs.writeFileSync(fx.demo.licenseFile, text.replace('"edition": "standard"', '"edition": "enterprise"'));
      await assert.rejects(service.check(), (e) => isLockstepError(e, 'E_LICENSE'));
    } finally {
      await fx.cleanup();
    }
  });
});
