/**
 * `lockstep feed add --schema-works --schema-brings --migrations` as a vendor runs it (real child processes): the claim
 * lands in the signed manifest with every migration file's name, level and SHA-512 and the folder's place in the app,
 * and an inconsistent claim is refused with E_SCHEMA_CLAIM_INVALID before anything is written.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { verifyDocument } from '../../kernel/signing';
import { tempDir } from '../helpers/backends';
import { CLI, runNode } from '../helpers/workstationSim';
import { EXAMPLE } from '../example/support/packedExample';

interface Json {
  code: number;
  body: Record<string, unknown>;
}

async function lockstep(args: string[]): Promise<Json> {
  const r = await runNode(CLI, [...args, '--json']);
  try {
    return { code: r.code, body: JSON.parse(r.stdout) };
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}

/** A vendor's migrations folder holding the example's files up to `upTo`. */
function migrationsUpTo(dir: string, upTo: number): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const name of fs.readdirSync(path.join(EXAMPLE, 'migrations'))) {
    if (Number(name.slice(0, 4)) <= upTo) fs.copyFileSync(path.join(EXAMPLE, 'migrations', name), path.join(dir, name));
  }
  return dir;
}

describe('feed add signs the schema claim', () => {
  let dir: string;
  let key: string;
  before(async () => {
    dir = tempDir('lockstep-schema-feed-');
    assert.equal((await lockstep(['keygen', '--out', path.join(dir, 'vendor')])).code, 0);
    key = path.join(dir, 'vendor.key');
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const add = (version: string, extra: string[]) => {
    const installer = path.join(dir, `Customer-List-${version}.tar.gz`);
    fs.writeFileSync(installer, `the package of ${version}`);
    return lockstep(['feed', 'add', installer, '--version', version, '--feed', path.join(dir, 'feed'), '--key', key, ...extra]);
  };

  test('works, brings, the folder and every file with its level and SHA-512 are in the signed manifest', async () => {
    const folder = migrationsUpTo(path.join(dir, 'm2', 'migrations'), 2);
    const r = await add('1.1.0', ['--schema-works', '1-2', '--schema-brings', '2', '--migrations', folder, '--migrations-folder', 'db/migrations']);
    assert.equal(r.code, 0, JSON.stringify(r.body));
    const catalog = JSON.parse(fs.readFileSync(path.join(dir, 'feed', 'catalog.json'), 'utf8'));
    const manifest = catalog.signed.versions[0].manifest;
    verifyDocument(manifest, [fs.readFileSync(path.join(dir, 'vendor.pub'), 'utf8')], 'manifest');
    const sha = (f: string) => createHash('sha512').update(fs.readFileSync(path.join(folder, f))).digest('base64');
    assert.deepEqual(manifest.signed.schema, {
      works: { min: 1, max: 2 },
      brings: 2,
      migrations: {
        folder: 'db/migrations',
        files: [
          { name: '0001_create_customers.js', level: 1, sha512: sha('0001_create_customers.js') },
          { name: '0002_add_email.js', level: 2, sha512: sha('0002_add_email.js') },
        ],
      },
    });
    assert.deepEqual(r.body['schema'], manifest.signed.schema, 'the command reports what it signed');
  });

  test('a claim without a folder (migrations registered in code) signs works and brings only', async () => {
    const r = await add('1.2.0', ['--schema-works', '2', '--schema-brings', '2']);
    assert.equal(r.code, 0, JSON.stringify(r.body));
    assert.deepEqual(r.body['schema'], { works: { min: 2, max: 2 }, brings: 2, migrations: null });
  });

  test('inconsistent claims are refused with a coded error and the catalog stays as it was', async () => {
    const before = fs.readFileSync(path.join(dir, 'feed', 'catalog.json'));
    const full = migrationsUpTo(path.join(dir, 'm3', 'migrations'), 3);
    const gap = migrationsUpTo(path.join(dir, 'gap', 'migrations'), 3);
    fs.rmSync(path.join(gap, '0002_add_email.js'));
    const stray = migrationsUpTo(path.join(dir, 'stray', 'migrations'), 2);
    fs.writeFileSync(path.join(stray, 'notes.txt'), 'not a migration');
    const linked = migrationsUpTo(path.join(dir, 'linked', 'migrations'), 1);
    fs.symlinkSync(path.join(full, '0002_add_email.js'), path.join(linked, '0002_add_email.js'));
    const cases: Array<[string, string[], RegExp]> = [
      ['brings outside works', ['--schema-works', '1-2', '--schema-brings', '3'], /outside the levels it works on/],
      ['a file the claim does not cover', ['--schema-works', '1-2', '--schema-brings', '2', '--migrations', full], /0003_company_and_number\.js brings level 3, which the claim does not cover/],
      ['a gap in the levels', ['--schema-works', '3', '--schema-brings', '3', '--migrations', gap], /no migration file brings level 2/],
      ['a missing last step', ['--schema-works', '1-3', '--schema-brings', '3', '--migrations', stray.replace('stray', 'm2')], /no migration file brings level 3/],
      ['a file outside the convention', ['--schema-works', '1-2', '--schema-brings', '2', '--migrations', stray], /notes\.txt does not follow the migration file convention/],
      ['a link instead of a file', ['--schema-works', '1-2', '--schema-brings', '2', '--migrations', linked], /0002_add_email\.js in the migrations folder is not a plain file/],
      ['not a level range', ['--schema-works', '2-1', '--schema-brings', '2'], /is not a range of schema levels/],
    ];
    for (const [what, args, message] of cases) {
      const r = await add('1.3.0', args);
      assert.equal(r.code !== 0, true, what);
      const error = r.body['error'] as { code: string; message: string };
      assert.equal(error.code, 'E_SCHEMA_CLAIM_INVALID', `${what}: ${JSON.stringify(r.body)}`);
      assert.match(error.message, message, what);
    }
    assert.deepEqual(fs.readFileSync(path.join(dir, 'feed', 'catalog.json')), before, 'nothing was signed or written');
    const half = await add('1.3.0', ['--schema-works', '1-2']);
    assert.equal((half.body['error'] as { code: string }).code, 'E_USAGE');
  });
});
