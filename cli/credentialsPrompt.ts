/**
 * The CLI's credentials for elevation (S9): with --password-stdin, the password is read from standard input once (a
 * chain of steps may elevate more than once) and never appears as an argument; --account names another account.
 */
import { CredentialsPrompt } from '../installer/elevation/types';
import { CommandContext } from './command';

export const CREDENTIAL_OPTIONS = {
  'password-stdin': { type: 'boolean' },
  account: { type: 'string' },
} as const;

export function stdinPrompt(ctx: CommandContext): CredentialsPrompt {
  let stdin: Promise<string> | null = null;
  return async ({ account }) => {
    if (!ctx.values['password-stdin']) return null;
    stdin ??= ctx.readStdin();
    return { account: String(ctx.values['account'] ?? account), password: Buffer.from((await stdin).replace(/\r?\n$/, ''), 'utf8') };
  };
}
