/**
 * How the link to a shared PostgreSQL or SQL Server is protected. The URL's `sslmode` (libpq's names) decides for
 * PostgreSQL; a host other than this machine defaults to verify-full, because workstations send the database password
 * over it and a network attacker must not be able to pose as the server. The CA file comes from the machine config
 * (database.caFile), never from the URL a workstation user might edit.
 */
import * as fs from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { LockstepError } from '../contract/errors';
import { SslMode } from '../kernel/dbSslMode';

/** The CA certificates IT names in the machine config; unreadable is a configuration error, never "trust anything". */
export function readCaFile(caFile: string | undefined): string | undefined {
  if (caFile === undefined) return undefined;
  try {
    return fs.readFileSync(caFile, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new LockstepError('E_CONFIG_INVALID', `The database CA file ${caFile} (database.caFile) cannot be read (${code}).`, { file: caFile });
  }
}

/**
 * node-postgres `ssl` options for a mode. verify-full checks the chain and the host name (Node's default
 * checkServerIdentity against the host the URL names); verify-ca checks the chain only; require encrypts without
 * knowing who answers (so the clear-text password guard in pgClient.ts still refuses to send a password there).
 */
export function pgSslOptions(mode: SslMode, ca: string | undefined): false | ConnectionOptions {
  switch (mode) {
    case 'disable':
      return false;
    case 'require':
      return { rejectUnauthorized: false };
    case 'verify-ca':
      return { rejectUnauthorized: true, ...(ca ? { ca } : {}), checkServerIdentity: () => undefined };
    case 'verify-full':
      return { rejectUnauthorized: true, ...(ca ? { ca } : {}) };
  }
}
