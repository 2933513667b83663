/** Row → domain conversions, one place for every dialect's quirks. */
import { LockstepError } from '../contract/errors';
import { CurrentRow, EventRow, RELEASE_STATES, ReleaseRow, ReleaseState, Ring, WorkstationRow, toIso, toNumber } from './rows';
import { AuditEvent, Release, Workstation } from './types';

function releaseState(value: string, id: number): ReleaseState {
  if ((RELEASE_STATES as readonly string[]).includes(value)) return value as ReleaseState;
  throw new LockstepError('E_DB_CORRUPT', `Release ${id} has an unknown state "${value}" in the shared database.`, { releaseId: id, state: value });
}

export function toRelease(row: ReleaseRow): Release {
  return {
    id: Number(row.id),
    channel: row.channel,
    version: row.version,
    versionKey: row.version_key,
    state: releaseState(row.state, Number(row.id)),
    manifest: row.manifest,
    manifestSignature: row.manifest_signature,
    packageSize: toNumber(row.package_size),
    packageSha512: row.package_sha512,
    notes: row.notes,
    createdBy: row.created_by,
    createdFrom: row.created_from,
    createdAt: toIso(row.created_at)!,
    releasedBy: row.released_by,
    releasedFrom: row.released_from,
    releasedAt: toIso(row.released_at),
    withdrawnBy: row.withdrawn_by,
    withdrawnFrom: row.withdrawn_from,
    withdrawnAt: toIso(row.withdrawn_at),
  };
}

export function toRing(value: string): Ring {
  return value === 'test' ? 'test' : 'regular';
}

export function toWorkstation(row: WorkstationRow): Workstation {
  return {
    workstationId: row.workstation_id,
    hostName: row.host_name,
    osUser: row.os_user,
    installedVersion: row.installed_version,
    ring: toRing(row.ring),
    firstSeen: toIso(row.first_seen)!,
    lastStart: toIso(row.last_start)!,
    lastResult: row.last_result,
    lastResultAt: toIso(row.last_result_at),
    lastResultCode: row.last_result_code ?? null,
    retiredAt: toIso(row.retired_at ?? null),
    retiredBy: row.retired_by ?? null,
  };
}

export function toEvent(row: EventRow): AuditEvent {
  let detail: Record<string, unknown> | null = null;
  if (row.detail) {
    try {
      detail = JSON.parse(row.detail) as Record<string, unknown>;
    } catch {
      detail = { text: row.detail };
    }
  }
  return {
    id: Number(row.id),
    at: toIso(row.at)!,
    action: row.action,
    outcome: row.outcome,
    actor: row.actor,
    workstationId: row.workstation_id,
    channel: row.channel,
    version: row.version,
    detail,
  };
}

export type { CurrentRow };
