/**
 * Configuration (S22): a machine-wide JSON file that IT writes beside the app (read-only for users), plus per-user
 * settings in the user's profile. Both are validated; errors name the file and the field. Secrets never live here:
 * a database URL with a password is refused, the password comes from the OS keychain.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { LockstepError } from '../contract/errors';
import { urlHasPassword } from './dbUrl';
import { FeedConfigSchema, resolveFeedPaths } from './feedConfig';
import { FleetConfigSchema, resolveFleetPaths } from './fleetConfig';

const nonEmpty = z.string().trim().min(1);

/** A backup command's argument that carries a secret (a password option or a URL with a password) is refused. */
const SECRET_ARG = /(pass(word)?|pwd|secret)\s*[=:]|:\/\/[^/@\s]*:[^/@\s]*@/i;

const DatabaseBackupSchema = z
  .object({
    /** Back up before migrating (default true). SQLite: a copy beside the database file (VACUUM INTO). */
    beforeMigration: z.boolean().default(true),
    /**
     * PostgreSQL / SQL Server: the program and its arguments, run without a shell; exit code 0 means the backup is
     * done. It authenticates on its own (pgpass file, Windows login): no secret may appear among the arguments.
     */
    command: z.array(nonEmpty.max(4096)).min(1).max(64).refine((argv) => !argv.some((a) => SECRET_ARG.test(a)), { message: 'must not carry a password: let the backup tool find its own credentials' }).optional(),
    timeoutMs: z.number().int().min(1_000).max(24 * 3600_000).default(60 * 60_000),
  })
  .strict();

export const MachineConfigSchema = z
  .object({
    /** Folder the application is installed in; its lockstep-version.json names the installed version. */
    installDir: nonEmpty,
    database: z
      .object({
        url: nonEmpty.refine((u) => !urlHasPassword(u), {
          message: 'must not contain a password: store it in the OS keychain with "lockstep secret set-db-password"',
        }),
        /**
         * Look the password up in the OS keychain (default: whenever the URL names a user). false: the server logs
         * this user in without a password (certificate, Kerberos/GSSAPI, peer or trust), and the keychain is never
         * opened — workstations without a keyring service work.
         */
        passwordFromKeychain: z.boolean().optional(),
        /** PEM file of the CA(s) that sign the database server's certificate; relative to this file. */
        caFile: nonEmpty.optional(),
        /**
         * The admin login (same server and database as `url`) that "release for all", withdraw and test marks use;
         * its password is in the administrator's keychain. `url` is then the workstation login (see db grants).
         */
        adminUser: nonEmpty.max(63).optional(),
        connectTimeoutMs: z.number().int().min(500).max(120_000).default(10_000),
        /** Before a release migrates the client's own schema: whether to back the database up, and how. */
        backup: DatabaseBackupSchema.optional(),
      })
      .strict(),
    channel: nonEmpty.max(64).default('stable'),
    /** OS user names (case-insensitive) who answer the release question and manage releases. */
    administrators: z.array(nonEmpty).default([]),
    /**
     * When this workstation is below the released version and cannot upgrade: refuse the database, warn, or
     * {"warnDays": N} — warn for N days after the release time (the database server's clock), then refuse.
     */
    outdatedPolicy: z
      .union([z.enum(['block', 'warn']), z.object({ warnDays: z.number().positive().max(365) }).strict()])
      .default('block'),
    workstation: z
      .object({
        /** Stable identity in the registry; defaults to the host name. */
        id: nonEmpty.max(191).optional(),
        /** Overrides the reported host name (simulated workstations in tests and demos). */
        hostName: nonEmpty.max(255).optional(),
        ring: z.enum(['test', 'regular']).default('regular'),
      })
      .strict()
      .default({ ring: 'regular' }),
    log: z
      .object({
        dir: nonEmpty.optional(),
        maxBytes: z.number().int().min(16 * 1024).default(5 * 1024 * 1024),
        keep: z.number().int().min(1).max(100).default(5),
      })
      .strict()
      .default({ maxBytes: 5 * 1024 * 1024, keep: 5 }),
    /** Installing (S8–S10): backups, data folders kept out of them, health confirmation, who may update. */
    installer: z
      .object({
        /** Folders inside the install folder (relative paths) that hold data: never backed up, never replaced. */
        dataFolders: z.array(nonEmpty).default([]),
        /** Backups of earlier versions kept after a successful install (older ones are pruned). */
        keepBackups: z.number().int().min(1).max(20).default(2),
        /** The new version must confirm a healthy start within this time, or the next start reverts it. */
        healthTimeoutMs: z.number().int().min(1_000).max(7 * 24 * 3600_000).default(10 * 60_000),
        /** OS user names (case-insensitive) who may start an update; absent: anyone who can elevate (S10). */
        allowedUsers: z.array(nonEmpty).optional(),
        /** Journal, backups and staging; default: a hidden sibling of the install folder (same file system). */
        stateDir: nonEmpty.optional(),
        /** Linux: how to elevate; auto = pkexec where a polkit agent runs, otherwise the credentials dialog + sudo. */
        linuxElevation: z.enum(['auto', 'pkexec', 'sudo', 'su']).default('auto'),
      })
      .strict()
      .default({ dataFolders: [], keepBackups: 2, healthTimeoutMs: 10 * 60_000, linuxElevation: 'auto' }),
    /** Per-user settings file; defaults to the user's config folder. */
    userSettingsFile: nonEmpty.optional(),
    /** The vendor feed: kernel/feedConfig.ts. */
    feed: FeedConfigSchema.optional(),
    /** The fleet: package store, chunking, bounded transfers — kernel/fleetConfig.ts. */
    fleet: FleetConfigSchema.optional(),
  })
  .strict();

