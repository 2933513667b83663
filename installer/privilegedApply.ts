/**
 * The privileged helper: the only code that runs with rights (`sudo`/`pkexec`/`su` on Linux, UAC on Windows, the
 * macOS authorization prompt). It reads the trusted machine configuration (refused unless only root can change it)
 * and a request file naming just the package, its kind, the version and the vendor-signed manifest of that version —
 * every folder, data exclusion, policy and trusted vendor key comes from the configuration (and the app), so the
 * invoking user cannot steer the elevated process anywhere else, nor make it install anything the vendor did not sign
 * (S18: signedRequest.ts verifies the manifest, staging checks the bytes against its SHA-512 and size).
 *
 *   node build/installer/privilegedApply.js --config /etc/app/lockstep.machine.json --request /tmp/…/request.json
 *   node build/installer/privilegedApply.js --config … --recover
 *
 * It prints one line `LOCKSTEP-RESULT {json}` (the journal summary or {error}); the journal in the state folder holds
 * the same outcome for callers that cannot read its output (elevate.exe on Windows).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { LockstepError, toLockstepError } from '../electron/common/errors';
import { MachineConfig, loadMachineConfig } from '../electron/engine/config';
import { RotatingFileLogger } from '../electron/engine/log';
import { InstallSettings } from './apply';
import { describeZodIssues } from '../electron/engine/feed/catalogSchema';
import { trustedKeys } from '../electron/engine/trust';
import { Journal, StateDir, defaultStateDir } from './journal';
import { assertMayUpdate } from './policy';
import { SignedInstallRequest, SignedInstallRequestSchema } from './signedRequest';
import { nodeSpawner } from './spawn';
import { applyWithRights, recoverWithRights } from './withRights';
import { compareVersions } from '../electron/engine/version';

export const RESULT_MARKER = 'LOCKSTEP-RESULT ';

export function settingsFrom(config: MachineConfig): InstallSettings {
  return {
    installDir: config.installDir,
    stateDir: config.installer.stateDir ?? defaultStateDir(config.installDir),
    dataFolders: config.installer.dataFolders,
    keepBackups: config.installer.keepBackups,
    healthTimeoutMs: config.installer.healthTimeoutMs,
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

/** As root, the configuration must be changeable by root only: the file and every folder above it. */
export function assertRootOnly(file: string): void {
  let p = path.resolve(file);
  for (;;) {
    const st = fs.statSync(p);
    const sticky = st.isDirectory() && (st.mode & 0o1000) !== 0;
    if (st.uid !== 0 || ((st.mode & 0o022) !== 0 && !sticky)) {
      throw new LockstepError('E_NOT_PERMITTED', `${p} can be changed by users other than root, so the privileged installer does not trust ${file}.`, { file: p });
    }
    const parent = path.dirname(p);
    if (parent === p) return;
    p = parent;
  }
}

/** As root for another user, the package must be one that user could read anyway (no reading root-only files). */
function assertReadableBy(file: string, uid: number | null): void {
  const st = fs.statSync(file);
  if (!st.isFile()) throw new LockstepError('E_USAGE', `The package ${file} is not a file.`);
  if (uid !== null && uid !== 0 && st.uid !== uid && (st.mode & 0o004) === 0) {
    throw new LockstepError('E_NOT_PERMITTED', `The package ${file} is not readable by the user who asked for the install.`, { file });
  }
}

function readRequest(file: string): SignedInstallRequest {
  const text = fs.readFileSync(file, 'utf8');
  if (text.length > 256 * 1024) throw new LockstepError('E_USAGE', 'The install request is too large.');
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

export async function runPrivilegedMain(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; result: Record<string, unknown> }> {
  try {
    const { values } = parseArgs({ args: argv, options: { config: { type: 'string' }, request: { type: 'string' }, recover: { type: 'boolean' } }, strict: true });
    if (!values.config || (!values.request && !values.recover)) throw new LockstepError('E_USAGE', 'Usage: privilegedApply --config FILE (--request FILE | --recover)');
    const asRootForOther = process.getuid?.() === 0 && Boolean(env['SUDO_UID'] ?? env['PKEXEC_UID']);
    if (asRootForOther) assertRootOnly(values.config);
    const config = loadMachineConfig(values.config);
    const who = invokingUser(env);
    assertMayUpdate(config.installer.allowedUsers, who.name);
    const settings = settingsFrom(config);
    // A request is read and judged before anything is written (the log and state folders included).
    const request = values.recover ? null : readRequest(values.request!);
    if (request && asRootForOther) assertReadableBy(request.packagePath, who.uid);
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

if (require.main === module) {
  void runPrivilegedMain(process.argv.slice(2)).then(({ code, result }) => {
    process.stdout.write(RESULT_MARKER + JSON.stringify(result) + '\n');
    process.exitCode = code;
  });
}
