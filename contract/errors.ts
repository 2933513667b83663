/**
 * Coded errors. Every failure Lockstep reports carries one of these codes; the CLI prints it, the UI maps it to
 * localized text with what to do. Shared with the renderer, so no Node or Electron imports here.
 */
export const ERROR_CODES = [
  'E_USAGE',
  'E_VERSION_INVALID',
  'E_CONFIG_INVALID',
  'E_CONFIG_SECRET',
  'E_SECRET_MISSING',
  'E_KEYRING_UNAVAILABLE',
  'E_DB_URL_INVALID',
  'E_DB_UNREACHABLE',
  'E_DB_AUTH',
  'E_DB_PERMISSION',
  'E_DB_CONNECTION',
  'E_DB_SCHEMA',
  'E_DB_CORRUPT',
  'E_NOT_ADMIN',
  'E_NOT_FOUND',
  'E_ALREADY_RELEASED',
  'E_RELEASE_CONFLICT',
  'E_DOWNGRADE',
  'E_BELOW_SECURITY_FLOOR',
  'E_INVALID_STATE',
  'E_NO_QUESTION',
  'E_UPGRADE_UNAVAILABLE',
  'E_LICENSE',
  'E_REGISTRATION_MISSING',
  'E_CONNECT',
  'E_SIGNATURE',
  'E_CHECKSUM',
  'E_CATALOG_STALE',
  'E_DISK_FULL',
  'E_ELEVATION_DENIED',
  'E_NO_WRITE_ACCESS',
  'E_INSTALL_FAILED',
  'E_INTERNAL',
  // the vendor feed
  'E_CONTRACT_ENDED',
  'E_NOT_YET_RELEASED',
  'E_REINSTALL_REQUIRED',
  'E_UPGRADE_PATH',
  'E_FEED_INVALID',
  'E_CANCELLED',
  // installing
  'E_NOT_PERMITTED',
  'E_INSTALL_IN_PROGRESS',
  // the fleet
  'E_TRANSFER_BUSY',
  'E_DB_TLS',
  // a command run without a machine configuration (the CLI says how to get one)
  'E_CONFIG_MISSING',
  // the client's own database schema
  'E_SCHEMA_LEVEL',
  'E_SCHEMA_MIGRATION_MISSING',
  'E_SCHEMA_MIGRATION_FAILED',
  'E_SCHEMA_NEEDS_INSTALL',
  'E_SCHEMA_LEASE_BUSY',
  'E_SCHEMA_LEASE_LOST',
  'E_SCHEMA_BACKUP_FAILED',
  // the client's schema claim a vendor signs
  'E_SCHEMA_CLAIM_INVALID',
  // a module with no version for the released app version in the release
  'E_MODULE_INCOMPATIBLE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Plain data form of an error: what crosses IPC and what `--json` prints. */
export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  details?: Record<string, unknown>;
}

export class LockstepError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LockstepError';
    this.code = code;
    this.details = details;
  }

  toInfo(): ErrorInfo {
    return Object.keys(this.details).length > 0
      ? { code: this.code, message: this.message, details: this.details }
      : { code: this.code, message: this.message };
  }
}

export function isLockstepError(err: unknown, code?: ErrorCode): err is LockstepError {
  return err instanceof LockstepError && (code === undefined || err.code === code);
}

/** Wraps anything thrown into a LockstepError, keeping coded ones as they are. */
export function toLockstepError(err: unknown): LockstepError {
  if (err instanceof LockstepError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new LockstepError('E_INTERNAL', message, {}, { cause: err });
}
