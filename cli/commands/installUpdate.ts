/**
 * `lockstep install-update`: what *Install now* does in the Update window, from the output of `lockstep download
 * --json` — every downloaded app step through the installer (backup, rollback, elevation), and the module packages
 * downloaded with it (S6) put into the install folder together with the app, while the modules that were not updated
 * are carried across unchanged (engine/moduleInstall.ts says where they live and why).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError } from '../../contract/errors';
import type { DownloadedModule } from '../../contract/update';
import { loadMachineConfig } from '../../kernel/config';
import { defaultCacheDir } from '../../engine/feed/context';
import { packageKindOf } from '../../installer/packageKind';
import { installWithModules, moduleInstallerFor, modulesForStep } from '../../engine/moduleInstall';
import { trustedKeys } from '../../kernel/trust';
import { readManifestFile } from '../../installer/manifestInput';
import { Command } from '../command';
import { CREDENTIAL_OPTIONS, stdinPrompt } from '../credentialsPrompt';
import { installerFor, logFor } from '../../engine/compose/host';

const USAGE = 'lockstep install-update --manifest DOWNLOAD.json [--password-stdin [--account NAME]] [--config FILE] [--json]';

/** The module packages listed in the download output; nothing here is trusted (the module installer re-verifies). */
function downloadedModules(file: string): DownloadedModule[] {
  const doc = JSON.parse(fs.readFileSync(file, 'utf8').replace(/^\uFEFF/, '')) as { modules?: unknown };
  if (doc.modules === undefined) return [];
  if (!Array.isArray(doc.modules)) throw new LockstepError('E_USAGE', `${file}: "modules" must be the list "lockstep download --json" writes.`, { file });
  const base = path.dirname(path.resolve(file));
  return doc.modules.map((m: Record<string, unknown>, i) => {
    const fields = ['id', 'name', 'version', 'file', 'manifestText', 'manifestSignature'] as const;
    if (m === null || typeof m !== 'object' || fields.some((f) => typeof m[f] !== 'string')) throw new LockstepError('E_USAGE', `${file}: module ${i + 1} lacks ${fields.join(', ')}.`, { file });
    const s = m as Record<(typeof fields)[number], string>;
    return { id: s.id, name: s.name, version: s.version, file: path.resolve(base, s.file), manifestText: s.manifestText, manifestSignature: s.manifestSignature };
  });
}

export const installUpdate: Command = {
  name: 'install-update',
  summary: 'install a downloaded update: the app steps and the ticked module packages together (download --json output)',
  usage: USAGE,
  options: { manifest: { type: 'string' }, ...CREDENTIAL_OPTIONS },
  async run(ctx) {
    const manifestFile = ctx.values['manifest'];
    if (typeof manifestFile !== 'string') throw new LockstepError('E_USAGE', `--manifest is required: the output of "lockstep download --json".\nUsage: ${USAGE}`);
    const steps = readManifestFile(manifestFile);
    if (steps.some((s) => s.file === null || s.version === null)) throw new LockstepError('E_USAGE', `${manifestFile} is not the output of "lockstep download --json" (steps without files).`);
    const modules = downloadedModules(manifestFile);
    const config = loadMachineConfig(ctx.configPath);
    const log = logFor(config, ctx.host);
    const installer = installerFor(config, ctx.host, log, { prompt: stdinPrompt(ctx) });
    const moduleInstaller = moduleInstallerFor(config, { cacheDir: config.feed?.cacheDir ?? defaultCacheDir(config), trustedKeys: trustedKeys(config), log });
    const target = steps[steps.length - 1]!.version!;
    const { app, modules: list } = await installWithModules(moduleInstaller, target, modules, async (handover) => {
      const outcomes = [];
      for (const [i, step] of steps.entries()) {
        if (i > 0) installer.confirmHealthy(); // a stepping stone never runs on its own; its successor follows at once
        if (steps.length > 1) ctx.progress(`Installing ${step.version} (${i + 1} of ${steps.length})…`);
        outcomes.push(await installer.install({ packagePath: step.file!, version: step.version!, kind: packageKindOf(path.basename(step.file!)), manifest: step.manifest, ...modulesForStep(handover, i === steps.length - 1) }));
      }
      return outcomes;
    });
    const last = app[app.length - 1]!;
    const updated = modules.map((m) => `${m.id} ${m.version}`);
    return {
      json: { installed: last.to, from: app[0]!.from, elevation: last.elevation, steps: app, modules: list ?? {} },
      text: `Installed version ${last.to} (was ${app[0]!.from ?? 'unknown'}; elevation: ${last.elevation})${updated.length ? `; modules updated: ${updated.join(', ')}` : ''}. Restart the app.`,
    };
  },
};
