/** The grace period as a pure function: warn until release time + N days (server clock), then block; fail closed. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { graceStatus, workstationGrace } from '../../engine/grace';

const RELEASED = '2026-11-30T22:00:00.000Z';
const DAY = 24 * 3600_000;

test('warn for 2 days: inside the grace period a countdown to the deadline, after it block', () => {
  const policy = { warnDays: 2 };
  assert.deepEqual(graceStatus(RELEASED, Date.parse(RELEASED) + DAY, policy), { policy: 'warn', deadline: '2026-12-02T22:00:00.000Z', msLeft: DAY, inGrace: true });
  assert.deepEqual(graceStatus(RELEASED, '2026-12-02T22:00:00.000Z', policy), { policy: 'block', deadline: '2026-12-02T22:00:00.000Z', msLeft: 0, inGrace: false });
  assert.equal(graceStatus(RELEASED, Date.parse(RELEASED) + 3 * DAY, policy).policy, 'block');
});

test('the two ends stay as they were; no release time or a release time in the future never extends the grace', () => {
  assert.deepEqual(graceStatus(RELEASED, Date.now(), 'block'), { policy: 'block', deadline: null, msLeft: null, inGrace: false });
  assert.deepEqual(graceStatus(null, Date.now(), 'warn'), { policy: 'warn', deadline: null, msLeft: null, inGrace: false });
  assert.equal(graceStatus(null, Date.now(), { warnDays: 2 }).policy, 'block');
  const now = Date.parse(RELEASED);
  assert.equal(graceStatus('2027-06-01T00:00:00.000Z', now, { warnDays: 2 }).deadline, new Date(now + 2 * DAY).toISOString());
});

test('registry rows: current, ahead, in grace, blocked', () => {
  const released = { version: '1.1.0', releasedAt: RELEASED };
  const now = Date.parse(RELEASED) + DAY;
  assert.equal(workstationGrace('1.1.0', released, now, { warnDays: 2 }).state, 'current');
  assert.equal(workstationGrace('1.2.0', released, now, { warnDays: 2 }).state, 'ahead');
  assert.deepEqual(workstationGrace('1.0.0', released, now, { warnDays: 2 }), { state: 'in-grace', deadline: '2026-12-02T22:00:00.000Z' });
  assert.equal(workstationGrace('1.0.0', released, now, { warnDays: 0.5 }).state, 'blocked');
  assert.equal(workstationGrace('1.0.0', released, now, 'warn').state, 'warned');
});