export type MachineConfig = z.infer<typeof MachineConfigSchema> & {
  /** Absolute path of the file this came from; relative paths inside resolve against its folder. */
  readonly sourceFile: string;
};

export const UserSettingsSchema = z
  .object({
    checkAtStart: z.boolean().default(false),
    locale: z.enum(['de', 'en', 'fr']).optional(),
  })
  .strict();

export type UserSettings = z.infer<typeof UserSettingsSchema>;

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(top level)'}: ${i.message}`).join('; ');
}

function readJson(file: string, what: string): unknown {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new LockstepError('E_CONFIG_INVALID', `The ${what} ${file} cannot be read (${code ?? 'error'}).`, { file });
  }
  return parseJson(text, file, what);
}

/**
 * The parser's message quotes the text it choked on: it is never repeated (the file may hold anything, and the
 * privileged helper reads this too). Only where the error is — a line and column, or the end — is said.
 */
function parseJson(text: string, file: string, what: string): unknown {
  const body = text.replace(/^\uFEFF/, ''); // Notepad writes a BOM
  try {
    return JSON.parse(body);
  } catch (err) {
    const at = /position (\d+)/.exec((err as Error).message);
    const where = at ? lineAndColumn(body, Number(at[1])) : /end of JSON input/.test((err as Error).message) ? ' (it ends too early)' : '';
    throw new LockstepError('E_CONFIG_INVALID', `The ${what} ${file} is not valid JSON${where}. Check it with a JSON validator.`, { file });
  }
}

function lineAndColumn(text: string, position: number): string {
  const before = text.slice(0, position).split('\n');
  return ` (line ${before.length}, column ${before[before.length - 1]!.length + 1})`;
}

export function loadMachineConfig(file: string): MachineConfig {
  const abs = path.resolve(file);
  return machineConfigFrom(readJson(abs, 'machine configuration'), abs);
}

/** The machine configuration from text already read (the privileged helper reads it from one descriptor). */
export function parseMachineConfig(text: string, file: string): MachineConfig {
  const abs = path.resolve(file);
  return machineConfigFrom(parseJson(text, abs, 'machine configuration'), abs);
}

/**
 * A configuration given as an object (a host that builds it in code) is checked like the file: `abs` is where
 * relative paths inside it resolve and what errors name (a file beside which it would lie).
 */
export function machineConfigFrom(json: unknown, abs: string): MachineConfig {
  const parsed = MachineConfigSchema.safeParse(json);
  if (!parsed.success) {
    const secret = parsed.error.issues.some((i) => i.path.join('.') === 'database.url' && /password/.test(i.message));
    throw new LockstepError(secret ? 'E_CONFIG_SECRET' : 'E_CONFIG_INVALID', `The machine configuration ${abs} is invalid: ${describeIssues(parsed.error)}`, { file: abs });
  }
  const base = path.dirname(abs);
  const cfg = parsed.data;
  return {
    ...cfg,
    installDir: path.resolve(base, cfg.installDir),
    database: { ...cfg.database, ...(cfg.database.caFile ? { caFile: path.resolve(base, cfg.database.caFile) } : {}) },
    log: { ...cfg.log, ...(cfg.log.dir ? { dir: path.resolve(base, cfg.log.dir) } : {}) },
    ...(cfg.userSettingsFile ? { userSettingsFile: path.resolve(base, cfg.userSettingsFile) } : {}),
    installer: { ...cfg.installer, ...(cfg.installer.stateDir ? { stateDir: path.resolve(base, cfg.installer.stateDir) } : {}) },
    feed: resolveFeedPaths(cfg.feed, base),
    fleet: resolveFleetPaths(cfg.fleet, base),
    sourceFile: abs,
  };
}

export interface LoadedUserSettings {
  settings: UserSettings;
  /** Set when the file was unreadable: it was kept aside (never deleted) and defaults apply. */
  warning: string | null;
}

/** A broken per-user file must not stop the app: it is moved aside as *.broken-<time> and defaults apply. */
export function loadUserSettings(file: string): LoadedUserSettings {
  if (!fs.existsSync(file)) return { settings: UserSettingsSchema.parse({}), warning: null };
  try {
    const parsed = UserSettingsSchema.safeParse(readJson(file, 'user settings file'));
    if (parsed.success) return { settings: parsed.data, warning: null };
    throw new LockstepError('E_CONFIG_INVALID', `The user settings ${file} are invalid: ${describeIssues(parsed.error)}`, { file });
  } catch (err) {
    const aside = `${file}.broken-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    fs.renameSync(file, aside);
    return { settings: UserSettingsSchema.parse({}), warning: `${(err as Error).message} It was kept as ${aside}; defaults apply.` };
  }
}

/** Writes per-user settings atomically (temp file + rename), so a crash never leaves half a file. */
export function saveUserSettings(file: string, settings: UserSettings): void {
  const valid = UserSettingsSchema.parse(settings);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, JSON.stringify(valid, null, 2) + '\n', { mode: 0o600 });
  fs.renameSync(tmp, file);
}
