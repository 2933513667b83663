/**
 * Installing what the update service downloaded: every chain step in ascending order through the one installer, the
 * ticked module packages together with the app. Shared by the shell (*Install now*) and the public Node API, so both
 * install only what the vendor signed: each step's manifest is checked once more right before its file is used.
 */
import { LockstepError } from '../contract/errors';
import type { DownloadedModule, UpdateState } from '../contract/update';
import type { Platform } from '../kernel/catalogSchema';
import type { PackageKind } from '../installer/journal';
import { fileForPlatform, verifyManifest } from './feed/download';
import { packageKindOf } from '../installer/packageKind';
import { installWithModules, ModuleInstaller, modulesForStep } from './moduleInstall';
import type { ModuleHandover } from '../installer/moduleHandover';
import { KeptPackage, KeptPackageRecord } from './keptPackage';

export interface InstallOutcome {
  from: string | null;
  to: string;
  elevation: string;
}

/** The part of the installer this needs. */
export interface StepInstaller {
  install(input: { packagePath: string; sha512: string; kind: PackageKind; version: string; manifest: { text: string; signature: string }; modules?: ModuleHandover }): Promise<InstallOutcome>;
  confirmHealthy(): boolean;
}

export type Downloaded = Extract<UpdateState, { type: 'downloaded' }>;

export interface InstallDownloadedDeps {
  installer: StepInstaller;
  trustedKeys: readonly string[];
  platform: Platform;
  /** Absent: the app alone (a download with module packages is then refused). */
  modules?: ModuleInstaller;
  /** Where the installed version's package is kept as the next delta base; absent: not kept. */
  kept?: KeptPackage;
}

export async function installDownloaded(state: Downloaded, d: InstallDownloadedDeps): Promise<InstallOutcome> {
  let outcome: InstallOutcome | null = null;
  let first: string | null = null;
  let installed: { file: string; record: KeptPackageRecord } | null = null;
  const installApp = async (handover: ModuleHandover | null): Promise<void> => {
    for (const [i, step] of state.steps.entries()) {
      const manifest = verifyManifest({ signed: JSON.parse(step.manifestText), signature: step.manifestSignature }, d.trustedKeys);
      const file = fileForPlatform(manifest, d.platform);
      if (i > 0) d.installer.confirmHealthy(); // a stepping stone never runs on its own; its successor follows at once
      const last = i === state.steps.length - 1;
      outcome = await d.installer.install({ packagePath: step.file, sha512: file.sha512, kind: packageKindOf(file.name), version: step.version, manifest: { text: step.manifestText, signature: step.manifestSignature }, ...modulesForStep(handover, last) });
      first ??= outcome.from;
      installed = { file: step.file, record: { version: step.version, name: file.name, size: file.size, sha512: file.sha512, blockMap: file.blockMap } };
    }
  };
  await withModules(d.modules, state.version, state.modules, installApp);
  if (!outcome) throw new LockstepError('E_INVALID_STATE', `The download of version ${state.version} holds no package to install.`, { version: state.version });
  const last: InstallOutcome = outcome;
  // Only now, with everything installed: the download stays where it is (a copy is kept, checked on the way).
  const keep = installed as { file: string; record: KeptPackageRecord } | null;
  if (d.kept && keep) await d.kept.keep(keep.file, keep.record, 'copy');
  return { from: first, to: last.to, elevation: last.elevation };
}

async function withModules(modules: ModuleInstaller | undefined, version: string, ticked: DownloadedModule[], installApp: (handover: ModuleHandover | null) => Promise<void>): Promise<void> {
  if (modules) await installWithModules(modules, version, ticked, installApp);
  else if (ticked.length) throw new LockstepError('E_INTERNAL', 'Module packages were downloaded, but there is no module installer.');
  else await installApp(null);
}
