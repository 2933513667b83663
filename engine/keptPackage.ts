/**
 * The package of the installed version, kept after its install succeeded: the base a patch release is assembled
 * from (differential download from the feed, blocks from the shared database). One package is kept, in
 * <cache>/installed-package/<file name> beside kept.json (version, file name, size, SHA-512 and the signed block
 * map entry, all from the signed manifest the install used).
 *
 * The previous package is replaced only after the new install succeeded (the caller calls keep() then), and the
 * record goes first: a crash between the steps leaves no record or a record whose hash no longer matches — never a
 * record that vouches for other bytes. A base is handed out only as an open descriptor whose size and SHA-512 were
 * checked just now; a kept file that changed on disk, or a link in its place, is not used (logged with a reason).
 * Using a base is never a trust decision: whatever is assembled from it is checked against the new version's
 * signed SHA-512 before anyone installs it.
 *
 * Beside the package, blocks.json may hold its block list (offsets, sizes, SHA-256 — the list the release listed,
 * true for these bytes because the install checked them against the signed SHA-512), bound to the file by size,
 * mtime, inode and the signed SHA-512. A caller that hashes every block it reuses (engine/fleet/blockTransfer.ts)
 * gets that list instead of cutting and hashing the whole base again: a changed or planted list, or a changed file,
 * then only costs the blocks that no longer match, which come from the database.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ManifestFile, isPlainName } from '../kernel/catalogSchema';
import { ChunkSizes } from '../kernel/contentChunks';
import { Logger } from '../kernel/log';
import { O_NOFOLLOW, openRegularNoFollow, readUpTo } from '../kernel/noFollowFile';

export const KEPT_PACKAGE_DIR = 'installed-package';
const RECORD = 'kept.json';
const INCOMING = 'incoming.part';
const BLOCK_LIST = 'blocks.json';
/** A 2 GB package in 4 KiB blocks lists ~500,000 blocks of ~80 bytes of JSON: more is not a list this code wrote. */
const MAX_BLOCK_LIST_BYTES = 48 * 1024 * 1024;
const HEX64 = /^[0-9a-f]{64}$/;

/** What the signed manifest said about the kept file. */
export interface KeptPackageRecord {
  version: string;
  name: string;
  size: number;
  sha512: string;
  /** The signed manifest entry of the file's block map, when it had one (ManifestFile.blockMap). */
  blockMap?: ManifestFile['blockMap'];
}

/** One block of the kept package, where it lies in the file. */
export interface KeptBlock {
  offset: number;
  size: number;
  /** Lower-case hex SHA-256 of the block's bytes. */
  sha256: string;
}

/** The kept package's blocks in file order, as cut with `sizes`. */
export interface KeptBlockList {
  sizes: ChunkSizes;
  blocks: readonly KeptBlock[];
}

/** A verified base: read through `fd` (positional reads), then close(). */
export interface KeptBase extends KeptPackageRecord {
  fd: number;
  close(): void;
  /**
   * The block list kept beside the file, when openBase() was asked for one cut with these sizes and it still belongs
   * to this very file. The file's SHA-512 was then NOT checked: the caller must hash each block it reuses.
   */
  blocks?: readonly KeptBlock[];
}

/** What binds blocks.json to the one file it describes. */
interface BlockListFile {
  size: number;
  mtimeNs: string;
  ino: string;
  dev: string;
  sha512: string;
  sizes: ChunkSizes;
  /** Block sizes in order (offsets follow) and their hex SHA-256s. */
  blockSizes: number[];
  sha256: string[];
}

/** Why a kept package was not used as a base (logged as `reason`, and given to callers for their own results). */
export type BaseUnusedReason = 'none-kept' | 'record-unreadable' | 'not-a-regular-file' | 'size-changed' | 'sha512-changed';

export function keptPackageDir(cacheDir: string): string {
  return path.join(cacheDir, KEPT_PACKAGE_DIR);
}

