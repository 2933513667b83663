/**
 * A workstation's kept package of its installed (old) version, made the way an install leaves it
 * (engine/keptPackage.ts keep) by moving a hard link of the old package in: a fleet of 100 needs no 100 copies.
 * With `blockList`, the package's block list is kept beside it, as an upgrade through the shared database leaves it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { KeptBlockList, KeptPackage, keptPackageDir } from '../../engine/keptPackage';
import { Logger } from '../../kernel/log';

export async function keepOld(cacheDir: string, file: string, version: string, sha512: string, log: Logger, blockList?: KeptBlockList): Promise<KeptPackage> {
  const kept = new KeptPackage(keptPackageDir(cacheDir), log);
  fs.mkdirSync(cacheDir, { recursive: true });
  const link = path.join(cacheDir, 'installed.tmp');
  fs.linkSync(file, link);
  if (!(await kept.keep(link, { version, name: path.basename(file), size: fs.statSync(file).size, sha512 }, 'move', blockList))) throw new Error('the old package could not be kept');
  return kept;
}
