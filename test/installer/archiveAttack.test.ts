/**
 * Root never unpacks what it has not verified, and never follows a link a package made — for real: a user whom
 * sudoers allows the privileged helper submits a crafted .tar.gz (`d -> .`, then `esc -> d/d/d/d/d/../../../../../secret`,
 * which normalises inside the package but resolves to a root-owned 0700 folder five levels up from the staging tree,
 * then a folder entry `esc` whose final chmod 0755 would follow the link). Under a genuine vendor manifest of another
 * file of that name it is refused by its checksum before a single entry is unpacked; signed by the vendor itself (a
 * vendor build gone wrong, a stolen key) the unpacker refuses it. Either way the outside folder stays 0700 and the
 * install folder byte-identical. Runs as root on Linux.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RealUser, canRunRealUserSuite, createUser, helperResult, sudoHelper } from './support/realUser';
import { MachineFixture, appTree, machineFixture, makeTarGz, openTempDir, treeHash } from './support/fixtures';
import { CraftedEntry, craftTarGz } from './support/craftedArchive';
import { signedFor } from './support/vendor';

assert.ok(canRunRealUserSuite(), 'The real-user installer suite needs root on Linux with useradd, chpasswd, visudo, runuser, sudo and strace: run .ci/setup-installer.sh as root.');

const cleanups: string[] = [];
let user: RealUser;
before(() => {
  user = createUser();
});
after(() => {
  user.remove();
  for (const c of cleanups) fs.rmSync(c, { recursive: true, force: true });
});

/** The fixture plus <root>/secret: root-owned, 0700, five levels above <state>/staging/<id>/tree. */
function scene(): { fx: MachineFixture; secret: string; crafted: string } {
  const fx = machineFixture({ user, installed: appTree('1.0.0') });
  cleanups.push(fx.root);
  const secret = path.join(fx.root, 'secret');
  fs.mkdirSync(secret, { mode: 0o700 });
  fs.chmodSync(secret, 0o700);
  fs.writeFileSync(path.join(secret, 'root-only'), 'root only', { mode: 0o600 });
  const entries: CraftedEntry[] = [
    { type: 'file', name: 'lockstep-version.json', content: '{"version":"2.0.0"}\n' },
    { type: 'link', name: 'd', target: '.' },
    { type: 'link', name: 'esc', target: 'd/d/d/d/d/../../../../../secret' },
    { type: 'dir', name: 'esc' },
  ];
  const crafted = path.join(fx.packages, 'app-2.0.0.tar.gz'); // the user's own file, under the signed name
  fs.writeFileSync(crafted, craftTarGz(entries), { mode: 0o644 });
  fs.chownSync(crafted, user.uid, 0);
  return { fx, secret, crafted };
}

function requestFile(fx: MachineFixture, id: string, body: Record<string, unknown>): string {
  const file = path.join(fx.packages, `${id}.json`);
  fs.writeFileSync(file, JSON.stringify({ id, kind: 'portable', toVersion: '2.0.0', ...body }), { mode: 0o644 });
  return file;
}

function outcome(fx: MachineFixture, secret: string): { secretMode: string; staging: string[] } {
  const staging = path.join(fx.stateDir, 'staging');
  return { secretMode: (fs.lstatSync(secret).mode & 0o7777).toString(8), staging: fs.existsSync(staging) ? fs.readdirSync(staging) : [] };
}

describe('the privileged helper unpacks only verified bytes, and never through a link (S18)', () => {
  test('a crafted archive under a genuine manifest of another file: E_CHECKSUM before unpacking, the 0700 folder outside untouched', async () => {
    const { fx, secret, crafted } = scene();
    const vendorDir = openTempDir('lockstep-vendor-');
    cleanups.push(vendorDir);
    const genuine = makeTarGz(vendorDir, 'app-2.0.0.tar.gz', appTree('2.0.0'));
    const installed = treeHash(fx.installDir).hash;
    const outside = treeHash(secret).hash;

    const result = helperResult((await sudoHelper(user, ['--request', requestFile(fx, 'crafted-000001', { packagePath: crafted, manifest: signedFor(genuine, '2.0.0') })], user.password)).stdout);
    assert.deepEqual(outcome(fx, secret), { secretMode: '700', staging: [] });
    assert.equal(treeHash(secret).hash, outside);
    assert.equal(treeHash(fx.installDir).hash, installed);
    assert.equal(result.error?.code, 'E_CHECKSUM', JSON.stringify(result));
  });

  test('the same archive signed by the vendor: the unpacker refuses the link chain (E_INSTALL_FAILED), nothing changed', async () => {
    const { fx, secret, crafted } = scene();
    const installed = treeHash(fx.installDir).hash;
    const outside = treeHash(secret).hash;

    const result = helperResult((await sudoHelper(user, ['--request', requestFile(fx, 'crafted-000002', { packagePath: crafted, manifest: signedFor(crafted, '2.0.0') })], user.password)).stdout);
    assert.deepEqual(outcome(fx, secret), { secretMode: '700', staging: [] });
    assert.equal(treeHash(secret).hash, outside);
    assert.equal(treeHash(fx.installDir).hash, installed);
    assert.equal(result.error?.code, 'E_INSTALL_FAILED', JSON.stringify(result));
    assert.match(result.error!.message, /unsafe entry "esc"/);
  });

  test('a link named as the package: refused, never read through', async () => {
    const { fx, crafted } = scene();
    const installed = treeHash(fx.installDir).hash;
    const viaLink = path.join(fx.packages, 'link', 'app-2.0.0.tar.gz');
    fs.mkdirSync(path.dirname(viaLink));
    fs.symlinkSync(crafted, viaLink);
    const linked = helperResult((await sudoHelper(user, ['--request', requestFile(fx, 'linked-000001', { packagePath: viaLink, manifest: signedFor(crafted, '2.0.0') })], user.password)).stdout);
    assert.equal(linked.error?.code, 'E_USAGE', JSON.stringify(linked));
    assert.equal(treeHash(fx.installDir).hash, installed);
  });
});
