/**
 * The workstation registry (S16) and the start-up gate's database work: one read of everything the decision needs,
 * and one heartbeat write afterwards (the gate does not wait for it; gateStart does both for the paths that write
 * more for this workstation at once).
 */
import type { Knex } from 'knex';
import { Db } from './connection';
import { toRelease, toWorkstation } from './mappers';
import { isUniqueViolation } from './errors';
import { GateArgs, HeartbeatArgs, PG_GATE_SQL, heartbeatBindings, heartbeatSql, snapshotBindings, snapshotSql } from './gateQueries';
import { RELEASE_STATES, ReleaseRow, ReleaseState, WorkstationRow, toIso } from './rows';
import { toSchedule } from './scheduleStore';
import { serverNow, serverNowSql } from './serverTime';
import { preparedRows } from './preparedRead';
import { appendEvent } from './auditStore';
import { Actor, GateSnapshot, Workstation } from './types';
import { Store } from './store';

interface SnapshotRow extends Partial<ReleaseRow> {
  revision: number;
  current_release_id: number | null;
  installed_state: string | null;
  test_marked: number | string;
  schema_level?: number | string | null;
  schedule_id?: number | string | null;
  schedule_release_id?: number | string | null;
  schedule_version?: string | null;
  schedule_due_at?: Date | string | null;
  schedule_base_revision?: number | string | null;
  schedule_by?: string | null;
  schedule_from?: string | null;
  schedule_due?: number | string | boolean | null;
  server_now?: Date | string | null;
}

export class WorkstationStore extends Store {
  /** Everything the gate decides on, in one statement, without writing (the CLI's `status`). */
  async gateSnapshot(channel: string, workstationId: string, installedKey: string): Promise<GateSnapshot> {
    return this.run(async () => {
      const sql = snapshotSql(this.db.dialect);
      const bindings = snapshotBindings({ channel, workstationId, installedKey });
      // Prepared once per connection (preparedRead.ts): preparing this statement cost more than running it.
      const rows = await preparedRows<SnapshotRow>(this.db, sql, bindings);
      return toSnapshot(channel, rows[0]);
    });
  }

  /**
   * The gate's database work on every start: the heartbeat write and the read, in one round trip on PostgreSQL and
   * two prepared statements elsewhere. A workstation's very first start inserts its row.
   */
  async gateStart(args: GateArgs, hb: HeartbeatArgs): Promise<GateSnapshot> {
    return this.run(async () => {
      let row: (SnapshotRow & { heartbeat_rows?: number | string }) | undefined;
      let heartbeatRows: number;
      if (this.db.dialect === 'postgres') {
        row = (await rawRows<SnapshotRow & { heartbeat_rows: number | string }>(this.db, PG_GATE_SQL, [...heartbeatBindings(args, hb), ...snapshotBindings(args)]))[0];
        heartbeatRows = Number(row?.heartbeat_rows ?? 0);
      } else {
        heartbeatRows = await rawUpdate(this.db, heartbeatSql(this.db.dialect), heartbeatBindings(args, hb));
        row = (await rawRows<SnapshotRow>(this.db, snapshotSql(this.db.dialect), snapshotBindings(args)))[0];
      }
      if (heartbeatRows === 0) await this.firstStart(args, hb);
      return toSnapshot(args.channel, row);
    });
  }

  /** The heartbeat alone (the gate writes it after deciding); a workstation's very first start inserts its row. */
  async heartbeat(args: GateArgs, hb: HeartbeatArgs): Promise<void> {
    return this.run(async () => {
      if ((await rawUpdate(this.db, heartbeatSql(this.db.dialect), heartbeatBindings(args, hb))) === 0) await this.firstStart(args, hb);
    });
  }

  private async firstStart(args: GateArgs, hb: HeartbeatArgs): Promise<void> {
    const knex = this.db.knex;
    try {
      await this.db.knex('lockstep_workstations').insert({
        workstation_id: args.workstationId, host_name: hb.hostName, os_user: hb.osUser, installed_version: hb.installedVersion, ring: hb.ring, first_seen: serverNow(knex), last_start: serverNow(knex),
      });
    } catch (err) {
      // Two processes of one workstation starting at once: the other inserted the row; write ours over it.
      if (!isUniqueViolation(err)) throw err;
      await rawUpdate(this.db, heartbeatSql(this.db.dialect), heartbeatBindings(args, hb));
    }
  }

