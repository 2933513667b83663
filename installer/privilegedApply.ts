/**
 * The privileged helper: the only code that runs with rights (`sudo`/`pkexec`/`su` on Linux, UAC on Windows, the
 * macOS authorization prompt). It reads the trusted machine configuration from the one location fixed
 * at build time (machineConfigLocation.ts; refused unless only root can change it and every folder above it) and a
 * request file naming just the package, its kind, the version and the vendor-signed manifest of that version (and,
 * when the user cannot write the modules, each updated module's package and signed module manifest) — every folder,
 * data exclusion, policy and trusted vendor key comes from the configuration (and the app), so the invoking user
 * cannot steer the elevated process anywhere else, nor make it install anything the vendor did not sign (S18:
 * signedRequest.ts and moduleHandover.ts verify the manifests, staging checks the bytes against their SHA-512 and size).
 *
 * Its command line has one shape a sudoers rule can name exactly (sudoersRule below), with no variables:
 *
 *   <app executable> --lockstep-privileged-apply --request /tmp/…/request.json     (packaged: electron/main.ts)
 *   <app executable> --lockstep-privileged-apply --recover
 *   node build/installer/privilegedApply.js --lockstep-privileged-apply …         (plain Node)
 *
 * It prints one line `LOCKSTEP-RESULT {json}` (the journal summary or {error}); the journal in the state folder holds
 * the same outcome for callers that cannot read its output (elevate.exe on Windows).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import { parseArgs } from 'node:util';
import { LockstepError, toLockstepError } from '../contract/errors';
import { MachineConfig, parseMachineConfig } from '../kernel/config';
import { RotatingFileLogger } from '../kernel/log';
import { InstallSettings } from './apply';
import { describeZodIssues } from '../kernel/catalogSchema';
import { trustedKeys } from '../kernel/trust';
import { Journal, StateDir, defaultStateDir } from './journal';
import { assertMayUpdate } from './policy';
import { SignedInstallRequest, SignedInstallRequestSchema } from './signedRequest';
import { nodeSpawner } from './spawn';
import { applyWithRights, recoverWithRights } from './withRights';
import { compareVersions } from '../kernel/version';
import { PRIVILEGED_FLAG } from './elevation/win32';
import { machineConfigLocation } from './machineConfigLocation';
import { openRegularFile, readBounded, readRootOnlyFile } from './trustedFile';

export const RESULT_MARKER = 'LOCKSTEP-RESULT ';

export function settingsFrom(config: MachineConfig): InstallSettings {
  return {
    installDir: config.installDir,
    stateDir: config.installer.stateDir ?? defaultStateDir(config.installDir),
    dataFolders: config.installer.dataFolders,
    keepBackups: config.installer.keepBackups,
    healthTimeoutMs: config.installer.healthTimeoutMs,
    ...(config.feed?.modulesFile ? { modulesFile: config.feed.modulesFile } : {}),
  };
}

/** Who asked for the elevation: sudo and pkexec say so in variables the invoking user cannot set. */
export function invokingUser(env: NodeJS.ProcessEnv = process.env): { name: string; uid: number | null } {
  if (env['SUDO_USER'] && env['SUDO_UID']) return { name: env['SUDO_USER'], uid: Number(env['SUDO_UID']) };
  if (env['PKEXEC_UID']) {
    const uid = Number(env['PKEXEC_UID']);
    const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[2] === String(uid));
    return { name: line?.split(':')[0] ?? `uid ${uid}`, uid };
  }
  return { name: os.userInfo().username, uid: process.getuid?.() ?? null };
}

/** As root for another user, the package must be one that user could read anyway (no reading root-only files). */
function assertReadableBy(file: string, uid: number | null): void {
  const st = fs.statSync(file);
  if (!st.isFile()) throw new LockstepError('E_USAGE', `The package ${file} is not a file.`);
  if (uid !== null && uid !== 0 && st.uid !== uid && (st.mode & 0o004) === 0) {
    throw new LockstepError('E_NOT_PERMITTED', `The package ${file} is not readable by the user who asked for the install.`, { file });
  }
}

/** IT's file is small; anything near this bound is not one. */
const MAX_CONFIG_BYTES = 1024 * 1024;
const MAX_REQUEST_BYTES = 256 * 1024;

/**
 * The request is the invoking user's own file: opened once without following a link or blocking on a FIFO, and read
 * only when that user could read it anyway (so root-only files are not parsed, and their content never reaches an
 * error). Errors say what is wrong, never what the file holds.
 */
function readRequest(file: string, uid: number | null): SignedInstallRequest {
  const opened = openRegularFile(file, 'install request');
  if (uid !== null && uid !== 0 && opened.stat.uid !== uid && (opened.stat.mode & 0o004) === 0) {
    fs.closeSync(opened.fd);
    throw new LockstepError('E_NOT_PERMITTED', `The install request ${file} is not readable by the user who asked for the install.`, { file });
  }
  const text = readBounded(opened, MAX_REQUEST_BYTES, file, 'install request');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new LockstepError('E_USAGE', 'The install request is not JSON.');
  }
  const parsed = SignedInstallRequestSchema.safeParse(json);
  if (!parsed.success) throw new LockstepError('E_USAGE', `The install request is invalid: ${describeZodIssues(parsed.error)}`);
  return parsed.data;
}

