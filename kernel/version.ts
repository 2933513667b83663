/**
 * Versions as business vendors write them (S26): semver with pre-release tags (1.2.0-beta.2), four-part versions
 * (7.0.0.19), two-part (7.1) and build-number forms ("7.0.0 build 19", "7.0.0 (Build 19)").
 *
 * Precedence: the numeric parts, padded to four with zeros, compare first; then a version with a pre-release tag sorts
 * before the same version without one, and pre-release identifiers compare as semver defines. Build metadata after
 * "+" is kept for display but, as in semver, does not affect precedence. The text is always shown as written.
 */
import { SemVer } from 'semver';
import { LockstepError } from '../contract/errors';

export interface Version {
  /** Exactly as the vendor wrote it (trimmed). */
  readonly raw: string;
  /** Numeric parts, always four (missing ones are 0). */
  readonly parts: readonly [number, number, number, number];
  /** How many numeric parts were written (2–4): four-part versions display their fourth part. */
  readonly written: number;
  readonly prerelease: readonly (string | number)[];
  readonly build: string | null;
}

const MAX_PART = 9_999_999_999; // ten digits: fits the sort key and every database's bigint
const MAX_LENGTH = 64; // the database column holds 64 characters
const PATTERN =
  /^v?(\d+)\.(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?$/;
const BUILD_SUFFIX = /^(\d+\.\d+(?:\.\d+)?)\s*\(?\s*build\s+(\d+)\s*\)?$/i;

function invalid(raw: string, why: string): LockstepError {
  return new LockstepError('E_VERSION_INVALID', `"${raw}" is not a version number: ${why}`, { version: raw });
}

function toPart(text: string | undefined, raw: string): number {
  if (text === undefined) return 0;
  if (text.length > 1 && text.startsWith('0')) throw invalid(raw, 'a number part has a leading zero');
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n > MAX_PART) throw invalid(raw, 'a number part is too large');
  return n;
}

export function parseVersion(input: string): Version {
  if (typeof input !== 'string') throw invalid(String(input), 'not text');
  const raw = input.trim();
  if (raw.length === 0) throw invalid(raw, 'empty');
  if (raw.length > MAX_LENGTH) throw invalid(raw.slice(0, MAX_LENGTH) + '…', `longer than ${MAX_LENGTH} characters`);
  const buildForm = BUILD_SUFFIX.exec(raw);
  const normalized = buildForm ? `${buildForm[1]}${buildForm[1]!.split('.').length === 2 ? '.0' : ''}.${buildForm[2]}` : raw;
  const m = PATTERN.exec(normalized);
  if (!m) throw invalid(raw, 'expected numbers separated by dots, like 1.2.3, 7.0.0.19 or 1.2.0-beta.2');
  const parts = [toPart(m[1], raw), toPart(m[2], raw), toPart(m[3], raw), toPart(m[4], raw)] as const;
  const prerelease = m[5] === undefined ? [] : m[5].split('.').map((id) => {
    if (/^\d+$/.test(id)) {
      if (id.length > 1 && id.startsWith('0')) throw invalid(raw, 'a numeric pre-release identifier has a leading zero');
      return toPart(id, raw);
    }
    return id;
  });
  const written = m[4] !== undefined ? 4 : m[3] !== undefined ? 3 : 2;
  return { raw, parts, written, prerelease, build: m[6] ?? null };
}

/** True when the text parses; never throws. */
export function isVersion(input: string): boolean {
  try {
    parseVersion(input);
    return true;
  } catch {
    return false;
  }
}

function comparePrerelease(a: Version, b: Version): number {
  if (a.prerelease.length === 0 && b.prerelease.length === 0) return 0;
  if (a.prerelease.length === 0) return 1; // a release outranks its pre-releases
  if (b.prerelease.length === 0) return -1;
  // semver's own identifier rules: numeric < alphanumeric, numeric by value, shorter set first.
  return new SemVer(`0.0.0-${a.prerelease.join('.')}`).comparePre(new SemVer(`0.0.0-${b.prerelease.join('.')}`));
}

/** -1, 0 or 1. Accepts parsed versions or text (text is parsed, so garbage throws E_VERSION_INVALID). */
export function compareVersions(left: Version | string, right: Version | string): -1 | 0 | 1 {
  const a = typeof left === 'string' ? parseVersion(left) : left;
  const b = typeof right === 'string' ? parseVersion(right) : right;
  for (let i = 0; i < 4; i++) {
    if (a.parts[i]! !== b.parts[i]!) return a.parts[i]! < b.parts[i]! ? -1 : 1;
  }
  const pre = comparePrerelease(a, b);
  return pre < 0 ? -1 : pre > 0 ? 1 : 0;
}

export function versionsEqual(a: Version | string, b: Version | string): boolean {
  return compareVersions(a, b) === 0;
}

/**
 * A key that sorts like the versions do, in byte order, and is equal exactly when the versions are equal. It uses only
 * digits, lower-case hex and ". - ~" so that it means the same under every database collation; the database enforces
 * uniqueness with it. Ordering decisions are still made in code with compareVersions.
 */
export function versionSortKey(v: Version | string): string {
  const p = typeof v === 'string' ? parseVersion(v) : v;
  const numeric = p.parts.map((n) => String(n).padStart(10, '0')).join('.');
  if (p.prerelease.length === 0) return `${numeric}~`;
  // Numeric identifiers rank below alphanumeric ones (prefix 0 vs 1); alphanumeric ones compare as ASCII, which hex
  // preserves; "." ends each identifier and sorts below every hex digit, so a shorter set sorts first.
  const ids = p.prerelease.map((id) =>
    typeof id === 'number' ? `0${String(id).padStart(10, '0')}.` : `1${Buffer.from(id, 'ascii').toString('hex')}.`,
  );
  return `${numeric}-${ids.join('')}`;
}

export function sortVersions<T>(items: readonly T[], get: (item: T) => Version | string): T[] {
  return [...items].sort((x, y) => compareVersions(get(x), get(y)));
}

/** The version as the vendor wrote it. */
export function displayVersion(v: Version | string): string {
  return typeof v === 'string' ? v.trim() : v.raw;
}
