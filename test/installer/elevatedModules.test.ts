/**
 * Modules the user cannot write, installed for real through the same elevation as the app (S6 with S9/S18): a user
 * created for the test, a root-owned install folder holding the app and its modules, `lockstep install-update` run
 * through runuser with the app step and a module package; and the privileged helper called directly with module
 * packages the vendor did not sign as they are. Runs as root on Linux (CI does).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RealUser, canRunRealUserSuite, createUser, helperResult, runAs, sudoHelper } from './support/realUser';
import { TreeFile, appTree, makeTarGz, machineFixture, openTempDir, treeHash, writeTree } from './support/fixtures';
import { downloadJson, moduleBytes, moduleManifestFor, modulePackage } from './support/modules';
import { newSigner, signedFor } from './support/vendor';

assert.ok(canRunRealUserSuite(), 'The real-user installer suite needs root on Linux with useradd, chpasswd, visudo, runuser, sudo and strace: run .ci/setup-installer.sh as root.');

const fixtures: string[] = [];
let user: RealUser;
before(() => {
  user = createUser();
});
after(() => {
  user.remove();
  for (const f of fixtures) fs.rmSync(f, { recursive: true, force: true });
});

const oldModules: TreeFile[] = [
  { path: 'lockstep-modules.json', content: JSON.stringify({ charts: '3.0', reports: '1.0.0' }) },
  { path: 'modules/reports/reports-1.0.0.module', content: moduleBytes('reports', '1.0.0') },
  { path: 'modules/charts/charts-3.0.module', content: moduleBytes('charts', '3.0') },
  { path: 'modules/charts/lang/de.txt', content: 'Diagramme' },
];

/** A root-owned install folder with version 1.0.0 and two modules; the download cache is the user's. */
function fixture(opts: { newApp?: TreeFile[] } = {}) {
  const fx = machineFixture({ user, installed: appTree('1.0.0', oldModules) });
  fixtures.push(fx.root);
  const cache = path.join(fx.root, 'cache');
  fs.mkdirSync(cache, { mode: 0o755 });
  fs.chownSync(cache, user.uid, 0);
  // Rewritten in place: the helper reads the same file through its hard link.
  const config = JSON.parse(fs.readFileSync(fx.configPath, 'utf8'));
  fs.writeFileSync(fx.configPath, JSON.stringify({ ...config, feed: { ...config.feed, cacheDir: cache } }, null, 2));
  const pkg = makeTarGz(fx.packages, 'app-2.0.0.tar.gz', opts.newApp ?? appTree('2.0.0'));
  return { ...fx, cache, pkg };
}

/** The tree as root writes it (0644 files, 0755 folders, owner 0:0). */
function expectedTree(files: readonly TreeFile[]): { hash: string; listing: string[] } {
  const dir = openTempDir('lockstep-expected-');
  fixtures.push(dir);
  writeTree(path.join(dir, 't'), files);
  return treeHash(path.join(dir, 't'));
}

