/**
 * The workstation registry (S16) and the start-up gate's database work: one read of everything the decision needs,
 * and one heartbeat write afterwards.
 */
import type { Knex } from 'knex';
import { Db } from './connection';
import { mapDbError } from './errors';
import { toRelease, toWorkstation } from './mappers';
import { RELEASE_STATES, ReleaseRow, ReleaseState, Ring, WorkstationRow, nowIso } from './rows';
import { GateSnapshot, Workstation } from './types';

export interface Heartbeat {
  workstationId: string;
  hostName: string;
  osUser: string;
  installedVersion: string;
  ring: Ring;
}

interface SnapshotRow extends Partial<ReleaseRow> {
  revision: number;
  current_release_id: number | null;
  installed_state: string | null;
  test_marked: number | string;
}

export class WorkstationStore {
  constructor(private readonly db: Db) {}

  private async run<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw mapDbError(err, this.db.target);
    }
  }

  /** Everything the gate decides on, in one statement: the pointer with its release, the installed version's state, the test mark. */
  async gateSnapshot(channel: string, workstationId: string, installedKey: string): Promise<GateSnapshot> {
    return this.run(async () => {
      const row = (await gateSnapshotQuery(this.db.knex, channel, workstationId, installedKey)) as SnapshotRow | undefined;
      if (!row) {
        // No release pointer yet for this channel (a new site): the two sub-reads on their own.
        const k = this.db.knex;
        const st = (await k('lockstep_releases').where({ channel, version_key: installedKey }).first('state')) as { state: string } | undefined;
        const marks = (await k('lockstep_test_marks').where({ workstation_id: workstationId, channel, version_key: installedKey }).count('* as n')) as Array<{ n: number | string }>;
        return { current: null, installedState: narrowState(st?.state ?? null), testMarked: Number(marks[0]?.n ?? 0) > 0 };
      }
      const release = row.current_release_id === null ? null : toRelease({ ...(row as ReleaseRow), id: row.current_release_id });
      return {
        current: { channel, revision: row.revision, release },
        installedState: narrowState(row.installed_state),
        testMarked: Number(row.test_marked) > 0,
      };
    });
  }

  /** The heartbeat: one write per start (update; insert on a workstation's first start). */
  async heartbeat(hb: Heartbeat): Promise<void> {
    return this.run(async () => {
      const now = nowIso();
      const fields = { host_name: hb.hostName, os_user: hb.osUser, installed_version: hb.installedVersion, ring: hb.ring, last_start: now };
      const updated = await this.db.knex('lockstep_workstations').where({ workstation_id: hb.workstationId }).update(fields);
      if (updated === 0) {
        await this.db.knex('lockstep_workstations').insert({ workstation_id: hb.workstationId, first_seen: now, ...fields });
      }
    });
  }

  async recordResult(workstationId: string, result: string): Promise<void> {
    return this.run(async () => {
      await this.db.knex('lockstep_workstations').where({ workstation_id: workstationId }).update({ last_result: result.slice(0, 400), last_result_at: nowIso() });
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

/** The gate's one read: the pointer joined to its release, with the installed version's state and test mark as sub-selects. */
export function gateSnapshotQuery(k: Knex, channel: string, workstationId: string, installedKey: string) {
  const installedState = k('lockstep_releases').select('state').where({ channel, version_key: installedKey }).as('installed_state');
  const testMarked = k('lockstep_test_marks').count('*').where({ workstation_id: workstationId, channel, version_key: installedKey }).as('test_marked');
  return k('lockstep_current as c')
    .leftJoin('lockstep_releases as r', 'r.id', 'c.release_id')
    .where('c.channel', channel)
    .first('c.revision', 'c.release_id as current_release_id', 'r.*', installedState, testMarked);
}

function narrowState(value: string | null): ReleaseState | null {
  return value !== null && (RELEASE_STATES as readonly string[]).includes(value) ? (value as ReleaseState) : null;
}