/** The machine configuration from its fixed location, read from one descriptor that only root can have written. */
export function readMachineConfigAt(file: string): MachineConfig {
  return parseMachineConfig(readRootOnlyFile(file, MAX_CONFIG_BYTES, 'machine configuration'), file);
}

const USAGE = `Usage: privilegedApply ${PRIVILEGED_FLAG} (--request FILE | --recover). The machine configuration is read from its fixed location only.`;

/** The helper's arguments: the fixed first one, then exactly one of --request FILE or --recover. */
function parseHelperArgs(argv: string[]): { request: string | null } {
  if (argv[0] !== PRIVILEGED_FLAG) throw new LockstepError('E_USAGE', USAGE);
  let values: { request?: string; recover?: boolean };
  try {
    values = parseArgs({ args: argv.slice(1), options: { request: { type: 'string' }, recover: { type: 'boolean' } }, strict: true }).values;
  } catch {
    throw new LockstepError('E_USAGE', USAGE);
  }
  if (Boolean(values.request) === Boolean(values.recover)) throw new LockstepError('E_USAGE', USAGE);
  return { request: values.request ?? null };
}

export function summarize(j: Journal | null): Record<string, unknown> {
  if (!j) return { journal: null };
  return { id: j.request.id, phase: j.phase, from: j.fromVersion, to: j.request.toVersion, ...(j.error ? { error: j.error } : {}) };
}

/**
 * A vendor-signed but older version may carry a known hole: being allowed to run this helper must not be a way to
 * downgrade below the security floor that IT set in the root-owned machine configuration.
 */
export function assertAboveFloor(version: string, floor: string | undefined): void {
  if (floor && compareVersions(version, floor) < 0) {
    throw new LockstepError('E_BELOW_SECURITY_FLOOR', `Version ${version} is below the security floor ${floor} set in the machine configuration; it is not installed.`, { version, floor });
  }
}

export interface HelperOptions {
  /** In-process tests only: the configuration location (the command line has no way to set it). */
  configLocation?: string;
}

export async function runPrivilegedMain(argv: string[], env: NodeJS.ProcessEnv = process.env, options: HelperOptions = {}): Promise<{ code: number; result: Record<string, unknown> }> {
  try {
    const args = parseHelperArgs(argv);
    const who = invokingUser(env);
    const asRootForOther = process.getuid?.() === 0 && Boolean(env['SUDO_UID'] ?? env['PKEXEC_UID']);
    const config = readMachineConfigAt(options.configLocation ?? machineConfigLocation(asRootForOther ? who.uid : null));
    assertMayUpdate(config.installer.allowedUsers, who.name);
    const settings = settingsFrom(config);
    // A request is read and judged before anything is written (the log and state folders included).
    const request = args.request === null ? null : readRequest(args.request, asRootForOther ? who.uid : null);
    if (request && asRootForOther) for (const file of [request.packagePath, ...(request.modules?.update ?? []).map((m) => m.packagePath)]) assertReadableBy(file, who.uid);
    if (request) assertAboveFloor(request.toVersion, config.fleet?.securityFloor);
    const log = new RotatingFileLogger(new StateDir(settings.stateDir).logFile, config.log.maxBytes, config.log.keep);
    const rc = { settings, log, spawner: nodeSpawner, startedBy: who.name };
    if (!request) return { code: 0, result: summarize(await recoverWithRights(rc)) };
    // S18: the vendor keys come from the app and this (root-owned) configuration only, never from the request.
    return { code: 0, result: summarize(await applyWithRights(request, rc, trustedKeys(config))) };
  } catch (err) {
    return { code: 2, result: { error: toLockstepError(err).toInfo() } };
  }
}

/** The helper's arguments when this process was started as the helper (the fixed flag right after the program). */
export function privilegedArgs(argv: readonly string[]): string[] | null {
  const at = argv.indexOf(PRIVILEGED_FLAG);
  return at >= 1 && at <= 2 ? argv.slice(at) : null;
}

/** Runs the helper and prints its one result line; the exit code for the process (plain Node or the packaged app). */
export async function runPrivilegedCli(argv: string[]): Promise<number> {
  const { code, result } = await runPrivilegedMain(argv);
  process.stdout.write(RESULT_MARKER + JSON.stringify(result) + '\n');
  return code;
}

/** Characters sudoers treats specially inside a command or its arguments. */
function sudoersEscape(word: string): string {
  return word.replace(/[\\\s,:=()!"#]/g, (c) => `\\${c}`);
}

/**
 * The sudoers line that allows exactly the helper, in the one shape the app runs it: `command` is the app executable
 * (or node, then `script` is privilegedApply.js), `who` a user or %group. The README quotes it and the real-user
 * tests install it, so both agree with what ships.
 */
export function sudoersRule(who: string, command: string, script?: string, options: { recoverWithoutPassword?: boolean } = {}): string {
  const base = [command, ...(script ? [script] : []), PRIVILEGED_FLAG].map(sudoersEscape).join(' ');
  // --recover takes no input from the caller: it only finishes or reverts what the root-owned journal records, so a
  // site may allow it without a password and a revert at the next start does not ask a second time.
  return `${who} ALL=(root) ${base} --request *, ${options.recoverWithoutPassword ? 'NOPASSWD: ' : ''}${base} --recover`;
}

if (require.main === module) {
  void runPrivilegedCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
