/**
 * The installer as the app (and the CLI) uses it, running as the ordinary user: policy (S10) → write probe (S9) →
 * the vendor-signed manifest checked early (S18; the side with rights checks it again itself) → the apply pipeline
 * in-process when the user may write, otherwise the privileged helper through the OS elevator → outcome from the
 * journal → relaunch. At every start: recovery from the journal, then (once the app runs) the health confirmation.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ErrorCode, LockstepError, toLockstepError } from '../contract/errors';
import { MachineConfig } from '../kernel/config';
import { Logger } from '../kernel/log';
import { trustedKeys } from '../kernel/trust';
import { InstallSettings } from './apply';
import { Elevator, PrivilegedCommand } from './elevation/types';
import { diskFullOr } from './fsOps';
import { ModuleHandover } from './moduleHandover';
import { Journal, PackageKind, StateDir, newInstallId, readJournal } from './journal';
import { sha512Matches } from './package';
import { RESULT_MARKER, settingsFrom } from './privilegedApply';
import { probeWriteAccess } from './probe';
import { assertMayUpdate } from './policy';
import { RecoveryAction, confirmHealthy, decideRecovery, healthConfirmed } from './recovery';
import { Relauncher, noRelaunch } from './relaunch';
import { SignedInstallRequest, SignedManifest, sameSha512, verifySignedManifest } from './signedRequest';
import { SpawnResult, Spawner } from './spawn';
import { RightsContext, applyWithRights, recoverWithRights } from './withRights';

export interface InstallerDeps {
  config: MachineConfig;
  log: Logger;
  /** The OS user running the app. */
  user: string;
  elevator: Elevator;
  /** The privileged helper with the given arguments, in its one fixed shape (platform.ts helperCommandFor). */
  helperCommand(args: string[]): PrivilegedCommand;
  spawner: Spawner;
  relauncher?: Relauncher;
  now?: () => Date;
}

export interface InstallInput {
  /** The package file; its name must be the one the signed manifest lists (downloads keep that name). */
  packagePath: string;
  kind: PackageKind;
  version: string;
  /** The vendor-signed manifest of `version` (DownloadedStep.manifestText/manifestSignature, Release.manifest…). */
  manifest: SignedManifest;
  /** Optional cross-check by the caller: when given it must be the signed SHA-512 (hex or base64). */
  sha512?: string;
  /**
   * The installed modules, when this user cannot write their folder: carried and updated by the privileged helper in
   * the same elevated session as the app (moduleHandover.ts). Given, the install always goes through the helper.
   */
  modules?: ModuleHandover;
}

export interface InstallOutcome {
  id: string;
  from: string | null;
  to: string;
  /** How the rights were obtained: "none" when the user could write the install folder. */
  elevation: string;
}

export interface StartRecovery {
  action: RecoveryAction;
  journal: Journal | null;
  elevation: string;
}

export class Installer {
  readonly settings: InstallSettings;
  readonly state: StateDir;

  /** Vendor keys: built into the app plus the machine configuration (the helper re-reads its root-owned copy). */
  private readonly keys: readonly string[];

  constructor(private readonly deps: InstallerDeps) {
    this.settings = settingsFrom(deps.config);
    this.state = new StateDir(this.settings.stateDir);
    this.keys = trustedKeys(deps.config);
  }

  /** True when this user may write everything an install writes (a real write test, S9). */
  canWrite(): boolean {
    try {
      return probeWriteAccess([this.settings.installDir, this.settings.stateDir]).writable;
    } catch (err) {
      throw diskFullOr(err, this.settings.installDir);
    }
  }

  async install(input: InstallInput): Promise<InstallOutcome> {
    assertMayUpdate(this.deps.config.installer.allowedUsers, this.deps.user);
    const modules = input.modules ? { update: input.modules.update.map((m) => ({ ...m, packagePath: path.resolve(m.packagePath) })) } : undefined;
    const request: SignedInstallRequest = { id: newInstallId(), kind: input.kind, packagePath: path.resolve(input.packagePath), toVersion: input.version, manifest: input.manifest, ...(modules ? { modules } : {}) };
    if (!fs.existsSync(request.packagePath)) throw new LockstepError('E_USAGE', `The package ${request.packagePath} does not exist.`);
    const writable = !modules && this.canWrite();
    // Fail early, before any elevation prompt, on a package the side with rights would refuse anyway.
    try {
      await precheckSigned(request, this.keys, input.sha512, !writable);
    } catch (err) {
      const e = toLockstepError(err);
      this.deps.log.warn('install.refused', { id: request.id, to: input.version, file: request.packagePath, user: this.deps.user, code: e.code, message: e.message });
      throw e;
    }
    this.deps.log.info('install.start', { id: request.id, to: input.version, kind: input.kind, user: this.deps.user, elevate: !writable, ...(modules ? { modules: modules.update.map((m) => m.id) } : {}) });
    let journal: Journal;
    let elevation = 'none';
    if (writable) {
      journal = await applyWithRights(request, this.rights(), this.keys);
    } else {
      journal = await this.elevated(['--request', this.writeRequest(request)], request.id);
      elevation = this.deps.elevator.method;
    }
    if (journal.phase !== 'awaiting-health') throw journalError(journal);
    this.deps.log.info('install.done', { id: request.id, from: journal.fromVersion, to: input.version, elevation });
    (this.deps.relauncher ?? noRelaunch).relaunch();
    return { id: request.id, from: journal.fromVersion, to: input.version, elevation };
  }

