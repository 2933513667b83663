/** Stores the database password in the OS keychain. It is read from standard input, never from an argument. */
import * as path from 'node:path';
import { LockstepError } from '../../contract/errors';
import { loadMachineConfig } from '../../kernel/config';
import { parseDbUrl, secretAccountFor } from '../../kernel/dbUrl';
import { Command } from '../command';

export const setDbPassword: Command = {
  name: 'secret set-db-password',
  summary: 'store the database password (read from standard input) in the OS keychain',
  usage: 'printf %s "$PW" | lockstep secret set-db-password [--admin] [--config FILE] [--json]',
  options: { admin: { type: 'boolean' } },
  async run(ctx) {
    const config = loadMachineConfig(ctx.configPath);
    const target = parseDbUrl(config.database.url, path.dirname(config.sourceFile));
    // --admin: the password of the admin login (database.adminUser) that releases and withdraws.
    const adminUser = config.database.adminUser;
    if (ctx.values['admin'] && !adminUser) throw new LockstepError('E_USAGE', 'The machine configuration names no database.adminUser.');
    const account = secretAccountFor(ctx.values['admin'] && target.dialect !== 'sqlite' ? { ...target, user: adminUser! } : target);
    if (!account) throw new LockstepError('E_USAGE', 'This database URL names no user: there is no password to store.');
    const secret = (await ctx.readStdin()).replace(/\r?\n$/, '');
    if (!secret) throw new LockstepError('E_USAGE', 'No password on standard input.');
    await ctx.host.secrets.set(account, secret);
    return { json: { stored: true, account }, text: `Stored the password for ${account} in the OS keychain.` };
  },
};
