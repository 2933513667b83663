/**
 * Bounds how long a package transfer may take, whatever the source does. The idle time-out alone resets with every
 * byte, so a server (or a hostile network in between) that sends one byte per second kept a download running for
 * hours. Two limits close that:
 * - a minimum rate: fewer than `minBytesPerSecond` averaged over the last `windowMs` of a transfer ends it;
 * - a deadline for the whole download (every attempt and retry): `deadlineBaseMs` + signed size / `deadlineBytesPerSecond`.
 * Either ends as E_CONNECT "too slow", never retried (a trickle "moves forward", so retries would never run out). What
 * arrived stays in the part file, so the next download resumes from it.
 */
import { LockstepError } from '../../contract/errors';
import { TransferPaceSettings } from '../../kernel/feedConfig';

/** How many samples one window holds: a stall is seen within a fifth of a window of happening. */
const SAMPLES_PER_WINDOW = 5;

export function deadlineMsFor(settings: TransferPaceSettings, size: number): number {
  return settings.deadlineBaseMs + Math.ceil((size / settings.deadlineBytesPerSecond) * 1000);
}

/** Where the bytes come from, as a person names it: "host:port" of a server, or a feed folder. */
export interface PaceSubject {
  source: string;
  url: string;
  file: string;
  size: number;
}

export class TransferPace {
  private readonly deadlineAt: number;
  private readonly deadlineMs: number;

  constructor(
    private readonly settings: TransferPaceSettings,
    private readonly subject: PaceSubject,
    private readonly now: () => number = Date.now,
  ) {
    this.deadlineMs = deadlineMsFor(settings, subject.size);
    this.deadlineAt = now() + this.deadlineMs;
  }

  /** E_CONNECT "too slow" once the whole download's deadline has passed (checked before each attempt). */
  overdue(bytes: number): LockstepError | null {
    return this.now() >= this.deadlineAt ? this.deadlineError(bytes) : null;
  }

  /**
   * Watches one attempt: `bytes` reads how far the file is; `fail` is called once with E_CONNECT "too slow" when the
   * rate over the last window falls below the minimum or the deadline passes. Returns the function that stops watching.
   */
  watch(bytes: () => number, fail: (err: LockstepError) => void): () => void {
    const { windowMs, minBytesPerSecond } = this.settings;
    const started = this.now();
    const samples: Array<{ at: number; bytes: number }> = [{ at: started, bytes: bytes() }];
    const needed = (minBytesPerSecond * windowMs) / 1000;
    let stopped = false;
    const stop = () => {
      stopped = true;
      clearInterval(tick);
      clearTimeout(deadline);
    };
    const tick = setInterval(
      () => {
        const at = this.now();
        const current = bytes();
        samples.push({ at, bytes: current });
        // The oldest sample at least one window old is the base; older ones are no longer needed.
        while (samples.length > 1 && samples[1]!.at <= at - windowMs) samples.shift();
        const base = samples[0]!;
        if (at - base.at < windowMs) return;
        const moved = current - base.bytes;
        if (moved < needed) {
          stop();
          fail(this.rateError(moved, at - base.at, current));
        }
      },
      Math.max(Math.floor(windowMs / SAMPLES_PER_WINDOW), 10),
    );
    const deadline = setTimeout(
      () => {
        if (stopped) return;
        stop();
        fail(this.deadlineError(bytes()));
      },
      Math.max(this.deadlineAt - started, 0),
    );
    tick.unref();
    deadline.unref();
    return stop;
  }

  private rateError(moved: number, overMs: number, bytes: number): LockstepError {
    const { source, file, url, size } = this.subject;
    const seconds = Math.round(overMs / 100) / 10;
    return new LockstepError(
      'E_CONNECT',
      `The update server ${source} is too slow: ${moved} bytes of ${file} arrived in the last ${seconds} s, at least ${this.settings.minBytesPerSecond} bytes per second are needed. ${bytes} of ${size} bytes are kept; the next download continues from there. Check the network path to ${source} (proxy, VPN, link quality).`,
      { host: source, url, reason: 'too-slow', bytes, size, minBytesPerSecond: this.settings.minBytesPerSecond, windowMs: this.settings.windowMs },
    );
  }

  private deadlineError(bytes: number): LockstepError {
    const { source, file, url, size } = this.subject;
    return new LockstepError(
      'E_CONNECT',
      `The update server ${source} is too slow: ${file} (${size} bytes) did not arrive within ${Math.round(this.deadlineMs / 1000)} s. ${bytes} of ${size} bytes are kept; the next download continues from there. Check the network path to ${source} (proxy, VPN, link quality).`,
      { host: source, url, reason: 'deadline', bytes, size, deadlineMs: this.deadlineMs },
    );
  }
}