  /** At start, before anything else: finish or revert an interrupted install, revert an unhealthy one. */
  async recoverInstall(): Promise<StartRecovery> {
    const journal = readJournal(this.state);
    const action = decideRecovery(journal, (this.deps.now ?? (() => new Date()))(), healthConfirmed(this.state, journal));
    if (action.type === 'none') return { action, journal, elevation: 'none' };
    this.deps.log.warn('recover.needed', { id: journal?.request.id, phase: journal?.phase, action: action.type });
    if (this.canWrite()) return { action, journal: await recoverWithRights(this.rights()), elevation: 'none' };
    // The revert of an install that was elevated once must not ask a second time where IT allowed the helper's
    // --recover without a password: try that first, and prompt only when the platform has no such way.
    const elevator = this.deps.elevator;
    const after = await this.elevated(['--recover'], journal!.request.id, async (cmd) => (await elevator.runWithoutPrompt?.(cmd)) ?? elevator.run(cmd));
    return { action, journal: after, elevation: elevator.method };
  }

  /** The new version calls this once it started healthily (S8); any user may. */
  confirmHealthy(): boolean {
    const ok = confirmHealthy(this.state, readJournal(this.state));
    if (ok) this.deps.log.info('install.healthy', {});
    return ok;
  }

  journal(): Journal | null {
    return readJournal(this.state);
  }

  private rights(): RightsContext {
    return { settings: this.settings, log: this.deps.log, spawner: this.deps.spawner, startedBy: this.deps.user, ...(this.deps.now ? { now: this.deps.now } : {}) };
  }

  /** The request holds no secret; it sits in a private temp folder only while the helper runs. */
  private writeRequest(request: SignedInstallRequest): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lockstep-request-'));
    const file = path.join(dir, 'request.json');
    fs.writeFileSync(file, JSON.stringify(request), { mode: 0o644 });
    return file;
  }

  private async elevated(args: string[], id: string, run: (cmd: PrivilegedCommand) => Promise<SpawnResult> = (cmd) => this.deps.elevator.run(cmd)): Promise<Journal> {
    const requestFile = args[0] === '--request' ? args[1]! : null;
    try {
      const r = await run(this.deps.helperCommand(args));
      const journal = readJournal(this.state);
      if (journal && journal.request.id === id) return journal;
      const line = r.stdout.split('\n').find((l) => l.startsWith(RESULT_MARKER));
      const result = line ? (JSON.parse(line.slice(RESULT_MARKER.length)) as { error?: { code: ErrorCode; message: string } }) : null;
      if (result?.error) throw new LockstepError(result.error.code, result.error.message);
      throw new LockstepError('E_INSTALL_FAILED', `The privileged installer ended without a result (exit ${r.code ?? r.signal}): ${r.stderr.trim().split('\n').slice(-2).join(' ')}`);
    } finally {
      if (requestFile) fs.rmSync(path.dirname(requestFile), { recursive: true, force: true });
    }
  }
}

/**
 * The unprivileged side's check: signature, version and file entry always (cheap); the size from stat; the whole
 * SHA-512 only when an elevation prompt would follow (otherwise staging checks it while reading anyway).
 */
export async function precheckSigned(request: SignedInstallRequest, keys: readonly string[], callerSha512: string | undefined, beforeElevation: boolean): Promise<void> {
  const { file } = verifySignedManifest(request.manifest, keys, request.packagePath, request.toVersion);
  const mismatch = (why: string) => new LockstepError('E_CHECKSUM', `The package ${path.basename(request.packagePath)} is not the file the vendor signed for version ${request.toVersion} (${why}). Nothing was installed.`, { file: request.packagePath });
  if (callerSha512 !== undefined && !sameSha512(callerSha512, file.sha512)) throw mismatch('the given --sha512 differs from the signed one');
  const size = fs.statSync(request.packagePath).size;
  if (size !== file.size) throw mismatch(`${size} bytes, signed ${file.size}`);
  if (!beforeElevation) return;
  const hash = createHash('sha512');
  for await (const chunk of fs.createReadStream(request.packagePath, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  if (!sha512Matches(hash.digest(), file.sha512)) throw mismatch('its SHA-512 differs from the signed one');
}

function journalError(j: Journal): LockstepError {
  const e = j.error ?? { code: 'E_INSTALL_FAILED', message: `The install ended in phase ${j.phase}.` };
  return new LockstepError(e.code as ErrorCode, e.message, { phase: j.phase, restored: j.phase === 'reverted' ? j.fromVersion : null });
}
