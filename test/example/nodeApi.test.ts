/**
 * The `lockstep` entry for Node and the options of both entries: a configuration given as an object is checked like
 * the file, whatever the host leaves out has a default, and a wrong option is E_USAGE naming it. openLockstep runs the
 * whole loop on real parts: gate → check → download → install into a temp install folder → the next start's recover.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isLockstepError } from '../../contract/errors';
import { MemoryLogger } from '../../kernel/log';
import { checkOptions } from '../../engine/api/options';
import { openLockstep } from '../../engine/index';
import { StartOptionsSchema } from '../../electron/shell/startOptions';
import { createHostSite, HostSite } from './support/hostSite';

const noSecrets = { get: async () => null, set: async () => undefined, delete: async () => false };

function usage(option: string) {
  return (e: unknown) => isLockstepError(e, 'E_USAGE') && (e as { details: Record<string, unknown> }).details['option'] === option && e.message.includes(option);
}

describe('lockstep for Node, and the options of the public entries', () => {
  let site: HostSite;
  let configFile: string;
  before(async () => {
    site = await createHostSite();
    const admin = await site.host({ id: 'admin-pc', installed: '1.0.0' });
    await admin.shell.workstation.ledger.release('1.0.0');
    await site.host({ id: 'service', installed: '1.0.0' }); // writes the workstation's machine configuration
    configFile = path.join(site.dir, 'service', 'lockstep.machine.json');
  });
  after(async () => site?.close());

  test('a wrong option is E_USAGE naming it — in both entries', async () => {
    await assert.rejects(openLockstep({ config: configFile, platfrom: 'linux' } as never), usage('platfrom'));
    await assert.rejects(openLockstep({ config: configFile, platform: 'beos' } as never), usage('platform'));
    await assert.rejects(openLockstep({ config: configFile, secrets: {} } as never), usage('secrets'));
    await assert.rejects(openLockstep({} as never), usage('config'));
    assert.throws(() => checkOptions('lockstep/electron start()', StartOptionsSchema, { migrate: 'yes' }), usage('migrate'));
    assert.throws(() => checkOptions('lockstep/electron start()', StartOptionsSchema, { relaunch: 'app.relaunch()' }), usage('relaunch'));
    assert.throws(() => checkOptions('lockstep/electron start()', StartOptionsSchema, { confg: 'x.json' }), usage('confg'));
    assert.deepEqual(checkOptions('lockstep/electron start()', StartOptionsSchema, undefined), {}, 'no options at all: every default');
  });

  test('a configuration object is checked like the file: a wrong field names the field', async () => {
    const doc = JSON.parse(fs.readFileSync(configFile, 'utf8'));
    await assert.rejects(openLockstep({ config: { ...doc, outdatedPolicy: 'ignore' }, baseDir: path.dirname(configFile), secrets: noSecrets }), (e: unknown) => isLockstepError(e, 'E_CONFIG_INVALID') && /outdatedPolicy/.test((e as Error).message));
    await assert.rejects(openLockstep({ config: { ...doc, database: { url: 'postgres://u:secret@db/x' } }, baseDir: path.dirname(configFile), secrets: noSecrets }), (e: unknown) => isLockstepError(e, 'E_CONFIG_SECRET'));
  });

  test('gate → check → download → install → the next start keeps the confirmed version', async () => {
    const doc = JSON.parse(fs.readFileSync(configFile, 'utf8'));
    const log = new MemoryLogger();
    const ls = await openLockstep({ config: doc, baseDir: path.dirname(configFile), secrets: noSecrets, logger: log, platform: 'linux' });
    try {
      assert.equal(ls.config.installDir, path.join(path.dirname(configFile), 'app'), 'relative paths resolve against baseDir');
      assert.deepEqual((await ls.recover()).action, { type: 'none', reason: 'no-journal' });
      assert.equal((await ls.gate()).decision.type, 'proceed');
      const offer = await ls.check();
      const version = offer.preselected!;
      await ls.download(version);
      assert.deepEqual(await ls.install(), { from: '1.0.0', to: version, elevation: 'none' });
      assert.equal(ls.updates.getState().type, 'restart-requested');
      // The installed version's package is kept as the next differential download's base (engine/keptPackage.ts).
      const keptDir = path.join(ls.updates.feed.cacheDir, 'installed-package');
      const kept = JSON.parse(fs.readFileSync(path.join(keptDir, 'kept.json'), 'utf8')) as { version: string; name: string };
      assert.equal(kept.version, version);
      assert.deepEqual(fs.readFileSync(path.join(keptDir, kept.name)), fs.readFileSync(path.join(ls.updates.feed.cacheDir, 'downloads', kept.name)));
      assert.ok(await ls.database.schema.hasTable('lockstep_releases'));
      assert.deepEqual((await ls.ledger.list()).map((r) => r.version), ['1.0.0']);
    } finally {
      await ls.close();
    }
    const next = await openLockstep({ config: configFile, secrets: noSecrets, logger: log, platform: 'linux' });
    try {
      assert.equal(next.confirmHealthy(), true, 'the new version confirms once it runs');
      assert.equal((await next.status()).decision.type, 'ask-release', 'newer than the released 1.0.0');
    } finally {
      await next.close();
    }
  });
});
