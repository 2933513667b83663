/**
 * Releases set for a chosen time. Scheduling writes the schedule row (the release row and its package are already in
 * the ledger, uploaded through the usual publish path); at the due time the first process that sees it moves the
 * pointer, inside the same channel lock and compare-and-set as an immediate release (releaseStore.ts), and marks the
 * schedule applied with a second compare-and-set on its state: however many workstations cross the due time at once,
 * the pointer moves exactly once.
 *
 * "Due" is always judged by the database server's clock, in SQL: a workstation whose clock runs fast never moves the
 * pointer early, one that runs slow never late.
 */
import type { Knex } from 'knex';
import { LockstepError } from '../contract/errors';
import { appendEvent } from './auditStore';
import { VersionRef, casPointer, findRow, insertRelease, packageComplete, releaseById, withChannelLock } from './releaseStore';
import { toRelease } from './mappers';
import { toIso } from './rows';
import { dialectOf, serverNow } from './serverTime';
import { Actor, Release, ReleaseSchedule, ScheduleState } from './types';
import { Store } from './store';

interface ScheduleRow {
  id: number | string;
  release_id: number | string;
  channel: string;
  version: string;
  due_at: Date | string;
  base_revision: number | string;
  state: string;
  scheduled_by: string;
  scheduled_from: string;
  due: number | string | boolean;
}

const STATES: readonly ScheduleState[] = ['pending', 'applied', 'cancelled', 'superseded'];

/** The schedule columns plus whether it is due by the server's clock. */
function scheduleColumns(q: Knex | Knex.Transaction): Array<string | Knex.Raw> {
  return ['id', 'release_id', 'channel', 'version', 'due_at', 'base_revision', 'state', 'scheduled_by', 'scheduled_from', q.raw('case when ?? <= ? then 1 else 0 end as due', ['due_at', serverNow(q)])];
}

export function toSchedule(row: ScheduleRow): ReleaseSchedule {
  return {
    id: Number(row.id),
    releaseId: Number(row.release_id),
    channel: row.channel,
    version: row.version,
    dueAt: toIso(row.due_at)!,
    baseRevision: Number(row.base_revision),
    state: (STATES as readonly string[]).includes(row.state) ? (row.state as ScheduleState) : 'cancelled',
    scheduledBy: row.scheduled_by,
    scheduledFrom: row.scheduled_from,
    due: Number(row.due) === 1 || row.due === true,
  };
}

/** A timestamp as each dialect stores it: SQLite keeps the ISO text form the server clock expression produces. */
function timestampValue(q: Knex | Knex.Transaction, iso: string): string | Date {
  const at = new Date(iso);
  return dialectOf(q) === 'sqlite' ? at.toISOString() : at;
}

async function pendingRow(q: Knex | Knex.Transaction, channel: string): Promise<ReleaseSchedule | null> {
  const row = (await q('lockstep_release_schedules').where({ channel, state: 'pending' }).orderBy('id', 'asc').first(...scheduleColumns(q))) as ScheduleRow | undefined;
  return row ? toSchedule(row) : null;
}

/** Ends a pending schedule; false when it was no longer pending (someone else ended it first). */
async function endSchedule(tx: Knex.Transaction, id: number, state: ScheduleState, actor: Actor, extra?: (b: Knex.QueryBuilder) => Knex.QueryBuilder): Promise<boolean> {
  let update = tx('lockstep_release_schedules').where({ id, state: 'pending' });
  if (extra) update = extra(update);
  const changed = await update.update({ state, ended_by: actor.user, ended_from: actor.workstationId, ended_at: serverNow(tx) });
  return changed === 1;
}

export interface ApplyResult {
  outcome: 'applied' | 'superseded' | 'none';
  release?: Release;
  schedule?: ReleaseSchedule;
}

export class ScheduleStore extends Store {
  /** The database server's time now (ISO). */
  async serverNow(): Promise<string> {
    return this.run(async () => {
      const result = (await this.db.knex.raw('select ? as now', [serverNow(this.db.knex)])) as unknown;
      const rows = Array.isArray(result) ? (result as Array<{ now: Date | string }>) : ((result as { rows: Array<{ now: Date | string }> }).rows ?? []);
      return toIso(rows[0]!.now)!;
    });
  }

  async pending(channel: string): Promise<ReleaseSchedule | null> {
    return this.run(() => pendingRow(this.db.knex, channel));
  }

  async list(channel: string): Promise<ReleaseSchedule[]> {
    return this.run(async () => ((await this.db.knex('lockstep_release_schedules').where({ channel }).orderBy('id', 'asc').select(...scheduleColumns(this.db.knex))) as ScheduleRow[]).map(toSchedule));
  }

  /** The release a schedule names (the gate follows a due schedule before anyone moved the pointer). */
  async scheduledRelease(schedule: ReleaseSchedule): Promise<Release | null> {
    return this.run(async () => {
      const row = await releaseById(this.db.knex, schedule.releaseId);
      return row && row.channel === schedule.channel && row.version === schedule.version ? toRelease(row) : null;
    });
  }

