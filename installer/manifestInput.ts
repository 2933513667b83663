/**
 * The signed manifest(s) a caller hands to `lockstep install --manifest FILE`, in the shapes the rest of Lockstep
 * already writes, so the commands chain without glue:
 *
 *  - the output of `lockstep download --json`: { version, file, steps: [{ version, file, manifestText,
 *    manifestSignature }] } — every downloaded step of a chain, ascending;
 *  - a signed manifest as text: { text, signature } (the installer's own request shape);
 *  - a signed manifest as a document: { signed, signature } (as the feed catalog embeds it).
 *
 * Nothing here is trusted: the result only says which file goes with which manifest; signatures are checked by the
 * installer (signedRequest.ts), on both sides of the elevation.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError } from '../contract/errors';
import { canonicalJson } from '../kernel/signing';
import { SignedManifest } from './signedRequest';

export interface ManifestStep {
  /** The package file; null when the manifest file does not name one (then the command line must). */
  file: string | null;
  /** The version the manifest claims (unverified; the installer checks the signature covers it). */
  version: string | null;
  manifest: SignedManifest;
}

function claimedVersion(text: string): string | null {
  try {
    const v = (JSON.parse(text) as { version?: unknown }).version;
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}

function invalid(file: string, why: string): LockstepError {
  return new LockstepError('E_USAGE', `${file} holds no signed manifest (${why}). Pass the output of "lockstep download --json", or a file holding {"text", "signature"}.`, { file });
}

/** Reads the manifest file; relative package paths resolve against its folder. */
export function readManifestFile(file: string): ManifestStep[] {
  let doc: unknown;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
  } catch (err) {
    throw invalid(file, (err as Error).message);
  }
  if (doc === null || typeof doc !== 'object') throw invalid(file, 'not a JSON object');
  const o = doc as Record<string, unknown>;
  const base = path.dirname(path.resolve(file));
  const str = (v: unknown): v is string => typeof v === 'string';
  if (Array.isArray(o['steps'])) {
    const steps = (o['steps'] as unknown[]).map((s, i): ManifestStep => {
      const step = (s ?? {}) as Record<string, unknown>;
      if (!str(step['file']) || !str(step['manifestText']) || !str(step['manifestSignature'])) throw invalid(file, `step ${i + 1} lacks file, manifestText or manifestSignature`);
      return { file: path.resolve(base, step['file']), version: str(step['version']) ? step['version'] : claimedVersion(step['manifestText']), manifest: { text: step['manifestText'], signature: step['manifestSignature'] } };
    });
    if (steps.length === 0) throw invalid(file, 'no downloaded steps');
    return steps;
  }
  if (str(o['text']) && str(o['signature'])) return [{ file: null, version: claimedVersion(o['text']), manifest: { text: o['text'], signature: o['signature'] } }];
  if ('signed' in o && str(o['signature'])) {
    const text = canonicalJson(o['signed']);
    return [{ file: null, version: claimedVersion(text), manifest: { text, signature: o['signature'] } }];
  }
  throw invalid(file, 'neither "steps", {"text", "signature"} nor {"signed", "signature"}');
}
