/**
 * Checking what a host passes to the public API. Every entry point names its options; an unknown or wrong one is an
 * E_USAGE error that names it (a typo in an option must not silently fall back to a default).
 */
import * as path from 'node:path';
import { z } from 'zod';
import { LockstepError } from '../../contract/errors';
import { MachineConfig, loadMachineConfig, machineConfigFrom } from '../../kernel/config';
import type { SecretStore } from '../secrets';

/** Throws E_USAGE naming the first wrong option of `entry` (e.g. "lockstep/electron start()"). */
export function checkOptions<T extends z.ZodType>(entry: string, schema: T, value: unknown): z.infer<T> {
  const parsed = schema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const option = issue.path.length ? issue.path.join('.') : '(options)';
  const known = schema instanceof z.ZodObject ? ` The options are: ${Object.keys(schema.shape).join(', ')}.` : '';
  const what = issue.code === 'unrecognized_keys' ? `${issue.keys.join(', ')} is not an option of ${entry}.${known}` : `${entry} option ${option}: ${issue.message}.`;
  return fail(what, issue.code === 'unrecognized_keys' ? issue.keys[0]! : option);
}

function fail(message: string, option: string): never {
  throw new LockstepError('E_USAGE', message, { option });
}

/** A function the host passes (zod 4's z.function is not a schema). */
export const fn = <T extends (...args: never[]) => unknown>() => z.custom<T>((v) => typeof v === 'function', { message: 'must be a function' });

/** The keychain a host passes instead of the OS keychain (tests, services with their own vault). */
export const secretStore = z.custom<SecretStore>((v) => typeof v === 'object' && v !== null && ['get', 'set', 'delete'].every((k) => typeof (v as Record<string, unknown>)[k] === 'function'), {
  message: 'must be a secret store with get, set and delete',
});

export const PLATFORMS = ['win32', 'darwin', 'linux'] as const;

/** The machine configuration: a file path, or an object checked exactly like the file. */
export const configOption = z.union([z.string().trim().min(1), z.record(z.string(), z.unknown())]);

/**
 * A file (a relative path from the working folder, as everywhere in Node) is read and checked; an object is checked
 * the same way, its relative paths resolving against `objectBaseDir` (as if it were the file lockstep.machine.json in
 * that folder — the feed and package caches then lie there too).
 */
export function resolveConfig(config: string | Record<string, unknown>, objectBaseDir: string): MachineConfig {
  if (typeof config === 'string') return loadMachineConfig(path.resolve(config));
  return machineConfigFrom(config, path.join(path.resolve(objectBaseDir), 'lockstep.machine.json'));
}
