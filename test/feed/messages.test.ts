/** Every error code has a problem and an action in de/en/fr (S11, S25); E_CONNECT names the address to open. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ERROR_CODES } from '../../contract/errors';
import { LOCALES, MESSAGES, localizeError } from '../../contract/messages';

test('every error code has a message and what to do, in German, English and French', () => {
  const missing = ERROR_CODES.filter((c) => LOCALES.some((l) => !MESSAGES[c]?.[l]?.problem || !MESSAGES[c]?.[l]?.action));
  assert.deepEqual(missing, []);
  for (const c of ERROR_CODES) {
    const texts = LOCALES.map((l) => MESSAGES[c]![l].problem);
    assert.equal(new Set(texts).size, 3, `${c}: three different languages`);
  }
});

test('E_CONNECT names the host that must be reachable, in every language', () => {
  const err = { code: 'E_CONNECT' as const, details: { host: 'updates.vendor.example:443' } };
  assert.deepEqual(localizeError(err, 'en'), { problem: 'The update server cannot be reached.', action: 'Make sure updates.vendor.example:443 is reachable from this workstation (firewall, proxy), then try again.' });
  assert.match(localizeError(err, 'de').action, /Stellen Sie sicher, dass updates\.vendor\.example:443 von diesem Arbeitsplatz erreichbar ist/);
  assert.match(localizeError(err, 'fr').action, /Vérifiez que updates\.vendor\.example:443 est joignable/);
  assert.equal(localizeError({ code: 'E_CONTRACT_ENDED', details: { version: '2.1', contractUntil: '2026-03-31' } }, 'de').problem, 'Version 2.1 erschien nach dem Ende Ihres Update-Vertrags (2026-03-31).');
});
