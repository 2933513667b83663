/**
 * `lockstep install` (S23): installs a vendor-signed package file on this workstation with backup, rollback and
 * elevation where needed — the signed manifest (S18) comes with --manifest, most simply the output of
 * `lockstep download --json`, whose steps it installs in order. `install recover` is what every start runs first;
 * `install confirm` is what the new version runs once it started healthily. The password for elevation comes from
 * standard input (--password-stdin), never an argument.
 */
import * as path from 'node:path';
import { LockstepError } from '../../contract/errors';
import { loadMachineConfig } from '../../kernel/config';
import { packageKindOf } from '../../installer/packageKind';
import { PACKAGE_KINDS, PackageKind } from '../../installer/journal';
import { readManifestFile } from '../../installer/manifestInput';
import { SignedManifest } from '../../installer/signedRequest';
import { Command, CommandContext } from '../command';
import { CREDENTIAL_OPTIONS, stdinPrompt } from '../credentialsPrompt';
import { installerFor as hostInstallerFor, logFor } from '../../engine/compose/host';

function installerFor(ctx: CommandContext) {
  const config = loadMachineConfig(ctx.configPath);
  return hostInstallerFor(config, ctx.host, logFor(config, ctx.host), { prompt: stdinPrompt(ctx) });
}

interface PlannedStep {
  packagePath: string;
  version: string;
  kind: PackageKind;
  manifest: SignedManifest;
}

/** Which files to install with which signed manifest, from FILE, --manifest and the optional overrides. */
function plan(ctx: CommandContext): PlannedStep[] {
  const manifestFile = ctx.values['manifest'];
  if (typeof manifestFile !== 'string') throw new LockstepError('E_USAGE', `--manifest is required: the vendor-signed manifest (S18), e.g. the output of "lockstep download --json".\nUsage: ${install.usage}`);
  const file = ctx.positionals[0];
  let steps = readManifestFile(manifestFile);
  if (file !== undefined) {
    const wanted = path.resolve(file);
    const named = steps.filter((s) => s.file !== null);
    if (named.length) {
      steps = named.filter((s) => s.file === wanted || path.basename(s.file!) === path.basename(wanted));
      if (steps.length !== 1) throw new LockstepError('E_USAGE', `${manifestFile} lists no downloaded step for ${file}.`, { file });
    }
    steps = steps.map((s) => ({ ...s, file: wanted }));
  } else if (steps.some((s) => s.file === null)) {
    throw new LockstepError('E_USAGE', `Name the package file: ${manifestFile} holds only a manifest.\nUsage: ${install.usage}`);
  }
  const version = ctx.values['version'];
  const kind = ctx.values['kind'];
  if (steps.length > 1 && (typeof version === 'string' || typeof kind === 'string')) throw new LockstepError('E_USAGE', '--version and --kind apply to one package; name the file to install a single step.');
  if (typeof kind === 'string' && !(PACKAGE_KINDS as readonly string[]).includes(kind)) throw new LockstepError('E_USAGE', `--kind must be one of ${PACKAGE_KINDS.join(', ')}.`);
  return steps.map((s) => {
    const v = typeof version === 'string' ? version : s.version;
    if (!v) throw new LockstepError('E_USAGE', `The manifest names no version: pass --version.\nUsage: ${install.usage}`);
    return { packagePath: s.file!, version: v, kind: typeof kind === 'string' ? (kind as PackageKind) : packageKindOf(path.basename(s.file!)), manifest: s.manifest };
  });
}

export const install: Command = {
  name: 'install',
  summary: 'install a vendor-signed package (backup, rollback, elevation if needed); password via --password-stdin',
  usage:
    'lockstep install [FILE] --manifest DOWNLOAD.json|SIGNED.json [--version V] [--sha512 HASH] [--kind portable|deb|appimage|nsis] [--password-stdin [--account NAME]] [--config FILE] [--json]',
  positionals: [0, 1],
  options: { manifest: { type: 'string' }, version: { type: 'string' }, sha512: { type: 'string' }, kind: { type: 'string' }, ...CREDENTIAL_OPTIONS },
  async run(ctx) {
    const steps = plan(ctx);
    const sha512 = ctx.values['sha512'];
    if (typeof sha512 === 'string' && steps.length > 1) throw new LockstepError('E_USAGE', '--sha512 applies to one package; name the file to install a single step.');
    const installer = installerFor(ctx);
    const outcomes = [];
    for (const [i, step] of steps.entries()) {
      if (i > 0) installer.confirmHealthy(); // a stepping stone never runs on its own; its successor follows at once
      if (steps.length > 1) ctx.progress(`Installing ${step.version} (${i + 1} of ${steps.length})…`);
      outcomes.push(await installer.install({ ...step, ...(typeof sha512 === 'string' ? { sha512 } : {}) }));
    }
    const last = outcomes[outcomes.length - 1]!;
    const from = outcomes[0]!.from;
    return {
      json: { installed: last.to, ...last, from, ...(outcomes.length > 1 ? { steps: outcomes } : {}) },
      text: `Installed version ${last.to} (was ${from ?? 'unknown'}; elevation: ${last.elevation}${outcomes.length > 1 ? `; ${outcomes.length} steps` : ''}). Restart the app.`,
    };
  },
};

export const installRecover: Command = {
  name: 'install recover',
  summary: 'at start: finish or revert an interrupted install, revert a version that never confirmed a healthy start',
  usage: 'lockstep install recover [--password-stdin [--account NAME]] [--config FILE] [--json]',
  options: { ...CREDENTIAL_OPTIONS },
  async run(ctx) {
    const r = await installerFor(ctx).recoverInstall();
    const j = r.journal;
    const json = { action: r.action.type, reason: 'reason' in r.action ? r.action.reason : null, phase: j?.phase ?? null, installed: j ? (j.phase === 'reverted' || j.phase === 'failed' ? j.fromVersion : j.request.toVersion) : null, elevation: r.elevation, error: j?.error ?? null };
    return { json, text: r.action.type === 'none' ? `Nothing to recover (${json.reason}).` : `Recovered: ${r.action.type} → ${json.phase}${j?.error ? ` (${j.error.code}: ${j.error.message})` : ''}` };
  },
};

export const installConfirm: Command = {
  name: 'install confirm',
  summary: 'the new version confirms its healthy start (otherwise the next start reverts it)',
  usage: 'lockstep install confirm [--config FILE] [--json]',
  async run(ctx) {
    const confirmed = installerFor(ctx).confirmHealthy();
    return { json: { confirmed }, text: confirmed ? 'Healthy start confirmed.' : 'No install awaits confirmation.' };
  },
};