export class KeptPackage {
  /** Why the last openBase() returned null (null after a successful one). */
  lastUnusedReason: BaseUnusedReason | null = null;

  constructor(
    /** <cache>/installed-package */
    readonly dir: string,
    private readonly log: Logger,
  ) {}

  /**
   * Keeps `file` (just installed, verified against `entry` before the install) as the installed version's package.
   * `move`: the file is the caller's to give away (renamed when on the same volume); otherwise it is copied. Never
   * throws: an update that installed must not fail because its package could not be kept (logged instead).
   */
  async keep(file: string, entry: KeptPackageRecord, how: 'move' | 'copy', blockList?: KeptBlockList): Promise<boolean> {
    try {
      if (!isPlainName(entry.name)) throw new Error(`"${entry.name}" is not a plain file name`);
      this.ensureDir();
      const incoming = path.join(this.dir, INCOMING);
      fs.rmSync(incoming, { force: true });
      let sha512: string | null = null;
      if (how === 'move') {
        try {
          fs.renameSync(file, incoming);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EXDEV') throw err;
          sha512 = await copyHashing(file, incoming);
          fs.rmSync(file, { force: true });
        }
      } else {
        sha512 = await copyHashing(file, incoming);
      }
      // A copy is checked on the way; a moved file was verified by the caller and is checked again before any use.
      if (sha512 !== null && sha512 !== entry.sha512) throw new Error(`the copy of ${entry.name} does not match its signed SHA-512`);
      fs.rmSync(path.join(this.dir, RECORD), { force: true });
      fs.renameSync(incoming, path.join(this.dir, entry.name));
      writeNew(path.join(this.dir, `${RECORD}.tmp`), JSON.stringify(recordOf(entry)));
      fs.renameSync(path.join(this.dir, `${RECORD}.tmp`), path.join(this.dir, RECORD));
      for (const other of fs.readdirSync(this.dir)) if (other !== RECORD && other !== entry.name) fs.rmSync(path.join(this.dir, other), { force: true, recursive: true });
      if (blockList) this.keepBlockList(entry, blockList);
      this.log.info('package.kept', { version: entry.version, file: entry.name, size: entry.size, ...(blockList ? { blocks: blockList.blocks.length } : {}) });
      return true;
    } catch (err) {
      this.log.warn('package.not-kept', { version: entry.version, file: entry.name, message: (err as Error).message });
      return false;
    }
  }

  /** The record of the kept package, unverified (for choosing a base; openBase() checks the bytes). */
  record(): KeptPackageRecord | null {
    try {
      const opened = openRegularNoFollow(path.join(this.dir, RECORD));
      try {
        const text = readUpTo(opened.fd, 64 * 1024);
        return text ? parseRecord(JSON.parse(text.toString('utf8'))) : null;
      } finally {
        fs.closeSync(opened.fd);
      }
    } catch {
      return null;
    }
  }

  /**
   * Writes the block list of the package just kept, bound to the file as it is now (after the rename: the inode and
   * mtime stay). Written beside it under a temporary name and renamed, so a reader sees a whole list or none; a list
   * that cannot be written only costs the next upgrade a cut of the base.
   */
  private keepBlockList(entry: KeptPackageRecord, list: KeptBlockList): void {
    try {
      const opened = openRegularNoFollow(path.join(this.dir, entry.name));
      let stat: fs.BigIntStats;
      try {
        stat = fs.fstatSync(opened.fd, { bigint: true });
      } finally {
        fs.closeSync(opened.fd);
      }
      const body: BlockListFile = {
        size: Number(stat.size),
        mtimeNs: stat.mtimeNs.toString(),
        ino: stat.ino.toString(),
        dev: stat.dev.toString(),
        sha512: entry.sha512,
        sizes: { min: list.sizes.min, avg: list.sizes.avg, max: list.sizes.max },
        blockSizes: list.blocks.map((b) => b.size),
        sha256: list.blocks.map((b) => b.sha256),
      };
      if (!tilesFile(body, entry.size)) throw new Error('the block list does not cover the package');
      writeNew(path.join(this.dir, `${BLOCK_LIST}.tmp`), JSON.stringify(body));
      fs.renameSync(path.join(this.dir, `${BLOCK_LIST}.tmp`), path.join(this.dir, BLOCK_LIST));
    } catch (err) {
      fs.rmSync(path.join(this.dir, BLOCK_LIST), { force: true });
      this.log.warn('package.block-list-not-kept', { version: entry.version, file: entry.name, message: (err as Error).message });
    }
  }

