/**
 * Installing module packages together with the app (S6, S8).
 *
 * Where modules live: `<install folder>/modules/<id>/<signed file name>`, listed in `lockstep-modules.json` at the top
 * of the install folder (what `check` and the app read; with `feed.modulesFile` set, `modules/` sits beside that file).
 *  - Inside the install folder, not a data folder: S8's automatic backup then holds the modules with the app, so an
 *    install that fails, or a version that never confirms a healthy start, comes back with exactly the modules it ran
 *    with — app and modules stay a matched pair, which is what each module's app range is about.
 *  - One folder per module id: replacing a module is one folder swap that never touches another module.
 *  - The file keeps the name the vendor signed, so anyone (IT, a support script) can re-hash it against its manifest.
 *
 * The price of living inside the install folder: installing the app replaces the folder's contents (a portable
 * package brings only its own tree). So the module set is carried across the install:
 *   prepare — before anything changes: every ticked package is checked against its signed module manifest (signature,
 *             size, SHA-512), and the modules that stay (unticked, compatible, incompatible-and-confirmed) are copied
 *             aside; a record of what goes where is written atomically. When this user cannot write the module
 *             location, nothing is copied: the installer's privileged helper carries and updates the modules in the
 *             same elevated install as the app, verifying each package again itself (installer/modulePlacement.ts).
 *   (the app is installed by the installer, with its backup and rollback)
 *   place   — once the install folder reports the new version: each module folder is rebuilt from the new package or
 *             its carried copy, then the list is written (last, atomically). A module the app package itself brought
 *             (its list names a version the folder did not have before) is the vendor's choice and wins.
 * A crash between the two is finished at the next start (resumePending), or dropped when the app install reverted.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LockstepError, toLockstepError } from '../contract/errors';
import type { DownloadedModule } from '../contract/update';
import { MachineConfig } from '../kernel/config';
import { FeedContext, alreadyDownloaded, verifyModuleManifest } from './feed/download';
import { VersionFileSource } from '../kernel/installation';
import { Logger } from '../kernel/log';
import { MODULES_DIR, type ModuleHandover } from '../installer/moduleHandover';
import { defaultModulesFile, readInstalledModules } from './modules';
import { compareVersions } from '../kernel/version';

export { MODULES_DIR };
const PENDING_FILE = 'pending.json';

export interface ModuleLocation {
  /** lockstep-modules.json: {"id": "version"}. */
  listFile: string;
  /** The folder holding one sub-folder per module id. */
  dir: string;
}

export function moduleLocation(listFile: string): ModuleLocation {
  return { listFile, dir: path.join(path.dirname(listFile), MODULES_DIR) };
}

interface PendingEntry {
  id: string;
  version: string;
  /** The folder whose contents become modules/<id>/ (null: the module had no folder, only its list entry). */
  source: string | null;
}

interface PendingModules {
  format: 1;
  /** The privileged helper carries and places the modules with the app (this user cannot write their folder). */
  viaHelper?: true;
  /** The app version these modules go with: placed only once the install folder reports it. */
  forVersion: string;
  before: Record<string, string>;
  entries: PendingEntry[];
}

export interface ModuleInstallerDeps {
  /** The app's install folder: modules this user cannot write are handed to its privileged helper only inside it. */
  installDir: string;
  location: ModuleLocation;
  /** A private work folder in the download cache (carried copies and the pending record). */
  workDir: string;
  trustedKeys: readonly string[];
  installedVersion: () => string;
  log: Logger;
}

export class ModuleInstaller {
  constructor(private readonly deps: ModuleInstallerDeps) {}

  /** The installed modules ({"id": "version"}), as the list says. */
  installedModules(): Record<string, string> {
    return readInstalledModules(this.deps.location.listFile);
  }

  private get pendingFile(): string {
    return path.join(this.deps.workDir, PENDING_FILE);
  }

