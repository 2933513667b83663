/**
 * One URL names the shared database: `sqlite:<file>` (the embedded default), `postgres://user@host:port/db`,
 * `mssql://user@host:port/db`. Passwords never live in the URL of a configuration file: they come from the OS keychain.
 */
import * as path from 'node:path';
import { LockstepError } from '../contract/errors';
import { effectiveSslMode } from './dbSslMode';

export type DbDialect = 'sqlite' | 'postgres' | 'mssql';

export type DbTarget =
  | { dialect: 'sqlite'; file: string }
  | {
      dialect: 'postgres' | 'mssql';
      host: string;
      port: number;
      database: string;
      user: string | null;
      /** Present only when the URL itself carried one (tests, one-off CLI use); configuration files are refused. */
      password: string | null;
      options: Record<string, string>;
    };

const DEFAULT_PORTS = { postgres: 5432, mssql: 1433 } as const;

/** Parses a database URL. Relative SQLite paths resolve against `baseDir` (the folder of the config file). */
export function parseDbUrl(url: string, baseDir = process.cwd()): DbTarget {
  const text = url.trim();
  if (text.startsWith('sqlite:')) {
    let file = text.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (file.length === 0) throw new LockstepError('E_DB_URL_INVALID', 'sqlite: URL names no file', { url: redactUrl(text) });
    if (file !== ':memory:') file = path.resolve(baseDir, file);
    return { dialect: 'sqlite', file };
  }
  let parsed: URL;
  try {
    parsed = new URL(text);
  } catch {
    throw new LockstepError('E_DB_URL_INVALID', `not a database URL: ${redactUrl(text)}`, { url: redactUrl(text) });
  }
  const scheme = parsed.protocol.replace(/:$/, '');
  const dialect = scheme === 'postgres' || scheme === 'postgresql' ? 'postgres' : scheme === 'mssql' || scheme === 'sqlserver' ? 'mssql' : null;
  if (!dialect) {
    throw new LockstepError('E_DB_URL_INVALID', `unsupported database scheme "${scheme}" (use sqlite:, postgres:// or mssql://)`, { url: redactUrl(text) });
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''));
  if (!parsed.hostname || !database) {
    throw new LockstepError('E_DB_URL_INVALID', 'a database URL needs a host and a database name', { url: redactUrl(text) });
  }
  const options: Record<string, string> = {};
  parsed.searchParams.forEach((value, key) => (options[key] = value));
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (dialect === 'postgres') effectiveSslMode(host, options['sslmode']); // an unknown mode is refused here, not downgraded later
  return {
    dialect,
    host,
    port: parsed.port ? Number(parsed.port) : DEFAULT_PORTS[dialect],
    database,
    user: parsed.username ? decodeURIComponent(parsed.username) : null,
    password: parsed.password ? decodeURIComponent(parsed.password) : null,
    options,
  };
}

/**
 * Names of URL query parameters and connection-string keys that carry a secret (libpq's `password`, SQL Server's
 * `Password`/`Pwd`, and their look-alikes), compared case-insensitively.
 */
const SECRET_KEY = /pass|pwd|secret|token|credential/i;
/** `key=value` pairs in a `;`-, `&`- or `?`-separated text, e.g. an ADO-style `Server=…;Password=…` string. */
const SECRET_PAIR = /(?:^|[;?&])\s*([^=;?&/:]*(?:pass|pwd|secret|token|credential)[^=;?&/:]*)=/i;

/** True when the URL (or connection string) carries a password anywhere: user part, query string or a `key=` pair. */
export function urlHasPassword(url: string): boolean {
  const text = url.trim();
  if (SECRET_PAIR.test(text) || SECRET_PAIR.test(safeDecode(text))) return true;
  try {
    const parsed = new URL(text);
    if (parsed.password !== '') return true;
    for (const key of parsed.searchParams.keys()) if (SECRET_KEY.test(key)) return true;
  } catch {
    // not a URL: the key=value check above is all that applies
  }
  return false;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** The URL with any password (user part, query parameter or `key=value` pair) replaced, safe for logs and errors. */
export function redactUrl(url: string): string {
  return url
    .replace(/(\/\/[^:/@]*:)[^@/]*@/, '$1***@')
    .replace(/((?:^|[;?&])\s*[^=;?&/:]*(?:pass|pwd|secret|token|credential)[^=;?&/:]*=)[^;&#]*/gi, '$1***');
}

/** The keychain account under which the password for this database is stored. */
export function secretAccountFor(target: DbTarget): string | null {
  if (target.dialect === 'sqlite' || !target.user) return null;
  return `db:${target.dialect}://${target.user}@${target.host}:${target.port}/${target.database}`;
}

export function describeTarget(target: DbTarget): string {
  return target.dialect === 'sqlite' ? `sqlite:${target.file}` : `${target.dialect}://${target.host}:${target.port}/${target.database}`;
}
