/**
 * The block map `feed add` publishes beside each installer: electron-builder's own `<installer>.blockmap` when it lies
 * beside the installer (checked to describe exactly that installer), else one computed in the same format with
 * Lockstep's content-defined chunker. Its name, size and SHA-512 go into the signed manifest entry of the installer,
 * so a workstation verifies it before parsing it.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError } from '../contract/errors';
import { BlockMapError, blockMapName, computeBlockMap, encodeBlockMap, parseBlockMap } from '../kernel/blockMap';
import { ManifestFile } from '../kernel/catalogSchema';
import { openRegularNoFollow } from '../kernel/noFollowFile';

export type SignedBlockMap = NonNullable<ManifestFile['blockMap']>;

/** Writes `<feedDir>/<name>.blockmap` for the installer already copied to `<feedDir>/<name>` (`size` bytes). */
export async function publishBlockMap(installer: string, feedDir: string, name: string, size: number): Promise<SignedBlockMap> {
  const mapName = blockMapName(name);
  const beside = `${installer}.blockmap`;
  let bytes: Buffer;
  if (fs.existsSync(beside)) {
    bytes = fs.readFileSync(beside);
    try {
      parseBlockMap(bytes, size);
    } catch (err) {
      if (!(err instanceof BlockMapError)) throw err;
      throw new LockstepError('E_USAGE', `${beside} does not describe ${path.basename(installer)}: ${err.message}. Delete it (Lockstep then computes one) or build both again.`, { file: beside });
    }
  } else {
    const opened = openRegularNoFollow(path.join(feedDir, name));
    try {
      bytes = encodeBlockMap(await computeBlockMap(opened.fd));
    } finally {
      fs.closeSync(opened.fd);
    }
  }
  const target = path.join(feedDir, mapName);
  if (path.resolve(beside) !== path.resolve(target)) {
    fs.writeFileSync(`${target}.tmp`, bytes);
    fs.renameSync(`${target}.tmp`, target);
  }
  return { name: mapName, size: bytes.length, sha512: createHash('sha512').update(bytes).digest('base64') };
}
