/**
 * The install journal: one JSON file in the state folder, rewritten atomically (temp + fsync + rename) at every phase
 * change, so that after a crash the next start knows exactly what was touched and can finish or revert.
 *
 *   prepared → staging → backing-up → installing → verifying → awaiting-health → confirmed
 *        \________\___________\____________\___________\______________\→ revert-clear → revert-return → reverted
 *   (prepared | staging | backing-up with a copy backup) → failed   (the install folder was never touched)
 *
 * State folder layout: journal.json, backups/<id>/, staging/<id>/, trash/<id>/, parked/<id>/, health/<id>.ok,
 * history/<id>.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { ErrorInfo, LockstepError } from '../contract/errors';
import { writeFileDurable } from './fsOps';

export const PACKAGE_KINDS = ['portable', 'deb', 'appimage', 'nsis'] as const;
export type PackageKind = (typeof PACKAGE_KINDS)[number];

export const PHASES = [
  'prepared',
  'staging',
  'backing-up',
  'installing',
  'verifying',
  'awaiting-health',
  'confirmed',
  'revert-clear',
  'revert-return',
  'reverted',
  'failed',
] as const;
export type Phase = (typeof PHASES)[number];

export const TERMINAL: ReadonlySet<Phase> = new Set(['confirmed', 'reverted', 'failed']);

const ErrorInfoSchema = z.object({ code: z.string(), message: z.string(), details: z.record(z.string(), z.unknown()).optional() });

/**
 * One install as the side with the rights carries it out (and the journal records it): built by signedRequest.ts from
 * what the unprivileged side asked for, after the vendor signature verified. Folders and policy come from the trusted
 * machine config.
 */
export const InstallRequestSchema = z
  .object({
    id: z.string().regex(/^[0-9A-Za-z-]{8,64}$/),
    kind: z.enum(PACKAGE_KINDS),
    packagePath: z.string().min(1),
    /** sha512 of the package file, hex (128) or base64 (as in electron-builder's latest.yml). */
    sha512: z.string().regex(/^([0-9a-f]{128}|[A-Za-z0-9+/]{86}==)$/),
    toVersion: z.string().min(1).max(64),
    /**
     * Set by signedRequest.ts from the vendor-signed manifest (S18): the file's signed size and the key that signed it.
     * Optional only so that a journal written by an older Lockstep (the version being replaced) still reads.
     */
    size: z.number().int().min(0).optional(),
    signedBy: z.string().regex(/^[0-9a-f]{16}$/).optional(),
  })
  .strict();
export type InstallRequest = z.infer<typeof InstallRequestSchema>;

export const JournalSchema = z
  .object({
    format: z.literal(1),
    request: InstallRequestSchema,
    installDir: z.string(),
    stateDir: z.string(),
    dataFolders: z.array(z.string()),
    keepBackups: z.number().int(),
    healthTimeoutMs: z.number().int(),
    fromVersion: z.string().nullable(),
    /** 'move': old entries are renamed into the backup (portable); 'copy': copied, the installer writes in place. */
    backupStrategy: z.enum(['move', 'copy']),
    phase: z.enum(PHASES),
    startedBy: z.string(),
    history: z.array(z.object({ phase: z.enum(PHASES), at: z.string() })),
    installedAt: z.string().optional(),
    healthDeadline: z.string().optional(),
    error: ErrorInfoSchema.optional(),
  })
  .strict();
export type Journal = z.infer<typeof JournalSchema>;

export class StateDir {
  constructor(readonly root: string) {}
  get journalFile(): string {
    return path.join(this.root, 'journal.json');
  }
  backup(id: string): string {
    return path.join(this.root, 'backups', id);
  }
  staging(id: string): string {
    return path.join(this.root, 'staging', id);
  }
  trash(id: string): string {
    return path.join(this.root, 'trash', id);
  }
  /** Data folders parked here while an in-place installer (deb, NSIS, AppImage) runs, so it cannot touch them. */
  parkedData(id: string): string {
    return path.join(this.root, 'parked', id);
  }
  healthMarker(id: string): string {
    return path.join(this.root, 'health', `${id}.ok`);
  }
  historyFile(id: string): string {
    return path.join(this.root, 'history', `${id}.json`);
  }
  get logFile(): string {
    return path.join(this.root, 'apply.log');
  }
  get lockFile(): string {
    return path.join(this.root, 'apply.lock');
  }

  /** Creates the layout. The health folder is sticky and world-writable: any user's start of the new version confirms it. */
  ensure(): void {
    for (const sub of ['backups', 'staging', 'trash', 'parked', 'history']) fs.mkdirSync(path.join(this.root, sub), { recursive: true, mode: 0o755 });
    const health = path.join(this.root, 'health');
    fs.mkdirSync(health, { recursive: true });
    fs.chmodSync(health, 0o1777);
  }
}

/** Default state folder: a hidden sibling of the install folder, so renames between them stay on one file system. */
export function defaultStateDir(installDir: string): string {
  return path.join(path.dirname(installDir), `.${path.basename(installDir)}.lockstep`);
}

export function readJournal(state: StateDir): Journal | null {
  let text: string;
  try {
    text = fs.readFileSync(state.journalFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const parsed = JournalSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new LockstepError('E_INSTALL_FAILED', `The install journal ${state.journalFile} is damaged: ${parsed.error.issues[0]?.message ?? 'invalid'}. Restore the install folder from ${path.join(state.root, 'backups')} by hand.`, { file: state.journalFile });
  }
  return parsed.data;
}

export function writeJournal(state: StateDir, journal: Journal): void {
  writeFileDurable(state.journalFile, JSON.stringify(journal, null, 2) + '\n');
}

/** Records a phase change durably before the work of that phase begins. */
export function advance(state: StateDir, journal: Journal, phase: Phase, extra: Partial<Journal> = {}): Journal {
  const next: Journal = { ...journal, ...extra, phase, history: [...journal.history, { phase, at: new Date().toISOString() }] };
  writeJournal(state, next);
  return next;
}

export function withError(_journal: Journal, error: ErrorInfo): Partial<Journal> {
  return { error: { code: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) } };
}

/** Moves a finished journal into history/, so the next install starts from a clean slate. */
export function archiveJournal(state: StateDir, journal: Journal): void {
  if (!TERMINAL.has(journal.phase)) throw new LockstepError('E_INSTALL_IN_PROGRESS', `The install ${journal.request.id} is still in phase ${journal.phase}.`);
  writeFileDurable(state.historyFile(journal.request.id), JSON.stringify(journal, null, 2) + '\n');
  fs.rmSync(state.journalFile, { force: true });
}

/** A sortable, unique install id: time first, then randomness. */
export function newInstallId(now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:.]/g, '').replace('T', 't').replace('Z', 'z');
  return `${stamp}-${Math.random().toString(36).slice(2, 8).padEnd(6, '0')}`;
}
