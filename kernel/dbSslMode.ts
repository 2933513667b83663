/**
 * Which PostgreSQL `sslmode` a database URL asks for (libpq's names), and the default: a host other than this machine
 * gets verify-full, because workstations send the database password over the link and a network attacker must not be
 * able to pose as the server. In the kernel because the machine configuration's URL check needs it; db/tls.ts turns
 * the mode into driver options.
 */
import * as net from 'node:net';
import { LockstepError } from '../contract/errors';

export const SSL_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

export function isSslMode(value: string): value is SslMode {
  return (SSL_MODES as readonly string[]).includes(value);
}

/** Traffic to these never leaves the machine, so an unencrypted link there is IT's choice, not a default risk. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (bare === 'localhost') return true;
  if (net.isIPv4(bare)) return bare.startsWith('127.');
  return net.isIPv6(bare) && (bare === '::1' || /^(0{1,4}:){7}0{0,3}1$/.test(bare));
}

/** The mode in force: the URL's `sslmode` if given (validated by parseDbUrl), else verify-full off this machine. */
export function effectiveSslMode(host: string, sslmode: string | undefined): SslMode {
  if (sslmode !== undefined) {
    if (!isSslMode(sslmode)) {
      throw new LockstepError('E_DB_URL_INVALID', `sslmode "${sslmode}" is not supported: use ${SSL_MODES.join(', ')}`, { sslmode });
    }
    return sslmode;
  }
  return isLoopbackHost(host) ? 'disable' : 'verify-full';
}
