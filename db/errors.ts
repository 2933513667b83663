/** Maps driver errors (better-sqlite3, pg, tedious) to coded Lockstep errors that name what must be reachable. */
import { LockstepError } from '../contract/errors';
import { DbTarget, describeTarget } from '../kernel/dbUrl';

interface DriverError {
  code?: string;
  errno?: number;
  message?: string;
  number?: number;
}

const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EAI_AGAIN', 'ESOCKET', 'ETIMEOUT', 'SQLITE_CANTOPEN']);
/** Certificate and handshake failures (Node's TLS codes, OpenSSL's verify codes) and pg's refusal without TLS. */
const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|EPROTO$)|CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/;
const TLS_MESSAGE = /does not support SSL connections|error establishing an SSL connection|certificate|SSL routines/i;
const DROPPED = new Set(['ECONNRESET', 'EPIPE', '57P01', '57P02', '57P03', 'ECONNCLOSED', 'ENOTOPEN']);

export function mapDbError(err: unknown, target: DbTarget): LockstepError {
  if (err instanceof LockstepError) return err;
  const e = (err ?? {}) as DriverError;
  const code = e.code ?? '';
  const message = e.message ?? String(err);
  const where = describeTarget(target);
  const details: Record<string, unknown> = target.dialect === 'sqlite' ? { file: target.file } : { host: target.host, port: target.port };

  // A server's own refusal (a five-character SQLSTATE such as 28000) is about the login, even when it says "certificate".
  const fromServer = /^[0-9A-Z]{5}$/.test(code);
  if (!fromServer && (TLS_CODE.test(code) || TLS_MESSAGE.test(message))) {
    return new LockstepError('E_DB_TLS', `The shared database ${where} failed the TLS check: ${code ? `${code}: ` : ''}${firstLine(message)}. Check the server certificate, database.caFile and the sslmode in the URL.`, details, { cause: err });
  }
  if (UNREACHABLE.has(code) || /Knex: Timeout acquiring a connection|connect ECONNREFUSED|timeout expired|Failed to connect/i.test(message)) {
    const hostPort = target.dialect === 'sqlite' ? target.file : `${target.host}:${target.port}`;
    return new LockstepError('E_DB_UNREACHABLE', `The shared database at ${hostPort} cannot be reached (${code || firstLine(message)}). Nothing was written.`, details, { cause: err });
  }
  if (code === '28P01' || code === '28000' || code === 'ELOGIN' || /password authentication failed|Login failed/i.test(message)) {
    return new LockstepError('E_DB_AUTH', `The shared database ${where} refused the login: check the user and the password stored in the OS keychain.`, details, { cause: err });
  }
  if (DROPPED.has(code) || /Connection terminated|terminating connection|server closed the connection|Connection lost/i.test(message)) {
    return new LockstepError('E_DB_CONNECTION', `The connection to the shared database ${where} was lost: ${firstLine(message)}`, details, { cause: err });
  }
  // PostgreSQL insufficient_privilege; SQL Server 229/230 (permission denied on an object or column).
  if (code === '42501' || e.number === 229 || e.number === 230) {
    return new LockstepError('E_DB_PERMISSION', `The shared database ${where} refused the change for this login (permission denied). Releasing, withdrawing and test marks need the admin login: set database.adminUser in the machine configuration and store its password with "lockstep secret set-db-password --admin".`, { ...details, driverCode: code || e.number }, { cause: err });
  }
  if (code === '42P01' || /no such table|Invalid object name/i.test(message)) {
    return new LockstepError('E_DB_SCHEMA', `The shared database ${where} has no Lockstep tables yet: run "lockstep db migrate".`, details, { cause: err });
  }
  return new LockstepError('E_INTERNAL', `Database error on ${where}: ${firstLine(message)}`, { ...details, driverCode: code || undefined }, { cause: err });
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.slice(0, 300);
}

/** True for the errors that a retry on a fresh connection may cure. */
export function isTransientDbError(err: unknown): boolean {
  return err instanceof LockstepError && (err.code === 'E_DB_CONNECTION' || err.code === 'E_DB_UNREACHABLE');
}

/** Unique-constraint violations, across the three dialects. */
export function isUniqueViolation(err: unknown): boolean {
  const e = (err ?? {}) as DriverError;
  return e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || e.number === 2627 || e.number === 2601;
}

/** Serialization failures and deadlocks that a transaction retry cures. */
export function isRetryableTxError(err: unknown): boolean {
  const e = (err ?? {}) as DriverError;
  return e.code === '40001' || e.code === '40P01' || e.code === 'SQLITE_BUSY' || e.code === 'SQLITE_BUSY_SNAPSHOT' || e.number === 1205;
}

/** Foreign-key violations (a referenced row is missing, or a row still referenced), across the three dialects. */
export function isForeignKeyViolation(err: unknown): boolean {
  const e = (err ?? {}) as DriverError;
  return e.code === '23503' || e.code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || e.number === 547;
}
