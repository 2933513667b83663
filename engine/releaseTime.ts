/**
 * "Release at 22:00": the administrator's words → one instant. A clock time means its next occurrence in this
 * machine's time zone after the database server's now (not this workstation's now, which may be off by days); a full
 * ISO time (with or without a zone; without one it is local) is taken as written. Either must lie in the future of
 * the server's clock.
 */
import { LockstepError } from '../contract/errors';

const CLOCK_TIME = /^([01]?\d|2[0-3]):([0-5]\d)$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})?$/;

export function resolveReleaseTime(text: string, serverNow: string): string {
  const now = new Date(serverNow);
  const spoken = text.trim();
  const clock = CLOCK_TIME.exec(spoken);
  let at: Date;
  if (clock) {
    at = new Date(now.getTime());
    at.setHours(Number(clock[1]), Number(clock[2]), 0, 0);
    if (at.getTime() <= now.getTime()) at.setDate(at.getDate() + 1);
  } else if (ISO_TIME.test(spoken)) {
    at = new Date(spoken);
  } else {
    throw new LockstepError('E_USAGE', `"${spoken.slice(0, 40)}" is not a release time: write a clock time such as 22:00 or an ISO time such as 2026-12-01T22:00+01:00.`, { at: spoken.slice(0, 40) });
  }
  if (Number.isNaN(at.getTime()) || at.getTime() <= now.getTime()) {
    throw new LockstepError('E_USAGE', `The release time ${spoken.slice(0, 40)} is not in the future (the database server's time is ${now.toISOString()}); choose a later time.`, { at: spoken.slice(0, 40) });
  }
  return at.toISOString();
}