  /**
   * Sets `ref` to become the released version at `dueAt` (ISO instant, strictly after the server's now). The ledger
   * row must exist already when a package was published; without one it is recorded as `test` until the due time.
   */
  async schedule(ref: VersionRef, actor: Actor, dueAt: string, o: { withPackage: boolean }): Promise<ReleaseSchedule> {
    return this.run(() =>
      withChannelLock(this.db, ref.channel, async (tx, current) => {
        const pending = await pendingRow(tx, ref.channel);
        if (pending) {
          throw new LockstepError('E_INVALID_STATE', `Version ${pending.version} is already scheduled for release at ${pending.dueAt}; cancel it first (lockstep release --cancel ${pending.version}).`, { version: pending.version, at: pending.dueAt });
        }
        let row = await findRow(tx, ref);
        if (row && current.release_id === row.id) {
          throw new LockstepError('E_ALREADY_RELEASED', `Version ${row.version} is already the released version of channel "${ref.channel}".`, { version: row.version });
        }
        if (o.withPackage && !(row && (await packageComplete(tx, row.id)))) {
          throw new LockstepError('E_INVALID_STATE', `Version ${ref.version} is still being uploaded; its package is not complete.`, { version: ref.version });
        }
        if (!row) {
          await insertRelease(tx, ref, actor, { state: 'test' }, null);
          row = (await findRow(tx, ref))!;
        }
        const inserted = await tx('lockstep_release_schedules')
          .insert({
            release_id: row.id, channel: ref.channel, version: ref.version, due_at: timestampValue(tx, dueAt), base_revision: current.revision, with_package: o.withPackage,
            state: 'pending', scheduled_by: actor.user, scheduled_from: actor.workstationId, scheduled_at: serverNow(tx),
          })
          .returning('id');
        const first = inserted[0] as { id: number } | number;
        const id = Number(typeof first === 'object' ? first.id : first);
        const saved = toSchedule((await tx('lockstep_release_schedules').where({ id }).first(...scheduleColumns(tx))) as ScheduleRow);
        if (saved.due) {
          throw new LockstepError('E_USAGE', `The release time ${dueAt} is not in the future by the database server's clock; choose a later time.`, { at: dueAt });
        }
        await appendEvent(tx, { action: 'schedule-release', outcome: 'ok', actor, channel: ref.channel, version: ref.version, detail: { scheduleId: id, releaseId: row.id, at: saved.dueAt, baseRevision: current.revision, withPackage: o.withPackage } });
        return saved;
      }),
    );
  }

  /** Cancels the pending schedule of `ref`, only before its due time (by the server's clock). */
  async cancel(ref: VersionRef, actor: Actor): Promise<ReleaseSchedule> {
    return this.run(() =>
      withChannelLock(this.db, ref.channel, async (tx) => {
        const pending = await pendingRow(tx, ref.channel);
        if (!pending || pending.version !== ref.version) {
          throw new LockstepError('E_NOT_FOUND', `Version ${ref.version} is not scheduled for release on channel "${ref.channel}".`, { version: ref.version });
        }
        const ended = await endSchedule(tx, pending.id, 'cancelled', actor, (b) => b.where('due_at', '>', serverNow(tx)));
        if (!ended) {
          throw new LockstepError('E_INVALID_STATE', `The release time of version ${ref.version} (${pending.dueAt}) has passed; it is released. Withdraw it instead (lockstep withdraw ${ref.version}).`, { version: ref.version, at: pending.dueAt });
        }
        await appendEvent(tx, { action: 'cancel-release', outcome: 'ok', actor, channel: ref.channel, version: ref.version, detail: { scheduleId: pending.id, at: pending.dueAt } });
        return { ...pending, state: 'cancelled' as const };
      }),
    );
  }

  /**
   * Moves the pointer to the channel's due schedule, if there is one: exactly once whoever calls. A schedule whose
   * base revision is no longer the pointer's (someone released or withdrew meanwhile) ends as superseded instead.
   */
  async applyDue(channel: string, actor: Actor): Promise<ApplyResult> {
    return this.run(() =>
      withChannelLock(this.db, channel, async (tx, current) => {
        const pending = await pendingRow(tx, channel);
        if (!pending || !pending.due) return { outcome: 'none' as const };
        if (current.revision !== pending.baseRevision) {
          if (!(await endSchedule(tx, pending.id, 'superseded', actor))) return { outcome: 'none' as const };
          await appendEvent(tx, { action: 'release', outcome: 'E_RELEASE_CONFLICT', actor, channel, version: pending.version, detail: { scheduled: true, scheduleId: pending.id, baseRevision: pending.baseRevision, revision: current.revision } });
          return { outcome: 'superseded' as const, schedule: { ...pending, state: 'superseded' as const } };
        }
        const withPackage = Boolean((await tx('lockstep_release_schedules').where({ id: pending.id }).first('with_package'))?.with_package);
        if (withPackage && !(await packageComplete(tx, pending.releaseId))) {
          throw new LockstepError('E_INVALID_STATE', `Version ${pending.version} is due for release, but its package is no longer complete.`, { version: pending.version });
        }
        // The administrator who scheduled it released it; the stamp is the server's time of the move.
        await tx('lockstep_releases').where({ id: pending.releaseId }).update({
          state: 'released', released_by: pending.scheduledBy, released_from: pending.scheduledFrom, released_at: serverNow(tx), withdrawn_by: null, withdrawn_from: null, withdrawn_at: null,
        });
        await casPointer(tx, channel, current.revision, pending.releaseId, actor);
        if (!(await endSchedule(tx, pending.id, 'applied', actor))) {
          throw new LockstepError('E_RELEASE_CONFLICT', `The schedule of version ${pending.version} ended meanwhile; decide again.`, { channel });
        }
        await appendEvent(tx, {
          action: 'release', outcome: 'ok', actor, channel, version: pending.version,
          detail: { scheduled: true, scheduleId: pending.id, dueAt: pending.dueAt, scheduledBy: pending.scheduledBy, previousReleaseId: current.release_id, releaseId: pending.releaseId, revision: current.revision + 1, withPackage },
        });
        return { outcome: 'applied' as const, release: toRelease((await releaseById(tx, pending.releaseId))!), schedule: { ...pending, state: 'applied' as const } };
      }),
    );
  }
}