  /** The block list beside the kept file when it binds to `opened` and was cut with `sizes`; else null. */
  private boundBlockList(record: KeptPackageRecord, fd: number, sizes: ChunkSizes): KeptBlock[] | null {
    let body: BlockListFile;
    try {
      const opened = openRegularNoFollow(path.join(this.dir, BLOCK_LIST));
      try {
        const text = readUpTo(opened.fd, MAX_BLOCK_LIST_BYTES);
        if (!text) return null;
        body = JSON.parse(text.toString('utf8')) as BlockListFile;
      } finally {
        fs.closeSync(opened.fd);
      }
    } catch {
      return null;
    }
    const stat = fs.fstatSync(fd, { bigint: true });
    const bound =
      body !== null && typeof body === 'object' && body.sha512 === record.sha512 && body.size === record.size && Number(stat.size) === record.size &&
      body.mtimeNs === stat.mtimeNs.toString() && body.ino === stat.ino.toString() && body.dev === stat.dev.toString() &&
      body.sizes?.min === sizes.min && body.sizes.avg === sizes.avg && body.sizes.max === sizes.max && tilesFile(body, record.size);
    if (!bound) {
      this.log.info('package.block-list-stale', { dir: this.dir, file: record.name });
      return null;
    }
    const blocks: KeptBlock[] = [];
    let offset = 0;
    for (let i = 0; i < body.blockSizes.length; i++) {
      blocks.push({ offset, size: body.blockSizes[i]!, sha256: body.sha256[i]! });
      offset += body.blockSizes[i]!;
    }
    return blocks;
  }

  /**
   * The kept package as a delta base, opened without following a link, its size and SHA-512 checked on this very
   * descriptor; null (with the reason logged and in lastUnusedReason) when there is none or it changed on disk.
   *
   * `blockList`: the caller hashes every block it reuses, so when the kept block list cut with these sizes still
   * binds to the opened file, the base comes with it and the whole-file SHA-512 is skipped (the one full read a
   * patch would otherwise make of its base, besides cutting it).
   */
  async openBase(o: { blockList?: ChunkSizes } = {}): Promise<KeptBase | null> {
    this.lastUnusedReason = null;
    if (!fs.existsSync(path.join(this.dir, RECORD))) return this.unused('none-kept', {});
    const record = this.record();
    if (!record) return this.unused('record-unreadable', {});
    let opened: ReturnType<typeof openRegularNoFollow>;
    try {
      opened = openRegularNoFollow(path.join(this.dir, record.name));
    } catch (err) {
      return this.unused('not-a-regular-file', { file: record.name, errno: (err as NodeJS.ErrnoException).code ?? null });
    }
    const close = () => fs.closeSync(opened.fd);
    if (opened.stat.size !== record.size) {
      close();
      return this.unused('size-changed', { file: record.name, expected: record.size, actual: opened.stat.size });
    }
    const blocks = o.blockList ? this.boundBlockList(record, opened.fd, o.blockList) : null;
    if (blocks) return { ...record, fd: opened.fd, close, blocks };
    const actual = await hashFd(opened.fd);
    if (actual !== record.sha512) {
      close();
      return this.unused('sha512-changed', { file: record.name });
    }
    return { ...record, fd: opened.fd, close };
  }

