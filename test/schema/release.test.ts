/**
 * The client database moves with the release, on every backend: the customer list's migrations run once inside the
 * release transaction; a failing migration, a lost lease and a withdraw to a version that cannot use the database all
 * leave the database exactly as it was (schema and every row compared).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isLockstepError } from '../../contract/errors';
import { mayUseDatabase } from '../../contract/gate';
import { Db } from '../../db/connection';
import { FleetStore } from '../../db/fleetStore';
import { checkFence } from '../../db/schemaStore';
import { generateKeyPair, signerFromPem } from '../../kernel/signing';
import { backends, migratedDb } from '../helpers/backends';
import { Ledger } from '../../engine/ledger';
import { DEFAULT_MIGRATION_SETTINGS } from '../../engine/schema/settings';
import { MemoryLogger } from '../../kernel/log';
import { parseVersion } from '../../kernel/version';
import { identity } from '../helpers/actors';
import { ALL_STEPS, CLAIMS, dumpDatabase, m1, m2, m3Failing, schemaEngine, sourceOf, storeSignedManifest, until } from '../helpers/clientSchema';


/** A site on 1.0 (level 1) with three customers. */
async function siteOnLevel1(db: Db): Promise<FleetStore> {
  const fleet = new FleetStore(db);
  const r = await schemaEngine(fleet, identity('ws-admin'), '1.0.0').ledger.release('1.0.0');
  assert.deepEqual(r.schemaMove && { from: r.schemaMove.from, to: r.schemaMove.to, migrations: r.schemaMove.migrations }, { from: 0, to: 1, migrations: ['001-customers'] });
  await db.knex('app_customers').insert([{ name: 'Ada' }, { name: 'Brecht' }, { name: 'Colette' }]);
  return fleet;
}