  /**
   * Before the app install; throws with nothing changed when a package does not verify. Returns what to hand to the
   * installer when this user cannot write the modules (its privileged helper then carries and places them, in the
   * same elevation as the app); null when the modules are carried here.
   */
  async prepare(forVersion: string, ticked: readonly DownloadedModule[]): Promise<ModuleHandover | null> {
    const { location, workDir } = this.deps;
    const before = readInstalledModules(location.listFile);
    for (const m of ticked) await this.verify(m, before);
    this.discard();
    if (Object.keys(before).length === 0) return null; // no modules: nothing to carry, nothing to update
    if (!locationWritable(location, Object.keys(before))) {
      // Only where the app's backup holds the modules too (the install folder), so one revert restores both.
      assertInside(this.deps.installDir, location);
      writeAtomic(this.pendingFile, JSON.stringify({ format: 1, viaHelper: true, forVersion, before, entries: [] } satisfies PendingModules, null, 2));
      this.deps.log.info('modules.via-helper', { forVersion, update: ticked.map((m) => `${m.id}@${m.version}`) });
      return { update: ticked.map((m) => ({ id: m.id, packagePath: m.file, manifest: { text: m.manifestText, signature: m.manifestSignature } })) };
    }

    const entries: PendingEntry[] = [];
    for (const [id, version] of Object.entries(before)) {
      const update = ticked.find((m) => m.id === id);
      const source = path.join(workDir, 'carry', id);
      if (update) {
        fs.mkdirSync(source, { recursive: true });
        fs.copyFileSync(update.file, path.join(source, path.basename(update.file)));
        entries.push({ id, version: update.version, source });
      } else if (fs.existsSync(path.join(location.dir, id))) {
        fs.cpSync(path.join(location.dir, id), source, { recursive: true, preserveTimestamps: true });
        entries.push({ id, version, source });
      } else {
        entries.push({ id, version, source: null });
      }
    }
    writeAtomic(this.pendingFile, JSON.stringify({ format: 1, forVersion, before, entries } satisfies PendingModules, null, 2));
    this.deps.log.info('modules.prepared', { forVersion, update: ticked.map((m) => `${m.id}@${m.version}`), carry: entries.filter((e) => !ticked.some((m) => m.id === e.id)).map((e) => e.id) });
    return null;
  }

  /** After the app install. Returns the module list written, or null when nothing was pending. */
  place(): Record<string, string> | null {
    const pending = this.load();
    if (!pending) return null;
    const installed = this.deps.installedVersion();
    if (compareVersions(installed, pending.forVersion) !== 0) {
      // The app install did not happen or was reverted: its backup brought the old modules back with it.
      this.deps.log.warn('modules.dropped', { forVersion: pending.forVersion, installed });
      this.discard();
      return null;
    }
    const { location } = this.deps;
    const after = readInstalledModules(location.listFile);
    if (pending.viaHelper) {
      // The helper placed them inside the install, before the app install reported done.
      this.discard();
      this.deps.log.info('modules.installed', { version: installed, modules: after, by: 'helper' });
      return after;
    }
    const brought = new Set(Object.keys(after).filter((id) => after[id] !== pending.before[id]));
    const list: Record<string, string> = { ...after };
    fs.mkdirSync(location.dir, { recursive: true });
    for (const e of pending.entries) {
      if (brought.has(e.id)) continue; // the app package brought its own version of this module
      if (e.source) replaceFolder(path.join(location.dir, e.id), e.source);
      list[e.id] = e.version;
    }
    writeAtomic(location.listFile, JSON.stringify(list, null, 2) + '\n');
    this.discard();
    this.deps.log.info('modules.installed', { version: installed, modules: list, packageBrought: [...brought] });
    return list;
  }

  /** At start, after the installer's recovery: finishes a placement a crash interrupted (or drops a reverted one). */
  resumePending(): void {
    try {
      this.place();
    } catch (err) {
      const e = toLockstepError(err);
      this.deps.log.error('modules.resume-failed', { code: e.code, message: e.message });
    }
  }

  discard(): void {
    fs.rmSync(this.deps.workDir, { recursive: true, force: true });
  }

  private load(): PendingModules | null {
    try {
      return JSON.parse(fs.readFileSync(this.pendingFile, 'utf8')) as PendingModules;
    } catch {
      return null;
    }
  }

  private async verify(m: DownloadedModule, before: Record<string, string>): Promise<void> {
    const signed = verifyModuleManifest({ signed: JSON.parse(m.manifestText) as unknown, signature: m.manifestSignature }, this.deps.trustedKeys);
    if (signed.module !== m.id || compareVersions(signed.version, m.version) !== 0 || path.basename(m.file) !== signed.file.name) {
      throw new LockstepError('E_SIGNATURE', `The package for module ${m.id} ${m.version} is not the one its signed manifest describes (${signed.module} ${signed.version}, ${signed.file.name}).`, { module: m.id });
    }
    if (!(m.id in before)) throw new LockstepError('E_USAGE', `Module ${m.id} is not installed here; only installed modules are updated.`, { module: m.id });
    if (!(await alreadyDownloaded(m.file, signed.file))) {
      throw new LockstepError('E_CHECKSUM', `${m.file} does not match the size and SHA-512 signed for module ${m.id} ${m.version}; download it again.`, { module: m.id, file: m.file });
    }
  }
}

