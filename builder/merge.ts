/**
 * Merging Lockstep's electron-builder fragment into a vendor's configuration, so neither has to know the other's
 * keys: lists are joined (the vendor's first, duplicates once), sections are merged key by key, hooks both run
 * (Lockstep's first: the version file must be in the tree before a vendor hook inspects or signs it), and for any
 * other value set on both sides the vendor's wins — except a value Lockstep cannot work without, which is a coded
 * error naming the key rather than a packaged app that fails on the first update.
 */
import type { Configuration, PackContext } from 'app-builder-lib';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { LockstepError } from '../contract/errors';

/** Settings the fragment needs as they are: Windows elevates the helper through elevate.exe. */
const REQUIRED = new Set(['nsis.packElevateHelper']);

/** Keys whose value is a list even when written as one string (electron-builder accepts both). */
const LISTS = new Set(['asarUnpack', 'files', 'extraFiles', 'extraResources', 'publish', 'target']);

const HOOKS = new Set(['beforePack', 'afterExtract', 'afterPack', 'afterSign', 'afterAllArtifactBuild', 'artifactBuildStarted', 'artifactBuildCompleted', 'onNodeModuleFile', 'beforeBuild']);

type Hook = (context: PackContext) => unknown;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.getPrototypeOf(value) === Object.prototype;
}

function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

/** A vendor hook may be a module path, which electron-builder resolves itself: resolve it the same way, when it runs. */
async function resolveHook(hook: unknown, name: string, context: PackContext): Promise<Hook | null> {
  if (typeof hook === 'function') return hook as Hook;
  if (typeof hook !== 'string') return null;
  const projectDir = context.packager.info.projectDir;
  const fromProject = createRequire(path.join(projectDir, 'package.json'));
  const { resolveFunction } = fromProject('app-builder-lib/out/util/resolve') as { resolveFunction(type: string | undefined, executor: string, name: string, root: string): Promise<unknown> };
  const fn = await resolveFunction(context.packager.appInfo.type, hook, name, projectDir);
  return typeof fn === 'function' ? (fn as Hook) : null;
}

function chainHooks(name: string, vendorHook: unknown, lockstepHook: unknown): Hook {
  return async (context) => {
    for (const hook of [lockstepHook, vendorHook]) {
      const fn = await resolveHook(hook, name, context);
      if (fn) await fn(context);
    }
  };
}

function mergeAt(keyPath: string, key: string, vendor: unknown, lockstep: unknown): unknown {
  if (vendor === undefined || vendor === null) return lockstep;
  if (lockstep === undefined || lockstep === null) return vendor;
  if (HOOKS.has(key)) return chainHooks(key, vendor, lockstep);
  if (LISTS.has(key) || Array.isArray(vendor) || Array.isArray(lockstep)) {
    const seen = new Set<string>();
    return [...asList(vendor), ...asList(lockstep)].filter((item) => {
      const id = JSON.stringify(item);
      return seen.has(id) ? false : (seen.add(id), true);
    });
  }
  if (isPlainObject(vendor) && isPlainObject(lockstep)) return mergeObjects(keyPath, vendor, lockstep);
  if (REQUIRED.has(keyPath) && vendor !== lockstep) {
    throw new LockstepError('E_USAGE', `The electron-builder setting ${keyPath} must be ${JSON.stringify(lockstep)} for Lockstep (it is ${JSON.stringify(vendor)}): remove it from your configuration.`, { option: keyPath });
  }
  return vendor;
}

function mergeObjects(at: string, vendor: Record<string, unknown>, lockstep: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...vendor };
  for (const [key, value] of Object.entries(lockstep)) out[key] = mergeAt(at ? `${at}.${key}` : key, key, vendor[key], value);
  return out;
}

/** The vendor's configuration with `fragment` merged in; neither argument is changed. */
export function mergeBuildConfig(vendorConfig: Configuration, fragment: Configuration): Configuration {
  if (!isPlainObject(vendorConfig)) throw new LockstepError('E_USAGE', 'mergeBuildConfig needs the electron-builder configuration object (the one you export from electron-builder.config.js).', { option: 'vendorConfig' });
  return mergeObjects('', vendorConfig as Record<string, unknown>, fragment as Record<string, unknown>) as Configuration;
}
