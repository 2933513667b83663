/**
 * The highest vendor security floor this workstation has ever verified (S31), kept in a small local file that is only
 * ever raised. Whoever can write to the shared database can delete the stored catalogs and manifests that carry the
 * floor, but cannot make a workstation forget what it once verified: a move back is judged against this record.
 *
 * The file lives beside the installer's state (journal, backups), so the privileged helper — which verifies every
 * manifest it installs — reads and raises the same record. Written atomically (a new file, then a rename); never read
 * through a link; a damaged record counts as "unknown", which refuses every move back rather than allowing one.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { O_NOFOLLOW, openRegularNoFollow, readUpTo } from './noFollowFile';
import { Version, compareVersions, isVersion, parseVersion } from './version';

export const LOCAL_FLOOR_FILE = 'security-floor.json';
const MAX_RECORD_BYTES = 4096;

export interface FloorRecord {
  /** True once any vendor-signed statement of the floor (or IT's configured floor) was verified here. */
  known: boolean;
  /** The highest floor verified; null when every verified statement said "no floor". */
  floor: Version | null;
}

export const UNKNOWN_FLOOR: FloorRecord = { known: false, floor: null };

export function higherFloor(a: FloorRecord, b: FloorRecord): FloorRecord {
  const floor = !a.floor ? b.floor : !b.floor ? a.floor : compareVersions(a.floor, b.floor) >= 0 ? a.floor : b.floor;
  return { known: a.known || b.known, floor };
}

/** A floor as stated by a verified document: `undefined` (the field is absent) states nothing. */
export function statedFloor(text: string | null | undefined): FloorRecord {
  if (text === undefined) return UNKNOWN_FLOOR;
  return { known: true, floor: text === null ? null : parseVersion(text) };
}

export function localFloorFile(stateDir: string): string {
  return path.join(stateDir, LOCAL_FLOOR_FILE);
}

/** Reads the record without following a link; anything that is not a small, well-formed regular file is unknown. */
export function readLocalFloor(file: string): FloorRecord {
  let fd: number;
  try {
    fd = openRegularNoFollow(file).fd;
  } catch {
    return UNKNOWN_FLOOR;
  }
  try {
    const bytes = readUpTo(fd, MAX_RECORD_BYTES);
    if (!bytes) return UNKNOWN_FLOOR;
    const doc = JSON.parse(bytes.toString('utf8')) as { floor?: unknown };
    if (doc.floor === null) return { known: true, floor: null };
    if (typeof doc.floor === 'string' && isVersion(doc.floor)) return { known: true, floor: parseVersion(doc.floor) };
    return UNKNOWN_FLOOR;
  } catch {
    return UNKNOWN_FLOOR;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Raises the record to `seen` when that is higher (or the first known statement). Returns the record now in force.
 * The temporary file is created exclusively (a link planted under its name makes the write fail, not follow it) and
 * renamed over the record, so a crash leaves either the old or the new record, never half of one.
 */
export function raiseLocalFloor(file: string, seen: FloorRecord, source: string): FloorRecord {
  // Two processes raising at once: the later rename could carry the lower floor, so read back and raise again.
  for (let attempt = 0; attempt < 4; attempt++) {
    const current = readLocalFloor(file);
    const next = higherFloor(current, seen);
    if (!raises(current, next)) return current;
    writeRecord(file, next, source);
  }
  return readLocalFloor(file);
}

function raises(current: FloorRecord, next: FloorRecord): boolean {
  if (!next.known) return false;
  if (!current.known) return true;
  return next.floor !== null && (current.floor === null || compareVersions(next.floor, current.floor) > 0);
}

function writeRecord(file: string, record: FloorRecord, source: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
  const temp = `${file}.${process.pid}.${Date.now()}.tmp`;
  const fd = fs.openSync(temp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | O_NOFOLLOW, 0o644);
  try {
    fs.writeSync(fd, JSON.stringify({ floor: record.floor?.raw ?? null, source, raisedAt: new Date().toISOString() }) + '\n');
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(temp, file);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
}
