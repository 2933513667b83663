/**
 * The write-access probe (S9): a real write test — create a probe file, rename it, delete it — in every folder the
 * install writes to. Group membership, ACLs, read-only mounts, immutable flags and mandatory access control all show
 * up in the result, where `fs.access` alone misjudges several of them (ACLs on Windows, read-only bind mounts).
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface ProbeResult {
  writable: boolean;
  /** The first folder that refused, with the errno code. */
  refused?: { dir: string; code: string };
}

const DENIED = new Set(['EACCES', 'EPERM', 'EROFS']);

/** Probes one folder; a missing folder is probed at its nearest existing parent (the install would create it). */
export function probeFolder(dir: string): ProbeResult {
  let target = path.resolve(dir);
  while (!fs.existsSync(target) && path.dirname(target) !== target) target = path.dirname(target);
  const name = path.join(target, `.lockstep-probe-${process.pid}-${randomBytes(4).toString('hex')}`);
  const renamed = `${name}.renamed`;
  try {
    const fd = fs.openSync(name, 'wx', 0o600);
    try {
      fs.writeSync(fd, 'lockstep write probe\n');
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(name, renamed);
    fs.unlinkSync(renamed);
    return { writable: true };
  } catch (err) {
    fs.rmSync(name, { force: true });
    fs.rmSync(renamed, { force: true });
    const code = (err as NodeJS.ErrnoException).code ?? 'EUNKNOWN';
    if (DENIED.has(code)) return { writable: false, refused: { dir: target, code } };
    throw err;
  }
}

/** Writable only when every folder is (the install folder and the state folder beside it). */
export function probeWriteAccess(dirs: readonly string[]): ProbeResult {
  for (const dir of dirs) {
    const r = probeFolder(dir);
    if (!r.writable) return r;
  }
  return { writable: true };
}
