/**
 * electron-builder's block map (builder-util-runtime blockMapApi): gzipped JSON {version, files: [{name, offset,
 * checksums, sizes}]} listing a file's blocks in order. electron-builder writes one beside NSIS installers; Lockstep
 * computes the same format with its content-defined chunker (contentChunks.ts; each checksum is the block's base64
 * SHA-256) where none exists, so electron-updater reads Lockstep's block maps too.
 *
 * A block map only steers which bytes are fetched: it is parsed only after its SHA-512 matched the signed manifest,
 * and whatever is assembled with it is checked against the file's signed SHA-512 before use. The parser still
 * bounds everything (inflated size, one file, block sizes that add up to the signed file size), so a vendor mistake
 * ends in a full download rather than a wrong plan.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { ChunkSizes, DEFAULT_CHUNK_SIZES, fdChunks } from './contentChunks';

export interface BlockMapFile {
  name: string;
  offset: number;
  checksums: string[];
  sizes: number[];
}

export interface BlockMap {
  version: '1' | '2';
  files: BlockMapFile[];
}

/** One block of a file, where it lies in that file. */
export interface MappedBlock {
  offset: number;
  size: number;
  checksum: string;
}

/** More than any real block map inflates to (a 2 GB file in 16 KiB blocks is ~8 MB of JSON). */
export const MAX_BLOCK_MAP_JSON = 64 * 1024 * 1024;

/** electron-builder names the single file of an installer's block map "file". */
const FILE_ENTRY = 'file';

export function blockMapName(fileName: string): string {
  return `${fileName}.blockmap`;
}

export async function computeBlockMap(fd: number, sizes: ChunkSizes = DEFAULT_CHUNK_SIZES): Promise<BlockMap> {
  const checksums: string[] = [];
  const blockSizes: number[] = [];
  for await (const block of fdChunks(fd, sizes)) {
    checksums.push(block.sha256.toString('base64'));
    blockSizes.push(block.size);
  }
  return { version: '2', files: [{ name: FILE_ENTRY, offset: 0, checksums, sizes: blockSizes }] };
}

export function encodeBlockMap(map: BlockMap): Buffer {
  return gzipSync(JSON.stringify(map), { level: 9 });
}

export class BlockMapError extends Error {}

/**
 * The blocks of the file a gzipped block map describes, checked to cover exactly `fileSize` bytes from offset 0.
 * Throws BlockMapError when it cannot be used.
 */
export function parseBlockMap(gzipped: Buffer, fileSize: number): MappedBlock[] {
  let value: unknown;
  try {
    value = JSON.parse(gunzipSync(gzipped, { maxOutputLength: MAX_BLOCK_MAP_JSON }).toString('utf8'));
  } catch (err) {
    throw new BlockMapError(`it is not gzipped JSON (${(err as Error).message})`);
  }
  const map = value as Partial<BlockMap> | null;
  if (!map || (map.version !== '1' && map.version !== '2') || !Array.isArray(map.files)) throw new BlockMapError('it has no version "1" or "2" and no files');
  // electron-updater uses the first file only; a map describing several would be a different layout.
  if (map.files.length !== 1) throw new BlockMapError(`it describes ${map.files.length} files, not one`);
  const file = map.files[0] as Partial<BlockMapFile>;
  if (file.offset !== 0) throw new BlockMapError('its file does not start at offset 0');
  const { checksums, sizes } = file;
  if (!Array.isArray(checksums) || !Array.isArray(sizes) || checksums.length !== sizes.length) throw new BlockMapError('its checksums and sizes do not pair up');
  const blocks: MappedBlock[] = [];
  let offset = 0;
  for (let i = 0; i < sizes.length; i++) {
    const size = sizes[i];
    const checksum = checksums[i];
    if (!Number.isSafeInteger(size) || (size as number) <= 0) throw new BlockMapError(`block ${i} has no positive size`);
    if (typeof checksum !== 'string' || checksum.length === 0 || checksum.length > 128) throw new BlockMapError(`block ${i} has no checksum`);
    blocks.push({ offset, size: size as number, checksum });
    offset += size as number;
  }
  if (offset !== fileSize) throw new BlockMapError(`its blocks cover ${offset} bytes, the signed file has ${fileSize}`);
  return blocks;
}
