/**
 * The packaged migrations a workstation runs (engine/clientSchema): each file is read once without following a link,
 * checked against the SHA-512 signed in the claim and compiled from those very bytes. A file changed after signing or
 * swapped for a link is E_SIGNATURE naming it, before any step runs; a file swapped after the check changes nothing.
 * Run on SQLite and PostgreSQL with the example client's real migrations.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { isLockstepError } from '../../contract/errors';
import { buildSchemaClaim } from '../../authoring/schemaClaimWriter';
import { InstalledMigrationSource } from '../../engine/clientSchema/migrationSource';
import type { ClientMigrationSource, SchemaClaim } from '../../kernel/schemaClaim';
import { backends, tempDir } from '../helpers/backends';
import { EXAMPLE } from '../example/support/packedExample';
import { dumpClientSchema } from './support/dump';
import type { Knex } from 'knex';

/** An install folder with the example's migrations (up to `upTo`) under resources/migrations, and their signed claim. */
function installWith(upTo: number): { resources: string; folder: string; claim: SchemaClaim } {
  const resources = tempDir('lockstep-resources-');
  const folder = path.join(resources, 'migrations');
  fs.mkdirSync(folder);
  for (const name of fs.readdirSync(path.join(EXAMPLE, 'migrations'))) if (Number(name.slice(0, 4)) <= upTo) fs.copyFileSync(path.join(EXAMPLE, 'migrations', name), path.join(folder, name));
  return { resources, folder, claim: buildSchemaClaim({ works: String(upTo), brings: upTo, migrationsDir: folder }) };
}

async function runAll(knex: Knex, source: ClientMigrationSource, from: number, to: number): Promise<string[]> {
  const steps = await source.stepsBetween(from, to);
  await knex.transaction(async (tx) => {
    for (const s of steps) await s.up(tx);
  });
  return steps.map((s) => `${s.level}:${s.name}`);
}

function signatureError(file: string, why: RegExp) {
  return (e: unknown) => isLockstepError(e, 'E_SIGNATURE') && (e as Error).message.includes(file) && why.test(String((e as unknown as { details: { why: string } }).details.why));
}

for (const backend of backends().filter((b) => b.name !== 'mssql')) {
  describe(`packaged client migrations on ${backend.name}`, () => {
    const cleanups: Array<() => Promise<void> | void> = [];
    after(async () => {
      for (const c of cleanups.reverse()) await c();
    });
    async function database(): Promise<Knex> {
      const tdb = await backend.create();
      const db = await tdb.open();
      cleanups.push(() => tdb.drop(), () => db.close());
      return db.knex;
    }

    test('the verified files bring an empty database to level 3 step by step, the example’s rows carried along', async () => {
      const knex = await database();
      const { resources, claim } = installWith(3);
      const source = new InstalledMigrationSource(claim, resources);
      assert.deepEqual(await runAll(knex, source, 0, 2), ['1:0001_create_customers.js', '2:0002_add_email.js']);
      await knex('customer_list_customers').insert([{ name: 'Müller GmbH', city: 'Bremen', created_at: 'x', email: null }, { name: 'Atelier Dubois', city: 'Lyon', created_at: 'y', email: 'a@d.fr' }]);
      assert.deepEqual(await runAll(knex, source, 2, 3), ['3:0003_company_and_number.js']);
      const rows = (await dumpClientSchema(knex)).tables['customer_list_customers']!.rows;
      assert.deepEqual(rows, [
        { id: 1, company: 'Müller GmbH', city: 'Bremen', created_at: 'x', email: null, customer_number: 'K-00001' },
        { id: 2, company: 'Atelier Dubois', city: 'Lyon', created_at: 'y', email: 'a@d.fr', customer_number: 'K-00002' },
      ]);
      assert.deepEqual(await source.stepsBetween(3, 3), [], 'nothing to do at the level it brings');
    });

    test('a file changed after signing: E_SIGNATURE naming it, no step runs, the database is unchanged', async () => {
      const knex = await database();
      const { resources, folder, claim } = installWith(3);
      await runAll(knex, new InstalledMigrationSource(claim, resources), 0, 1);
      const before = await dumpClientSchema(knex);
      // One byte, in a comment: the code would still run, and would do the same — only the signature says it changed.
      const file = path.join(folder, '0003_company_and_number.js');
      const bytes = fs.readFileSync(file);
      bytes[3] = bytes[3] === 0x4c ? 0x6c : 0x4c;
      fs.writeFileSync(file, bytes);
      await assert.rejects(runAll(knex, new InstalledMigrationSource(claim, resources), 1, 3), signatureError('0003_company_and_number.js', /SHA-512 differs/));
      assert.deepEqual(await dumpClientSchema(knex), before, 'step 2 was not run although its own file is intact');
    });

    test('a file swapped for a symbolic link (to the very same bytes) is refused: the link is not what the vendor shipped', async () => {
      const knex = await database();
      const { resources, folder, claim } = installWith(2);
      const elsewhere = path.join(tempDir('lockstep-planted-'), '0002_add_email.js');
      fs.renameSync(path.join(folder, '0002_add_email.js'), elsewhere);
      fs.symlinkSync(elsewhere, path.join(folder, '0002_add_email.js'));
      const before = await dumpClientSchema(knex);
      await assert.rejects(runAll(knex, new InstalledMigrationSource(claim, resources), 0, 2), signatureError('0002_add_email.js', /symbolic link/));
      assert.deepEqual(await dumpClientSchema(knex), before);
      fs.rmSync(path.join(folder, '0002_add_email.js'));
      await assert.rejects(runAll(knex, new InstalledMigrationSource(claim, resources), 0, 2), signatureError('0002_add_email.js', /missing/));
    });

    test('the file is compiled from the verified bytes: replacing it after the check runs nothing of the replacement', async () => {
      const knex = await database();
      const { resources, folder, claim } = installWith(2);
      const steps = await new InstalledMigrationSource(claim, resources).stepsBetween(0, 2);
      fs.writeFileSync(path.join(folder, '0002_add_email.js'), "exports.up = async (knex) => { await knex.schema.createTable('planted', (t) => { t.increments('id'); }); };\n");
      await knex.transaction(async (tx) => {
        for (const s of steps) await s.up(tx);
      });
      const dump = await dumpClientSchema(knex);
      assert.deepEqual(Object.keys(dump.tables), ['customer_list_customers']);
      assert.ok('email' in dump.tables['customer_list_customers']!.columns, 'the signed step ran');
    });

    test('migrations the host registers in code fill the levels the package has no file for; a missing one is named', async () => {
      const knex = await database();
      const { resources, claim } = installWith(1);
      const registered = [{ name: 'add-email', level: 2, up: async (tx: Knex.Transaction) => void (await tx.schema.alterTable('customer_list_customers', (t) => void t.string('email', 200).nullable())) }];
      const source = new InstalledMigrationSource(claim, resources, registered);
      assert.deepEqual(await runAll(knex, source, 0, 2), ['1:0001_create_customers.js', '2:add-email']);
      await assert.rejects(source.stepsBetween(2, 3), (e: unknown) => isLockstepError(e) && (e as unknown as { details: { level: number } }).details.level === 3);
      assert.throws(() => new InstalledMigrationSource(claim, resources, [...registered, { ...registered[0]!, name: 'again' }]), (e: unknown) => isLockstepError(e, 'E_USAGE') && /one migration per level/.test((e as Error).message));
    });
  });
}