for (const backend of backends().filter((b) => b.name !== 'mssql')) {
  describe(`client schema releases on ${backend.name}`, () => {
    test('1.0 → 1.1 → 2.0: each release migrates once with the pointer flip; level, history, audit; the data survives', async () => {
      const { db, cleanup } = await migratedDb(backend);
      try {
        const fleet = await siteOnLevel1(db);
        // 1.1 works on level 1 too: a test install uses the live database, and the question says Yes migrates 1 → 2.
        const v11 = schemaEngine(fleet, identity('ws-admin'), '1.1.0');
        const asked = await v11.gate.run();
        assert.deepEqual(asked.decision, { type: 'ask-release', installed: '1.1.0', released: '1.0.0', canAnswer: true, migration: { from: 1, to: 2, worksOnCurrent: true } });
        assert.equal(asked.mayUseDatabase, true);
        const yes = await v11.gate.answer('yes');
        assert.equal(yes.decision.type, 'proceed');
        // 2.0 works on level 3 only: its test install must not touch the database.
        const v20 = schemaEngine(fleet, identity('ws-admin'), '2.0.0');
        const asked20 = await v20.gate.run();
        assert.deepEqual(asked20.decision, { type: 'ask-release', installed: '2.0.0', released: '1.1.0', canAnswer: true, migration: { from: 2, to: 3, worksOnCurrent: false } });
        assert.equal(asked20.mayUseDatabase, false);
        const clerk20 = await schemaEngine(fleet, identity('ws-clerk', false), '2.0.0').gate.run();
        assert.deepEqual([clerk20.decision.type, clerk20.mayUseDatabase], ['ask-release', false]);
        const released = await v20.ledger.release('2.0.0');
        assert.deepEqual(released.schemaMove?.migrations, ['003-orders']);

        const level = await fleet.schema.level();
        assert.deepEqual([level?.level, level?.version, level?.channel, level?.setBy, level?.setFrom], [3, '2.0.0', 'stable', 'admin', 'ws-admin']);
        const history = await fleet.schema.history();
        assert.deepEqual(history.map((h) => [h.fromLevel, h.toLevel, h.version, h.migrations]), [[2, 3, '2.0.0', ['003-orders']], [1, 2, '1.1.0', ['002-customer-email']], [0, 1, '1.0.0', ['001-customers']]]);
        assert.ok(!Number.isNaN(Date.parse(history[0]!.doneAt)));
        const audit = (await fleet.events({ action: 'release' })).find((e) => e.version === '2.0.0');
        assert.deepEqual((audit?.detail?.['schema'] as { migrations: string[] }).migrations, ['003-orders']);
        assert.deepEqual(await db.knex('app_customers').select('name', 'email').orderBy('id'), [
          { name: 'Ada', email: 'ada@example.test' }, { name: 'Brecht', email: 'brecht@example.test' }, { name: 'Colette', email: 'colette@example.test' },
        ]);
        assert.equal((await db.knex('app_orders').count({ n: '*' }))[0]!['n'] as unknown as number | string, backend.name === 'postgres' ? '3' : 3);
        assert.equal(await fleet.schema.leaseHolder(), null, 'the lease is free again');
        // A second release of the same version migrates nothing and says "already released".
        await assert.rejects(v20.ledger.release('2.0.0'), (e: unknown) => isLockstepError(e, 'E_ALREADY_RELEASED'));
        assert.equal((await fleet.schema.history()).length, 3);
      } finally {
        await cleanup();
      }
    });

    test('a migration that fails halfway: identical database, pointer unchanged, lease free, an audit row naming it', async () => {
      const { db, cleanup } = await migratedDb(backend);
      try {
        const fleet = await siteOnLevel1(db);
        const before = await dumpDatabase(db);
        const revision = (await fleet.releases.current('stable'))?.revision;
        const broken = schemaEngine(fleet, identity('ws-admin'), '2.0.0', { steps: [m1, m2, m3Failing] });
        await assert.rejects(broken.ledger.release('2.0.0'), (e: unknown) => isLockstepError(e, 'E_SCHEMA_MIGRATION_FAILED') && e.details['migration'] === '003-orders-broken' && /orderz/.test(e.message));
        assert.deepEqual(await dumpDatabase(db), before, 'schema and every row as before (002 ran and was rolled back too)');
        const current = await fleet.releases.current('stable');
        assert.deepEqual([current?.release?.version, current?.revision], ['1.0.0', revision]);
        assert.equal((await fleet.releases.find({ channel: 'stable', versionKey: broken.ledger.ref('2.0.0').versionKey }))?.state ?? 'undecided', 'undecided');
        assert.equal(await fleet.schema.leaseHolder(), null, 'the lease is free');
        const failed = (await fleet.events({ action: 'release' })).filter((e) => e.outcome === 'failed');
        assert.equal(failed.length, 1);
        assert.deepEqual([failed[0]!.version, failed[0]!.detail?.['code'], failed[0]!.detail?.['migration']], ['2.0.0', 'E_SCHEMA_MIGRATION_FAILED', '003-orders-broken']);
        // The fixed package then releases normally.
        await schemaEngine(fleet, identity('ws-admin'), '2.0.0').ledger.release('2.0.0');
        assert.equal((await fleet.schema.level())?.level, 3);
      } finally {
        await cleanup();
      }
    });

    test('a table-rebuilding migration (drop a column) that then fails is rolled back too', async () => {
      const { db, cleanup } = await migratedDb(backend);
      try {
        const fleet = await siteOnLevel1(db);
        await schemaEngine(fleet, identity('ws-admin'), '1.1.0').ledger.release('1.1.0');
        const before = await dumpDatabase(db);
        // SQLite cannot drop a column in place on every version: knex copies the table into a new one, inside our transaction.
        const rebuild = { name: '003-drop-email', level: 3, async up(tx: Parameters<typeof m1.up>[0]) {
          await tx.schema.alterTable('app_customers', (t) => t.dropColumn('email'));
          await tx.schema.alterTable('app_customers', (t) => t.string('name', 100).nullable().alter());
          throw new Error('late failure');
        } };
        await assert.rejects(schemaEngine(fleet, identity('ws-admin'), '2.0.0', { steps: [m1, m2, rebuild] }).ledger.release('2.0.0'), (e: unknown) => isLockstepError(e, 'E_SCHEMA_MIGRATION_FAILED') && e.details['migration'] === '003-drop-email' && /late failure/.test(e.message));
        assert.deepEqual(await dumpDatabase(db), before);
      } finally {
        await cleanup();
      }
    });

    test("a stale lease holder's late write is refused by its fencing token; the database is unchanged", async () => {
      const { db, tdb, cleanup } = await migratedDb(backend);
      const other = await tdb.open();
      try {
        const fleet = await siteOnLevel1(db);
        const before = await dumpDatabase(db);
        const otherFleet = new FleetStore(other);
        let taken = null as { token: number } | null;
        // A's migrations load slowly (a file share): its lease runs out and B takes it before A's transaction starts.
        const slow = sourceOf(ALL_STEPS);
        const source = {
          async stepsBetween(from: number, to: number) {
            await until('the lease to expire', async () => (await otherFleet.schema.leaseHolder())?.expired === true);
            taken = await otherFleet.schema.tryAcquireLease({ user: 'admin-b', workstationId: 'ws-b' }, '2.0.0', 60_000);
            return slow.stepsBetween(from, to);
          },
        };
        const a = schemaEngine(fleet, identity('ws-a'), '2.0.0', { source, settings: { leaseMs: 300 } });
        await assert.rejects(a.ledger.release('2.0.0'), (e: unknown) => isLockstepError(e, 'E_SCHEMA_LEASE_LOST'));
        assert.ok(taken, 'B holds the lease');
        assert.deepEqual(await dumpDatabase(db), before);
        const holder = await fleet.schema.leaseHolder();
        assert.deepEqual([holder?.holder.startsWith('admin-b@ws-b#'), holder?.token], [true, taken!.token], "B's lease is untouched by A's failure");
        // The token itself: an older one is refused inside a transaction, the current one passes.
        await assert.rejects(db.knex.transaction((tx) => checkFence(tx, { token: taken!.token - 1, holder: holder!.holder })), (e: unknown) => isLockstepError(e, 'E_SCHEMA_LEASE_LOST'));
        await db.knex.transaction((tx) => checkFence(tx, { token: taken!.token, holder: holder!.holder }));
      } finally {
        await other.close();
        await cleanup();
      }
    });

    test('a workstation below the level is blocked even under warn; the released version proceeds', async () => {
      const { db, cleanup } = await migratedDb(backend);
      try {
        const fleet = await siteOnLevel1(db);
        await schemaEngine(fleet, identity('ws-admin'), '2.0.0', { steps: [m1, m2, ALL_STEPS[2]!] }).ledger.release('2.0.0');
        // 1.1 cannot upgrade here (no package): the outdated notice, and block although the policy says warn.
        const old = await schemaEngine(fleet, identity('ws-old'), '1.1.0', { policy: 'warn' }).gate.run();
        assert.equal(old.decision.type, 'outdated');
        assert.deepEqual([old.decision.type === 'outdated' && old.decision.policy, old.mayUseDatabase], ['block', false]);
        // Without a claim-level problem the same workstation keeps the configured warn.
        const claimless = await schemaEngine(fleet, identity('ws-old2'), '1.1.0', { policy: 'warn', claim: null }).gate.run();
        assert.deepEqual([claimless.decision.type === 'outdated' && claimless.decision.policy, claimless.mayUseDatabase], ['warn', true]);
        const current = await schemaEngine(fleet, identity('ws-new'), '2.0.0', { policy: 'warn' }).gate.run();
        assert.deepEqual([current.decision.type, current.mayUseDatabase], ['proceed', true]);
        // I = R but the database is beyond what I works on (moved by hand): blocked with E_SCHEMA_LEVEL.
        await db.knex('lockstep_schema_level').update({ level: 4 });
        const beyond = await schemaEngine(fleet, identity('ws-new'), '2.0.0', { policy: 'warn' }).gate.run();
        assert.equal(beyond.decision.type, 'outdated');
        if (beyond.decision.type === 'outdated') assert.deepEqual([beyond.decision.policy, beyond.decision.reason?.code, beyond.decision.reason?.details], ['block', 'E_SCHEMA_LEVEL', { version: '2.0.0', level: 4, works: '3' }]);
        assert.equal(mayUseDatabase(beyond.decision), false);
      } finally {
        await cleanup();
      }
    });

    test('a process that installed another version since it read its schema setup never lends that setup to the new version', async () => {
      const { db, cleanup } = await migratedDb(backend);
      try {
        const vendor = generateKeyPair();
        const signer = signerFromPem(vendor.privateKeyPem);
        const fleet = await siteOnLevel1(db);
        await schemaEngine(fleet, identity('ws-tester'), '2.0.0').gate.answer('no'); // 2.0.0 recorded as a test installation
        await storeSignedManifest(db, '2.0.0', CLAIMS['2.0.0']!, signer);
        const before = await dumpDatabase(db);
        // Opened on 1.1.0 (its claim works 1–2 and brings 2, its migrations at hand); then 2.0.0 was installed in
        // the same process, which has not restarted.
        let installed = '1.1.0';
        const ledger = new Ledger(fleet, identity('ws-admin'), new MemoryLogger(), {
          channel: 'stable',
          schema: { claim: CLAIMS['1.1.0']!, migrations: sourceOf(ALL_STEPS), version: '1.1.0' },
          installed: { installedVersion: () => parseVersion(installed) },
          migration: { ...DEFAULT_MIGRATION_SETTINGS, backup: false },
          trustedKeys: [vendor.publicKey],
        });
        installed = '2.0.0';
        // 2.0.0's own signed claim (works on 3 only) needs migrations this setup does not hold for it.
        await assert.rejects(ledger.release('2.0.0'), (err) => isLockstepError(err, 'E_SCHEMA_NEEDS_INSTALL'));
        assert.deepEqual(await dumpDatabase(db), before, 'nothing migrated with 1.1.0\'s steps in 2.0.0\'s name');
        assert.equal((await fleet.releases.current('stable'))?.release?.version, '1.0.0');
      } finally {
        await cleanup();
      }
    });

    test('withdraw after a migration: refused to a version that does not work on the level, allowed to one that does; a changed claim is refused', async () => {
      const { db, cleanup } = await migratedDb(backend);
      try {
        const vendor = generateKeyPair();
        const signer = signerFromPem(vendor.privateKeyPem);
        const trustedKeys = [vendor.publicKey];
        const fleet = await siteOnLevel1(db);
        await schemaEngine(fleet, identity('ws-admin'), '1.1.0', { trustedKeys }).ledger.release('1.1.0');
        await storeSignedManifest(db, '1.1.0', CLAIMS['1.1.0']!, signer);
        await schemaEngine(fleet, identity('ws-admin'), '2.0.0', { trustedKeys }).ledger.release('2.0.0');
        await storeSignedManifest(db, '2.0.0', CLAIMS['2.0.0']!, signer);
        const admin = schemaEngine(fleet, identity('ws-admin'), '2.0.0', { trustedKeys });
        const before = await dumpDatabase(db);
        await assert.rejects(admin.ledger.withdraw('2.0.0'), (e: unknown) => isLockstepError(e, 'E_SCHEMA_LEVEL') && e.details['version'] === '1.1.0' && e.details['level'] === 3 && e.details['works'] === '1–2');
        assert.deepEqual(await dumpDatabase(db), before, 'nothing withdrawn');
        // 2.1 (works on 3, migrates nothing) is released from an administrator running 2.0: its stored claim counts.
        await schemaEngine(fleet, identity('ws-admin'), '2.1.0', { trustedKeys }).ledger.release('2.1.0');
        await storeSignedManifest(db, '2.1.0', CLAIMS['2.1.0']!, signer);
        const back = await admin.ledger.withdraw('2.1.0');
        assert.equal(back.current?.version, '2.0.0');
        // A database writer widens 1.1's claim to "works 1–3" without the vendor's key: refused, fail closed.
        // (The administrator runs 2.1 now, so 2.0's claim comes from the database, not from its own installation.)
        const admin21 = schemaEngine(fleet, identity('ws-admin'), '2.1.0', { trustedKeys });
        await admin21.ledger.release('2.1.0');
        await storeSignedManifest(db, '2.0.0', CLAIMS['2.0.0']!, signer, (s) => { s['schema'] = { works: { min: 3, max: 4 }, brings: 3 }; });
        await assert.rejects(admin21.ledger.withdraw('2.1.0'), (e: unknown) => isLockstepError(e, 'E_SIGNATURE'));
        assert.equal((await fleet.releases.current('stable'))?.release?.version, '2.1.0');
      } finally {
        await cleanup();
      }
    });
  });
}
