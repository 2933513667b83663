/**
 * The vendor's floor as the feed states it is remembered by every check: a database writer who later erases the stored
 * catalogs and manifests cannot make this workstation forget a floor it once verified from the feed, and the record
 * only rises.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { refreshCatalog } from '../../authoring/feedWriter';
import { defaultStateDir } from '../../installer/journal';
import { localFloorFile, readLocalFloor } from '../../kernel/localFloor';
import { FeedFixture, feedFixture } from './fixture';

let fx: FeedFixture | null = null;
after(async () => fx?.cleanup());

test('a check remembers the feed\'s floor; a later, lower floor in the feed does not lower it', async () => {
  fx = await feedFixture();
  const record = () => readLocalFloor(localFloorFile(defaultStateDir(path.join(fx!.dir, 'app'))));
  assert.deepEqual(record(), { known: false, floor: null }, 'nothing verified yet');

  await (await fx.service()).check();
  assert.deepEqual(record(), { known: true, floor: null }, 'the vendor stated "no floor": known, so a move back can be judged');

  refreshCatalog(fx.demo.feedDir, { securityFloor: '1.1.0' }, fx.demo.signer);
  await (await fx.service()).check();
  assert.equal(record().floor?.raw, '1.1.0');

  refreshCatalog(fx.demo.feedDir, { securityFloor: '1.0.0' }, fx.demo.signer);
  await (await fx.service()).check();
  assert.equal(record().floor?.raw, '1.1.0', 'the record only rises');
});
