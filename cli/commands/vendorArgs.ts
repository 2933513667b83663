/** Option parsing shared by the vendor commands (feed add, feed refresh, license issue). */
import { LockstepError } from '../../contract/errors';
import { ModuleRelease } from '../../authoring/feedWriter';
import { loadSigner } from '../../authoring/keys';
import { Signer } from '../../kernel/signing';
import { CommandContext, OptionSpec } from '../command';

export const SIGNING_OPTIONS: OptionSpec = { key: { type: 'string' }, 'passphrase-stdin': { type: 'boolean' } };

export const CATALOG_OPTIONS: OptionSpec = {
  feed: { type: 'string' },
  module: { type: 'string', multiple: true },
  'security-floor': { type: 'string' },
  'valid-days': { type: 'string' },
  product: { type: 'string' },
};

export function required(ctx: CommandContext, name: string, usage: string): string {
  const v = ctx.values[name];
  if (typeof v !== 'string' || v.trim() === '') throw new LockstepError('E_USAGE', `--${name} is required.\nUsage: ${usage}`);
  return v;
}

export async function signerFrom(ctx: CommandContext, usage: string): Promise<Signer> {
  const passphrase = ctx.values['passphrase-stdin'] ? (await ctx.readStdin()).replace(/\r?\n$/, '') : undefined;
  return loadSigner(required(ctx, 'key', usage), passphrase);
}

/** --module id@version:range, e.g. "reports@2.0.0:>=2.0.0 <4.0.0". */
export function parseModules(values: unknown): ModuleRelease[] {
  const list = Array.isArray(values) ? values.map(String) : [];
  return list.map((text) => {
    const m = /^([A-Za-z0-9._-]+)@([^:]+):(.+)$/.exec(text.trim());
    if (!m) throw new LockstepError('E_USAGE', `--module "${text}" must look like id@version:range, e.g. reports@2.0.0:>=2.0.0 <4.0.0`);
    return { id: m[1]!, version: m[2]!, appRange: m[3]! };
  });
}

export function validDays(ctx: CommandContext): number | undefined {
  const v = ctx.values['valid-days'];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new LockstepError('E_USAGE', `--valid-days must be a positive number, not "${String(v)}".`);
  return n;
}