function helperLog(stateDir: string, event: string): Array<Record<string, unknown>> {
  return fs
    .readFileSync(path.join(stateDir, 'apply.log'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => e['event'] === event);
}

function events(stateDir: string, name: string): number {
  return helperLog(stateDir, name).length;
}

describe('modules the user cannot write go through the app\'s elevation', () => {
  test('root-owned install folder with modules: one sudo session installs the app and the module, carries the other, root-owned 0644/0755', async () => {
    const fx = fixture();
    const reports = modulePackage(fx.packages, 'reports', '1.1.0', '>=2.0.0 <3.0.0');
    const run = await runAs(user, ['install-update', '--manifest', downloadJson(fx.packages, [{ pkg: fx.pkg, version: '2.0.0' }], [reports]), '--password-stdin', '--config', fx.configPath], user.password + '\n');
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.deepEqual({ installed: run.json['installed'], from: run.json['from'], elevation: run.json['elevation'], modules: run.json['modules'] }, { installed: '2.0.0', from: '1.0.0', elevation: 'sudo', modules: { charts: '3.0', reports: '1.1.0' } });

    const expected = expectedTree([
      ...appTree('2.0.0'),
      { path: 'lockstep-modules.json', content: JSON.stringify({ charts: '3.0', reports: '1.1.0' }, null, 2) + '\n' },
      { path: 'modules/reports/reports-1.1.0.module', content: moduleBytes('reports', '1.1.0') },
      { path: 'modules/charts/charts-3.0.module', content: moduleBytes('charts', '3.0') },
      { path: 'modules/charts/lang/de.txt', content: 'Diagramme' },
    ]);
    const installed = treeHash(fx.installDir);
    assert.deepEqual(installed.listing, expected.listing);
    assert.ok(installed.listing.filter((l) => l.startsWith('modules/')).every((l) => / (644|755) 0:0$/.test(l)), installed.listing.join('\n'));
    assert.deepEqual(fs.readFileSync(path.join(fx.installDir, 'modules/reports/reports-1.1.0.module')), fs.readFileSync(reports.file));

    // One helper run did both: one install started, the modules placed within it; the old modules are in its backup.
    assert.equal(events(fx.stateDir, 'apply.start'), 1);
    assert.equal(events(fx.stateDir, 'apply.modules-placed'), 1);
    assert.deepEqual(helperLog(fx.stateDir, 'apply.start').map((e) => e['modules']), [['reports@1.1.0']]);
    const journal = JSON.parse(fs.readFileSync(path.join(fx.stateDir, 'journal.json'), 'utf8'));
    assert.equal(journal.phase, 'awaiting-health');
    assert.equal('modules' in journal.request, false, 'the journal keeps the shape an older Lockstep reads');
    const backup = path.join(fx.stateDir, 'backups', journal.request.id);
    assert.deepEqual(fs.readFileSync(path.join(backup, 'modules/reports/reports-1.0.0.module')), moduleBytes('reports', '1.0.0'));
    assert.equal(fs.existsSync(path.join(fx.cache, 'module-install')), false, 'the pending record is cleaned up');
  });

  test('only the modules folder is root-owned (the user may write the install and state folders): the app goes through the helper with it', async () => {
    const fx = fixture();
    // Without the modules the user could install in-process: the install folder and the state folder's parent are theirs.
    execFileSync('chown', [`${user.uid}:0`, path.dirname(fx.installDir)]);
    execFileSync('chown', ['-R', `${user.uid}:0`, fx.installDir]);
    execFileSync('chown', ['-R', '0:0', path.join(fx.installDir, 'modules')]);
    const reports = modulePackage(fx.packages, 'reports', '1.1.0', '>=2.0.0');
    const run = await runAs(user, ['install-update', '--manifest', downloadJson(fx.packages, [{ pkg: fx.pkg, version: '2.0.0' }], [reports]), '--password-stdin', '--config', fx.configPath], user.password + '\n');
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.equal(run.json['elevation'], 'sudo');
    assert.deepEqual(run.json['modules'], { charts: '3.0', reports: '1.1.0' });
    assert.deepEqual(fs.readFileSync(path.join(fx.installDir, 'modules/reports/reports-1.1.0.module')), moduleBytes('reports', '1.1.0'));
    assert.equal(fs.existsSync(path.join(fx.installDir, 'modules/reports/reports-1.0.0.module')), false);
    const st = fs.statSync(path.join(fx.installDir, 'modules/reports/reports-1.1.0.module'));
    assert.deepEqual([st.uid, st.mode & 0o7777], [0, 0o644]);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(fx.installDir, 'lockstep-modules.json'), 'utf8')), { charts: '3.0', reports: '1.1.0' });
  });

  test('a chain of two elevated steps: the modules are carried across the stepping stone and updated with the last step', async () => {
    const fx = fixture();
    const stone = makeTarGz(fx.packages, 'app-1.5.0.tar.gz', appTree('1.5.0'));
    const reports = modulePackage(fx.packages, 'reports', '1.1.0', '>=2.0.0');
    const steps = [{ pkg: stone, version: '1.5.0' }, { pkg: fx.pkg, version: '2.0.0' }];
    const run = await runAs(user, ['install-update', '--manifest', downloadJson(fx.packages, steps, [reports]), '--password-stdin', '--config', fx.configPath], user.password + '\n');
    assert.equal(run.code, 0, run.stdout + run.stderr);
    assert.deepEqual([run.json['installed'], run.json['from'], run.json['modules']], ['2.0.0', '1.0.0', { charts: '3.0', reports: '1.1.0' }]);
    assert.deepEqual(fs.readFileSync(path.join(fx.installDir, 'modules/reports/reports-1.1.0.module')), moduleBytes('reports', '1.1.0'));
    assert.deepEqual(fs.readFileSync(path.join(fx.installDir, 'modules/charts/lang/de.txt'), 'utf8'), 'Diagramme');
    assert.equal(events(fx.stateDir, 'apply.modules-placed'), 2, 'both steps carried the modules');
  });

  test('a module that cannot be placed reverts the app too: E_INSTALL_FAILED, the install folder byte-identical', async () => {
    // The new app package holds a file where the modules folder must go.
    const fx = fixture({ newApp: appTree('2.0.0', [{ path: 'modules', content: 'not a folder' }]) });
    const reports = modulePackage(fx.packages, 'reports', '1.1.0', '>=2.0.0');
    const beforeTree = treeHash(fx.installDir);
    const run = await runAs(user, ['install-update', '--manifest', downloadJson(fx.packages, [{ pkg: fx.pkg, version: '2.0.0' }], [reports]), '--password-stdin', '--config', fx.configPath], user.password + '\n');
    assert.equal(run.json.error?.code, 'E_INSTALL_FAILED', run.stdout + run.stderr);
    assert.deepEqual(treeHash(fx.installDir).listing, beforeTree.listing);
    const journal = JSON.parse(fs.readFileSync(path.join(fx.stateDir, 'journal.json'), 'utf8'));
    assert.equal(journal.phase, 'reverted');
  });

  test('the helper itself refuses module packages the vendor did not sign as they are: changed bytes E_CHECKSUM, own signature E_SIGNATURE', async () => {
    const fx = fixture();
    const beforeTree = treeHash(fx.installDir);
    const direct = async (name: string, module: { file: string; manifest: { text: string; signature: string } }) => {
      const request = path.join(fx.packages, `${name}.json`);
      const body = { id: `module-tamper-${name}`, kind: 'portable', packagePath: fx.pkg, toVersion: '2.0.0', manifest: signedFor(fx.pkg, '2.0.0'), modules: { update: [{ id: 'reports', packagePath: module.file, manifest: module.manifest }] } };
      fs.writeFileSync(request, JSON.stringify(body), { mode: 0o644 });
      return helperResult((await sudoHelper(user, ['--request', request], user.password)).stdout);
    };

    // Signed, then one byte changed (same name, same size): what a swap after the unprivileged check looks like.
    const changed = modulePackage(fx.packages, 'reports', '1.1.0', '>=2.0.0');
    const bytes = fs.readFileSync(changed.file);
    bytes[bytes.length >> 1]! ^= 0xff;
    fs.writeFileSync(changed.file, bytes);
    const r1 = await direct('changed', changed);
    assert.equal(r1.error?.code, 'E_CHECKSUM', JSON.stringify(r1));
    assert.deepEqual(treeHash(fx.installDir).listing, beforeTree.listing);
    assert.equal(JSON.parse(fs.readFileSync(path.join(fx.stateDir, 'journal.json'), 'utf8')).phase, 'failed');
    assert.deepEqual(fs.readdirSync(path.join(fx.stateDir, 'staging')), []);

    // The same changed bytes with a manifest the user signed with a key of their own.
    const own = { file: changed.file, manifest: moduleManifestFor(changed.file, 'reports', '1.1.0', '>=2.0.0', newSigner()) };
    const r2 = await direct('own-key', own);
    assert.equal(r2.error?.code, 'E_SIGNATURE', JSON.stringify(r2));
    assert.deepEqual(treeHash(fx.installDir).listing, beforeTree.listing);

    // A vendor-signed module of another id cannot be placed under this one's name.
    const charts = modulePackage(fx.packages, 'charts', '3.1', '>=2.0.0');
    const r3 = await direct('other-id', charts);
    assert.equal(r3.error?.code, 'E_SIGNATURE', JSON.stringify(r3));
    assert.deepEqual(treeHash(fx.installDir).listing, beforeTree.listing);
  });
});
