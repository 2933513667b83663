/**
 * `lockstep install` (S23): installs a package file on this workstation with backup, rollback and elevation where
 * needed; `install recover` is what every start runs first; `install confirm` is what the new version runs once it
 * started healthily. The password for elevation comes from standard input (--password-stdin), never an argument.
 */
import * as path from 'node:path';
import { LockstepError } from '../../electron/common/errors';
import { loadMachineConfig } from '../../electron/engine/config';
import { RotatingFileLogger } from '../../electron/engine/log';
import { PACKAGE_KINDS, PackageKind } from '../../installer/journal';
import { createInstaller } from '../../installer/platform';
import { CredentialsPrompt } from '../../installer/elevation/types';
import { Command, CommandContext } from '../command';
import { defaultLogDir } from '../paths';

const credentialOptions = {
  'password-stdin': { type: 'boolean' },
  account: { type: 'string' },
} as const;

function installerFor(ctx: CommandContext) {
  const config = loadMachineConfig(ctx.configPath);
  const log = new RotatingFileLogger(path.join(config.log.dir ?? defaultLogDir(), 'lockstep.log'), config.log.maxBytes, config.log.keep);
  const prompt: CredentialsPrompt = async ({ account }) => {
    if (!ctx.values['password-stdin']) return null;
    const password = Buffer.from((await ctx.readStdin()).replace(/\r?\n$/, ''), 'utf8');
    return { account: String(ctx.values['account'] ?? account), password };
  };
  return createInstaller({ config, log, prompt });
}

export const install: Command = {
  name: 'install',
  summary: 'install a package file (backup, rollback, elevation if needed); password via --password-stdin',
  usage: 'lockstep install FILE --version V --sha512 HASH [--kind portable|deb|appimage|nsis] [--password-stdin [--account NAME]] [--config FILE] [--json]',
  positionals: [1, 1],
  options: { version: { type: 'string' }, sha512: { type: 'string' }, kind: { type: 'string' }, ...credentialOptions },
  async run(ctx) {
    const version = ctx.values['version'];
    const sha512 = ctx.values['sha512'];
    const kind = String(ctx.values['kind'] ?? 'portable');
    if (typeof version !== 'string' || typeof sha512 !== 'string') throw new LockstepError('E_USAGE', `--version and --sha512 are required.\nUsage: ${install.usage}`);
    if (!(PACKAGE_KINDS as readonly string[]).includes(kind)) throw new LockstepError('E_USAGE', `--kind must be one of ${PACKAGE_KINDS.join(', ')}.`);
    const out = await installerFor(ctx).install({ packagePath: ctx.positionals[0]!, sha512, kind: kind as PackageKind, version });
    return { json: { installed: out.to, ...out }, text: `Installed version ${out.to} (was ${out.from ?? 'unknown'}; elevation: ${out.elevation}). Restart the app.` };
  },
};

export const installRecover: Command = {
  name: 'install recover',
  summary: 'at start: finish or revert an interrupted install, revert a version that never confirmed a healthy start',
  usage: 'lockstep install recover [--password-stdin [--account NAME]] [--config FILE] [--json]',
  options: { ...credentialOptions },
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
