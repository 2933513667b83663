/**
 * Extras → Update… as one call for plain Node (the demo and the fleet tests): the signed catalog, the verified feed
 * download of one version, then the installer's apply pipeline. The download stays in the feed
 * cache, where "release for all" finds it again without a second download.
 */
import { LockstepError } from '../../contract/errors';
import { fetchCatalog } from '../catalog';
import { MachineConfig } from '../../kernel/config';
import { downloadModule, downloadVersion } from '../feed/download';
import { installWithModules, moduleInstallerFor, modulesForStep } from '../moduleInstall';
import { moduleStatuses } from '../modules';
import { Logger } from '../../kernel/log';
import { compareVersions } from '../../kernel/version';
import { packageKindOf } from '../../installer/packageKind';
import { Host, feedContextFor, installerFor } from '../compose/host';

export async function installFromFeed(config: MachineConfig, version: string, deps: { host: Host; log: Logger }): Promise<{ from: string | null; to: string; file: string }> {
  const ctx = await feedContextFor(config, deps.host, deps.log, null);
  const { catalog } = await fetchCatalog(ctx);
  const entry = catalog.versions.find((v) => compareVersions(v.version, version) === 0);
  if (!entry) throw new LockstepError('E_NOT_FOUND', `The feed offers no version ${version}.`, { version });
  const got = await downloadVersion(ctx, entry.manifest);
  const installer = installerFor(config, deps.host, deps.log);
  // The installed modules with a newer signed version for this app version come along, preselected as in the window.
  const modules = moduleInstallerFor(config, ctx);
  const updates = moduleStatuses(modules.installedModules(), got.version, catalog.modules).filter((m) => m.status === 'update-available' && m.updateTo);
  const ticked = [];
  for (const u of updates) {
    const signed = catalog.modules.find((m) => m.id === u.id)!.versions.find((v) => compareVersions(v.version, u.updateTo!) === 0)!.manifest!;
    ticked.push(await downloadModule(ctx, signed));
  }
  const { app: out } = await installWithModules(modules, got.version, ticked, (handover) =>
    installer.install({ packagePath: got.file, sha512: got.fileInfo.sha512, kind: packageKindOf(got.fileInfo.name), version: got.version, manifest: { text: got.manifestText, signature: got.manifestSignature }, ...modulesForStep(handover, true) }),
  );
  installer.confirmHealthy(); // the simulated app "started healthily" at once
  await ctx.keptPackage?.keep(got.file, { version: got.version, name: got.fileInfo.name, size: got.fileInfo.size, sha512: got.fileInfo.sha512, blockMap: got.fileInfo.blockMap }, 'copy');
  return { from: out.from, to: out.to, file: got.file };
}
