/**
 * Preloaded with `node --require` into a simulated workstation process: its JavaScript clock runs
 * LOCKSTEP_TEST_CLOCK_SKEW_MS ahead of the machine's (Date.now() and new Date() both), as a workstation with a wrong
 * clock would. Timers and the database server are untouched.
 */
const skewMs = Number(process.env['LOCKSTEP_TEST_CLOCK_SKEW_MS'] ?? '0');
const RealDate = Date;

class SkewedDate extends RealDate {
  constructor(...args: unknown[]) {
    if (args.length === 0) super(RealDate.now() + skewMs);
    else super(...(args as [string | number | Date]));
  }

  static override now(): number {
    return RealDate.now() + skewMs;
  }
}

globalThis.Date = SkewedDate as DateConstructor;