const NO_RIGHTS = new Set(['EACCES', 'EPERM', 'EROFS']);

/** A real write test (permission bits and ACLs say too little, S9): create and remove a file. False: no rights. */
function writable(dir: string): boolean {
  const probe = path.join(dir, `.lockstep-write-probe-${process.pid}`);
  try {
    fs.writeFileSync(probe, '');
    fs.rmSync(probe, { force: true });
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (NO_RIGHTS.has(code)) return false;
    throw new LockstepError('E_NOT_PERMITTED', `Modules cannot be installed: ${dir} cannot be written (${code || (err as Error).message}). Nothing was changed.`, { folder: dir });
  }
}

/** The list's folder, the modules folder and every installed module's own folder (each is replaced whole). */
function locationWritable(location: ModuleLocation, ids: readonly string[]): boolean {
  const folders = [path.dirname(location.listFile), location.dir, ...ids.map((id) => path.join(location.dir, id))];
  return folders.every((dir) => !isFolder(dir) || writable(dir));
}

function isFolder(p: string): boolean {
  try {
    return fs.lstatSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The privileged helper carries modules only where the app's backup holds them: inside the install folder. */
function assertInside(installDir: string, location: ModuleLocation): void {
  const rel = path.relative(path.resolve(installDir), path.resolve(location.dir));
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new LockstepError('E_NOT_PERMITTED', `Modules cannot be installed: ${location.dir} is not writable for this user and lies outside the install folder, where the privileged installer cannot back them up with the app. Nothing was changed. Keep the module list in the install folder, or let the users write the modules folder.`, { folder: location.dir });
  }
}

/** Rebuilds `target` from `source` beside it, then swaps: another module's folder is never touched. */
function replaceFolder(target: string, source: string): void {
  const fresh = `${target}.new-${process.pid}`;
  fs.rmSync(fresh, { recursive: true, force: true });
  fs.cpSync(source, fresh, { recursive: true, preserveTimestamps: true });
  fs.rmSync(target, { recursive: true, force: true });
  fs.renameSync(fresh, target);
}

function writeAtomic(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(`${file}.tmp`, text);
  fs.renameSync(`${file}.tmp`, file);
}

/**
 * The whole "install the update": prepare the modules, install the app (the caller's installer, every chain step),
 * place the modules. A failed app install leaves the modules as they were (its backup restores them). With a
 * handover, `installApp` must give it to the installer: `modulesForStep` says what each chain step carries.
 */
export async function installWithModules<T>(modules: ModuleInstaller, forVersion: string, ticked: readonly DownloadedModule[], installApp: (handover: ModuleHandover | null) => Promise<T>): Promise<{ app: T; modules: Record<string, string> | null }> {
  const handover = await modules.prepare(forVersion, ticked);
  let app: T;
  try {
    app = await installApp(handover);
  } catch (err) {
    modules.discard();
    throw err;
  }
  try {
    return { app, modules: modules.place() };
  } catch (err) {
    const e = toLockstepError(err);
    throw new LockstepError(e.code === 'E_INTERNAL' ? 'E_INSTALL_FAILED' : e.code, `Version ${forVersion} was installed, but its modules could not be put in place yet (${e.message}); they are placed at the next start.`, { version: forVersion });
  }
}

/**
 * What one step of a chain hands to the installer: every step carries the installed modules across (an elevated
 * install replaces the folder holding them), the last one also brings the updates.
 */
export function modulesForStep(handover: ModuleHandover | null, last: boolean): { modules: ModuleHandover } | Record<string, never> {
  if (!handover) return {};
  return { modules: last ? handover : { update: [] } };
}

/** The module installer of a workstation: the configured (or default) module list, work folder in the download cache. */
export function moduleInstallerFor(config: MachineConfig, feed: Pick<FeedContext, 'cacheDir' | 'trustedKeys' | 'log'>): ModuleInstaller {
  const installed = new VersionFileSource(config.installDir);
  return new ModuleInstaller({
    installDir: config.installDir,
    location: moduleLocation(config.feed?.modulesFile ?? defaultModulesFile(config.installDir)),
    workDir: path.join(feed.cacheDir, 'module-install'),
    trustedKeys: feed.trustedKeys,
    installedVersion: () => installed.installedVersion().raw,
    log: feed.log,
  });
}
