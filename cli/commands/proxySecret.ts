/** Stores the proxy password (S12) in the OS keychain, read from standard input — never an argument or a file. */
import { LockstepError } from '../../contract/errors';
import { loadMachineConfig } from '../../kernel/config';
import { proxyAccount } from '../../engine/feed/context';
import { Command } from '../command';

export const setProxyPassword: Command = {
  name: 'secret set-proxy-password',
  summary: 'store the feed proxy password (read from standard input) in the OS keychain',
  usage: 'printf %s "$PW" | lockstep secret set-proxy-password [--config FILE] [--json]',
  async run(ctx) {
    const proxy = loadMachineConfig(ctx.configPath).feed?.proxy;
    if (!proxy?.username) throw new LockstepError('E_USAGE', 'The machine configuration names no proxy user (feed.proxy.username).');
    const secret = (await ctx.readStdin()).replace(/\r?\n$/, '');
    if (!secret) throw new LockstepError('E_USAGE', 'No password on standard input.');
    const account = proxyAccount(proxy.url, proxy.username);
    await ctx.host.secrets.set(account, secret);
    return { json: { stored: true, account }, text: `Stored the proxy password for ${account} in the OS keychain.` };
  },
};
