/**
 * The credentials dialog as the installer sees it (installer/elevation: a CredentialsPrompt). The Linux elevator calls
 * prompt() only where no polkit agent can ask; the broker publishes a request (the shell shows the Credentials window)
 * and resolves with what the window submits, or null when it is cancelled or closed. The password becomes a Buffer at
 * once, which the elevator zeroes after writing it to sudo's standard input; it is never stored, logged or put in a
 * snapshot. A second prompt while one is open replaces it (the first resolves as cancelled).
 */
import { LockstepError } from '../../contract/errors';
import type { CredentialsRequest } from '../../contract/ipc';
import type { Credentials, CredentialsPrompt } from '../../installer/elevation/types';

interface Pending {
  request: CredentialsRequest;
  resolve: (answer: Credentials | null) => void;
}

export class CredentialsBroker {
  private pending: Pending | null = null;
  private nextId = 1;
  private readonly listeners = new Set<(request: CredentialsRequest | null) => void>();

  /** Pass this to createInstaller({ prompt }). */
  readonly prompt: CredentialsPrompt = ({ account, reason }) =>
    new Promise<Credentials | null>((resolve) => {
      this.settle(null);
      this.pending = { request: { id: this.nextId++, account, reason }, resolve };
      this.emit();
    });

  current(): CredentialsRequest | null {
    return this.pending?.request ?? null;
  }

  onChange(listener: (request: CredentialsRequest | null) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The window's answer; null = cancelled. */
  answer(answer: { account: string; password: string } | null): void {
    if (!this.pending) throw new LockstepError('E_INVALID_STATE', 'No credentials were asked for.');
    if (answer === null) return this.settle(null);
    this.settle({ account: answer.account.trim(), password: Buffer.from(answer.password, 'utf8') });
  }

  private settle(value: Credentials | null): void {
    const p = this.pending;
    if (!p) return;
    this.pending = null;
    p.resolve(value);
    this.emit();
  }

  private emit(): void {
    for (const l of this.listeners) l(this.current());
  }
}