  /** `code`: the error code when the result is a failure, kept apart from the text so the fleet view can count it. */
  async recordResult(workstationId: string, result: string, code: string | null = null): Promise<void> {
    return this.run(async () => {
      await this.db.knex('lockstep_workstations').where({ workstation_id: workstationId }).update({ last_result: result.slice(0, 400), last_result_code: code === null ? null : code.slice(0, 64), last_result_at: serverNow(this.db.knex) });
    });
  }

  /**
   * Retires a workstation from the fleet's numbers, with its audit row in the same transaction. Its row stays (the
   * history is kept); a start after `retired_at` counts it again. Returns the row as it was, null when none matches.
   */
  async retire(workstationId: string, actor: Actor): Promise<Workstation | null> {
    return this.run(async () =>
      this.db.knex.transaction(async (tx) => {
        const row = await tx<WorkstationRow>('lockstep_workstations').where({ workstation_id: workstationId }).first();
        if (!row) return null;
        await tx('lockstep_workstations').where({ workstation_id: workstationId }).update({ retired_at: serverNow(tx), retired_by: actor.user.slice(0, 255) });
        await appendEvent(tx, { action: 'retire-workstation', outcome: 'ok', actor, detail: { workstationId, hostName: row.host_name, osUser: row.os_user, installedVersion: row.installed_version, lastStart: toWorkstation(row).lastStart } });
        return toWorkstation(row);
      }),
    );
  }

  /** The database server's clock now: the fleet view measures "not seen for N days" on the clock that stamped the starts. */
  async serverTime(): Promise<string> {
    return this.run(async () => {
      const rows = await rawRows<{ now: Date | string }>(this.db, `select ${serverNowSql(this.db.dialect)} as now`, []);
      return toIso(rows[0]!.now)!;
    });
  }

  async get(workstationId: string): Promise<Workstation | null> {
    return this.run(async () => {
      const row = await this.db.knex<WorkstationRow>('lockstep_workstations').where({ workstation_id: workstationId }).first();
      return row ? toWorkstation(row) : null;
    });
  }

  async list(): Promise<Workstation[]> {
    return this.run(async () => (await this.db.knex<WorkstationRow>('lockstep_workstations').select('*').orderBy('host_name').orderBy('workstation_id')).map(toWorkstation));
  }
}

function toSnapshot(channel: string, row: SnapshotRow | undefined): GateSnapshot {
  if (!row) return { current: null, installedState: null, testMarked: false };
  const hasPointer = row.revision !== null && row.revision !== undefined;
  const release = row.current_release_id === null || row.current_release_id === undefined ? null : toRelease({ ...(row as ReleaseRow), id: Number(row.current_release_id) });
  return {
    current: hasPointer ? { channel, revision: Number(row.revision), release } : null,
    installedState: narrowState(row.installed_state),
    testMarked: Number(row.test_marked) > 0,
    schemaLevel: row.schema_level === null || row.schema_level === undefined ? null : Number(row.schema_level),
    schedule: scheduleOf(row, channel),
    serverNow: toIso(row.server_now ?? null),
  };
}

function scheduleOf(row: SnapshotRow, channel: string): GateSnapshot['schedule'] {
  if (row.schedule_id === null || row.schedule_id === undefined) return null;
  return toSchedule({
    id: row.schedule_id, release_id: row.schedule_release_id!, channel, version: row.schedule_version!, due_at: row.schedule_due_at!, base_revision: row.schedule_base_revision!,
    state: 'pending', scheduled_by: row.schedule_by!, scheduled_from: row.schedule_from!, due: row.schedule_due ?? 0,
  });
}

/** knex.raw returns rows differently per driver (pg: {rows}, better-sqlite3: array, mssql: array). */
async function rawRows<T>(db: Db, sql: string, bindings: unknown[]): Promise<T[]> {
  const result = (await db.knex.raw(sql, bindings as Knex.RawBinding[])) as unknown;
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

/** Rows changed by an UPDATE through knex.raw, per driver. */
async function rawUpdate(db: Db, sql: string, bindings: unknown[]): Promise<number> {
  const result = (await db.knex.raw(sql, bindings as Knex.RawBinding[])) as unknown;
  if (typeof result === 'number') return result;
  const r = result as { rowCount?: number; changes?: number; rowsAffected?: number[] };
  return r.rowCount ?? r.changes ?? (Array.isArray(r.rowsAffected) ? r.rowsAffected.reduce((a, b) => a + b, 0) : 0);
}

function narrowState(value: string | null): ReleaseState | null {
  return value !== null && (RELEASE_STATES as readonly string[]).includes(value) ? (value as ReleaseState) : null;
}
