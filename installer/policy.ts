/**
 * Who may start an update (S10). Default: anyone who can elevate (the elevation itself is the check). With a list of
 * allowed users configured, everyone else gets a coded refusal before any prompt — and the privileged helper checks
 * the same list against the user who invoked it, so going around the app does not help.
 */
import { LockstepError } from '../contract/errors';

/** Windows names users DOMAIN\name; the list may hold either form, case-insensitively. */
function sameUser(listed: string, user: string): boolean {
  const a = listed.trim().toLowerCase();
  const b = user.trim().toLowerCase();
  return a === b || a === b.split('\\').pop() || a.split('\\').pop() === b;
}

export function mayUpdate(allowedUsers: readonly string[] | undefined, user: string): boolean {
  return allowedUsers === undefined || allowedUsers.some((a) => sameUser(a, user));
}

export function assertMayUpdate(allowedUsers: readonly string[] | undefined, user: string): void {
  if (!mayUpdate(allowedUsers, user)) {
    throw new LockstepError('E_NOT_PERMITTED', `User ${user} may not install updates on this workstation. Ask one of the users allowed in the machine configuration (installer.allowedUsers) or your IT administrator.`, { user });
  }
}