  private unused(reason: BaseUnusedReason, fields: Record<string, unknown>): null {
    this.lastUnusedReason = reason;
    // A missing base is ordinary (first install); anything else means the kept file was changed or damaged.
    const level = reason === 'none-kept' ? 'info' : 'warn';
    this.log[level]('package.base-unused', { code: reason === 'none-kept' ? null : 'E_CHECKSUM', reason, dir: this.dir, ...fields });
    return null;
  }

  private ensureDir(): void {
    fs.mkdirSync(path.dirname(this.dir), { recursive: true });
    try {
      fs.mkdirSync(this.dir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    // Files are written only into a directory this code made: never into a link planted in its place.
    if (!fs.lstatSync(this.dir).isDirectory()) throw new Error(`${this.dir} is not a directory`);
  }
}

function recordOf(entry: KeptPackageRecord): KeptPackageRecord {
  return { version: entry.version, name: entry.name, size: entry.size, sha512: entry.sha512, ...(entry.blockMap ? { blockMap: entry.blockMap } : {}) };
}

function parseRecord(value: unknown): KeptPackageRecord | null {
  const r = value as Partial<KeptPackageRecord> | null;
  if (!r || typeof r.version !== 'string' || typeof r.name !== 'string' || !isPlainName(r.name) || typeof r.size !== 'number' || typeof r.sha512 !== 'string') return null;
  return recordOf(r as KeptPackageRecord);
}

/** A list of plausible blocks (sizes within the chunker's maximum, hex hashes) that covers exactly `size` bytes. */
function tilesFile(body: BlockListFile, size: number): boolean {
  if (!Array.isArray(body.blockSizes) || !Array.isArray(body.sha256) || body.blockSizes.length !== body.sha256.length) return false;
  const max = body.sizes?.max;
  if (!Number.isSafeInteger(max) || max <= 0) return false;
  let total = 0;
  for (let i = 0; i < body.blockSizes.length; i++) {
    const n = body.blockSizes[i];
    if (!Number.isSafeInteger(n) || n! < 1 || n! > max || typeof body.sha256[i] !== 'string' || !HEX64.test(body.sha256[i]!)) return false;
    total += n!;
  }
  return total === size;
}

/** Creates `file` (never through an existing name or link) with `text`. */
function writeNew(file: string, text: string): void {
  fs.rmSync(file, { force: true });
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | O_NOFOLLOW, 0o600);
  try {
    fs.writeSync(fd, text);
  } finally {
    fs.closeSync(fd);
  }
}

/** Copies `from` (opened without following a link) to the new file `to`, returning the SHA-512 of what was copied. */
async function copyHashing(from: string, to: string): Promise<string> {
  const src = openRegularNoFollow(from);
  const dst = fs.openSync(to, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | O_NOFOLLOW, 0o600);
  try {
    const hash = createHash('sha512');
    const buf = Buffer.allocUnsafe(1024 * 1024);
    for (let position = 0; ; ) {
      const n = await readAt(src.fd, buf, position);
      if (n === 0) break;
      hash.update(buf.subarray(0, n));
      fs.writeSync(dst, buf, 0, n);
      position += n;
    }
    return hash.digest('base64');
  } finally {
    fs.closeSync(src.fd);
    fs.closeSync(dst);
  }
}

/** Base64 SHA-512 of a descriptor's bytes from its start. */
export async function hashFd(fd: number): Promise<string> {
  const hash = createHash('sha512');
  const buf = Buffer.allocUnsafe(1024 * 1024);
  for (let position = 0; ; ) {
    const n = await readAt(fd, buf, position);
    if (n === 0) break;
    hash.update(buf.subarray(0, n));
    position += n;
  }
  return hash.digest('base64');
}

function readAt(fd: number, buf: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) => fs.read(fd, buf, 0, buf.length, position, (err, n) => (err ? reject(err) : resolve(n))));
}
