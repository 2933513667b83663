/**
 * Opening a file a user may have planted or swapped: the name is opened once, without following a link at its end
 * (O_NOFOLLOW) and without blocking on a FIFO or device (O_NONBLOCK); type and bytes then come from that one
 * descriptor, so a name changed between a check and a read changes nothing. The privileged helper's configuration and
 * request, the package it copies, the archive readers and the local floor record all open files this way.
 */
import * as fs from 'node:fs';

/** 0 where the OS lacks the flag (Windows): the callers' other checks still apply there. */
export const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;
export const O_NONBLOCK = fs.constants.O_NONBLOCK ?? 0;

export interface OpenedRegularFile {
  fd: number;
  stat: fs.Stats;
}

/**
 * Opens `file` read-only as above. Throws the errno error of the open (ELOOP: the name is a symbolic link), or one
 * with code ENOTREG when the descriptor is not a regular file (closed again).
 */
export function openRegularNoFollow(file: string): OpenedRegularFile {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
  const stat = fs.fstatSync(fd);
  if (!stat.isFile()) {
    fs.closeSync(fd);
    throw Object.assign(new Error(`${file} is not a regular file`), { code: 'ENOTREG' });
  }
  return { fd, stat };
}

/** Reads from the descriptor's start until its end, or null as soon as there are more than `maxBytes`. */
export function readUpTo(fd: number, maxBytes: number): Buffer | null {
  const buf = Buffer.alloc(maxBytes + 1);
  let length = 0;
  for (;;) {
    const n = fs.readSync(fd, buf, length, buf.length - length, length);
    if (n === 0) return buf.subarray(0, length);
    length += n;
    if (length > maxBytes) return null;
  }
}
