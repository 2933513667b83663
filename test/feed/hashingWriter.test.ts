/**
 * The download writer that hashes on a worker thread: every byte in order across slab boundaries, a kept prefix
 * re-hashed after a restart of the process (and anything after it cut), `restart` for a server that ignores Range, and
 * a real full disk (a 1 MB tmpfs) ending in E_DISK_FULL with the part file still an exact prefix of the download.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, test } from 'node:test';
import { isLockstepError } from '../../contract/errors';
import { HashingWriter } from '../../engine/feed/hashingWriter';
import { tempDir } from '../helpers/backends';
import { feedFixture, linuxInstaller } from './fixture';

const sha512 = (b: Buffer) => createHash('sha512').update(b).digest('base64');

/** Appends `data` in uneven pieces (1 byte … 300 KB), as sockets deliver it. */
function appendUnevenly(writer: HashingWriter, data: Buffer): void {
  for (let off = 0, i = 0; off < data.length; i++) {
    const n = Math.min(data.length - off, [1, 65_536, 300_000, 7, 4 * 1024 * 1024 + 3][i % 5]!);
    writer.append(data.subarray(off, off + n));
    off += n;
  }
}

describe('hashing writer', () => {
  test('every byte in order across slabs; a kept prefix is re-hashed and what follows it cut; restart starts over', async () => {
    const dir = tempDir('lockstep-writer-');
    try {
      const data = randomBytes(13 * 1024 * 1024 + 17);
      const file = path.join(dir, 'x.part');
      const first = await HashingWriter.open(file, 0);
      appendUnevenly(first, data);
      assert.equal(await first.digest(), sha512(data));
      await first.close();
      assert.ok(fs.readFileSync(file).equals(data));

      // A new process finds 5 MB + 3 of good bytes followed by junk: the junk goes, the prefix is hashed again.
      const keep = 5 * 1024 * 1024 + 3;
      fs.writeFileSync(file, Buffer.concat([data.subarray(0, keep), Buffer.alloc(1000, 0x41)]));
      const second = await HashingWriter.open(file, keep);
      assert.equal(second.bytes, keep);
      appendUnevenly(second, data.subarray(keep));
      await second.flush();
      assert.ok(fs.readFileSync(file).equals(data));
      assert.equal(await second.digest(), sha512(data));

      await second.restart();
      assert.equal(fs.statSync(file).size, 0);
      second.append(data.subarray(0, 1000));
      assert.equal(await second.digest(), sha512(data.subarray(0, 1000)));
      await second.close();
      assert.ok(fs.readFileSync(file).equals(data.subarray(0, 1000)));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a full disk during a download gives E_DISK_FULL; the part file is an exact prefix and nothing was handed on', async () => {
    const fx = await feedFixture({ installerBytes: 3 * 1024 * 1024 });
    const mnt = path.join(fx.dir, 'small-disk');
    fs.mkdirSync(mnt);
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
    assert.equal(mounted.status, 0, `mount tmpfs: ${mounted.stderr}`);
    try {
      fx.setFeed({ cacheDir: mnt });
      const service = await fx.service();
      await service.check();
      await assert.rejects(service.download('1.1.0'), (err) => isLockstepError(err, 'E_DISK_FULL') && (err.details as { path: string }).path.startsWith(mnt));
      const partial = path.join(mnt, 'partial');
      const part = fs.readdirSync(partial).find((f) => f.endsWith('.part'))!;
      const bytes = fs.readFileSync(path.join(partial, part));
      assert.ok(bytes.length > 0 && bytes.length < 1024 * 1024, `part file has ${bytes.length} bytes`);
      assert.ok(bytes.equals(fx.server.file(linuxInstaller('1.1.0')).subarray(0, bytes.length)), 'the part file is a prefix of the real file');
      assert.equal(fs.existsSync(path.join(mnt, 'downloads', linuxInstaller('1.1.0'))), false);
    } finally {
      spawnSync('umount', ['-l', mnt]);
      await fx.cleanup();
    }
  });
});
