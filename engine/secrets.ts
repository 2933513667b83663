/**
 * Secrets (S22) live in the OS keychain through keytar: Windows Credential Manager, macOS Keychain, the Secret Service
 * (GNOME Keyring, KWallet) on Linux. They are never written to a file, a log, an environment variable or a command line.
 */
import { LockstepError } from '../contract/errors';

export const KEYCHAIN_SERVICE = 'Lockstep';

export interface SecretStore {
  get(account: string): Promise<string | null>;
  set(account: string, secret: string): Promise<void>;
  delete(account: string): Promise<boolean>;
}

interface Keytar {
  getPassword(service: string, account: string): Promise<string | null>;
  setPassword(service: string, account: string, password: string): Promise<void>;
  deletePassword(service: string, account: string): Promise<boolean>;
}

/**
 * keytar through libsecret can hang for a long time where no Secret Service answers on the session bus; a bounded wait
 * turns that into a coded error the user can act on.
 */
export class KeytarSecretStore implements SecretStore {
  private keytar: Promise<Keytar> | null = null;

  constructor(private readonly timeoutMs = 10_000) {}

  /** Loaded lazily: a workstation on the embedded SQLite default never needs the native module. */
  private load(): Promise<Keytar> {
    this.keytar ??= import('keytar').then(
      (m) => (m as unknown as { default?: Keytar }).default ?? (m as unknown as Keytar),
      (err: Error) => {
        this.keytar = null;
        throw new LockstepError('E_KEYRING_UNAVAILABLE', `The OS keychain module cannot be loaded: ${err.message}`, {}, { cause: err });
      },
    );
    return this.keytar;
  }

  private async bounded<T>(what: string, op: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new LockstepError('E_KEYRING_UNAVAILABLE', `The OS keychain did not answer within ${this.timeoutMs} ms (${what}). Is a keyring service running and unlocked?`)),
        this.timeoutMs,
      );
    });
    try {
      return await Promise.race([op(), timeout]);
    } catch (err) {
      if (err instanceof LockstepError) throw err;
      throw new LockstepError('E_KEYRING_UNAVAILABLE', `The OS keychain refused ${what}: ${(err as Error).message}`, {}, { cause: err });
    } finally {
      clearTimeout(timer);
    }
  }

  get(account: string): Promise<string | null> {
    return this.bounded('reading a secret', async () => (await this.load()).getPassword(KEYCHAIN_SERVICE, account));
  }
  set(account: string, secret: string): Promise<void> {
    return this.bounded('storing a secret', async () => (await this.load()).setPassword(KEYCHAIN_SERVICE, account, secret));
  }
  delete(account: string): Promise<boolean> {
    return this.bounded('deleting a secret', async () => (await this.load()).deletePassword(KEYCHAIN_SERVICE, account));
  }
}

/**
 * Reads the database password. A locked keyring and a missing entry look the same through libsecret (null), so the
 * message names both causes and the command that fixes the second.
 */
export async function requireSecret(store: SecretStore, account: string): Promise<string> {
  const secret = await store.get(account);
  if (secret === null || secret === '') {
    throw new LockstepError(
      'E_SECRET_MISSING',
      `No database password for ${account} in the OS keychain (not stored yet, or the keychain is locked). Store it with "lockstep secret set-db-password".`,
      { account },
    );
  }
  return secret;
}
