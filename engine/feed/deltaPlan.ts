/**
 * Which bytes of a new file can be copied from a base and which must be fetched, from the two files' block maps:
 * a new block whose checksum and size a base block has is copied from there, every other block is fetched. Adjacent
 * operations of the same kind are merged, so a run of changed blocks is one Range request.
 */
import { MappedBlock } from '../../kernel/blockMap';

export interface CopyOp {
  kind: 'copy';
  /** Where the bytes lie in the base. */
  from: number;
  /** Where they go in the new file. */
  to: number;
  size: number;
}

export interface FetchOp {
  kind: 'fetch';
  /** Where the bytes lie in the new file (fetched from there, written there). */
  to: number;
  size: number;
}

export interface DeltaPlan {
  copies: CopyOp[];
  fetches: FetchOp[];
  copyBytes: number;
  fetchBytes: number;
}

export function planDelta(base: readonly MappedBlock[], next: readonly MappedBlock[]): DeltaPlan {
  const inBase = new Map<string, MappedBlock>();
  for (const b of base) {
    const key = `${b.size}:${b.checksum}`;
    if (!inBase.has(key)) inBase.set(key, b);
  }
  const copies: CopyOp[] = [];
  const fetches: FetchOp[] = [];
  let copyBytes = 0;
  let fetchBytes = 0;
  for (const block of next) {
    const found = inBase.get(`${block.size}:${block.checksum}`);
    if (found) {
      const last = copies.at(-1);
      if (last && last.to + last.size === block.offset && last.from + last.size === found.offset) last.size += block.size;
      else copies.push({ kind: 'copy', from: found.offset, to: block.offset, size: block.size });
      copyBytes += block.size;
    } else {
      const last = fetches.at(-1);
      if (last && last.to + last.size === block.offset) last.size += block.size;
      else fetches.push({ kind: 'fetch', to: block.offset, size: block.size });
      fetchBytes += block.size;
    }
  }
  return { copies, fetches, copyBytes, fetchBytes };
}
