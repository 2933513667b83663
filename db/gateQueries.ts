/**
 * The start-up gate's SQL, written once as plain parameterised statements (knex.raw turns the ? placeholders into
 * each dialect's own), because the gate runs on every start of every workstation and knex's query builder costs more
 * than the query itself on SQLite. Every value is a binding.
 *
 * The read always returns exactly one row: the pointer (if any) joined to its release, the ledger state of the
 * installed version, whether this workstation marked it test-only and the client database's schema level.
 */
import { serverNowSql } from './serverTime';
import { MAX_MANIFEST_CHARS, OVERSIZED_MANIFEST, cappedTextSql } from './textCap';
import { DbDialect } from '../kernel/dbUrl';

/** The release columns; the manifest only while within its cap (textCap.ts), so an oversized one never travels. */
function releaseColumns(dialect: DbDialect): string {
  return [
    'id', 'channel', 'version', 'version_key', 'state', 'manifest', 'manifest_signature', 'package_size', 'package_sha512', 'notes',
    'created_by', 'created_from', 'created_at', 'released_by', 'released_from', 'released_at', 'withdrawn_by', 'withdrawn_from', 'withdrawn_at',
  ].map((c) => (c === 'manifest' ? cappedTextSql(dialect, 'r.manifest', MAX_MANIFEST_CHARS, OVERSIZED_MANIFEST, 'manifest') : `r.${c} as ${c}`)).join(', ');
}

/** Bindings: channel, installedKey, workstationId, channel, installedKey, channel, channel. */
function snapshotSelect(dialect: DbDialect): string {
  return `select c.revision as revision, c.release_id as current_release_id, ${releaseColumns(dialect)},
  (select s.state from lockstep_releases s where s.channel = ? and s.version_key = ?) as installed_state,
  (select count(*) from lockstep_test_marks m where m.workstation_id = ? and m.channel = ? and m.version_key = ?) as test_marked,
  (select l.level from lockstep_schema_level l where l.id = 1) as schema_level,
  ${scheduleColumns(dialect)}`;
}

/** The channel's pending scheduled release (at most one) and whether it is due, both by the server's clock. */
function scheduleColumns(dialect: DbDialect): string {
  const now = serverNowSql(dialect);
  return `sc.id as schedule_id, sc.release_id as schedule_release_id, sc.version as schedule_version, sc.due_at as schedule_due_at,
  sc.base_revision as schedule_base_revision, sc.scheduled_by as schedule_by, sc.scheduled_from as schedule_from,
  case when sc.due_at <= ${now} then 1 else 0 end as schedule_due, ${now} as server_now`;
}
const SNAPSHOT_FROM = `from (select 1 as one) o
  left join lockstep_current c on c.channel = ?
  left join lockstep_releases r on r.id = c.release_id
  left join lockstep_release_schedules sc on sc.channel = ? and sc.state = 'pending'`;

export function snapshotSql(dialect: DbDialect): string {
  return `${snapshotSelect(dialect)} ${SNAPSHOT_FROM}`;
}

/**
 * The heartbeat, stamped with the database server's clock (a workstation's own may run days off). The ring is
 * "test" while the workstation runs a version it marked test-only that is not the released one, else the configured
 * ring.
 * Bindings: host, user, installed, workstationId, channel, installedKey, channel, installedKey, ring, workstationId.
 */
export function heartbeatSql(dialect: DbDialect): string {
  return `update lockstep_workstations set host_name = ?, os_user = ?, installed_version = ?, last_start = ${serverNowSql(dialect)},
  ring = case when exists (select 1 from lockstep_test_marks t where t.workstation_id = ? and t.channel = ? and t.version_key = ?)
              and not exists (select 1 from lockstep_current p join lockstep_releases q on q.id = p.release_id where p.channel = ? and q.version_key = ?)
         then 'test' else ? end
  where workstation_id = ?`;
}

/** PostgreSQL: heartbeat and read in one statement, so one round trip per start. Bindings: heartbeat's, then snapshot's. */
export const PG_GATE_SQL = `with hb as (${heartbeatSql('postgres')} returning 1 as n)
${snapshotSelect('postgres')}, (select count(*) from hb) as heartbeat_rows ${SNAPSHOT_FROM}`;

export interface GateArgs {
  channel: string;
  workstationId: string;
  installedKey: string;
}

export interface HeartbeatArgs {
  hostName: string;
  osUser: string;
  installedVersion: string;
  ring: 'test' | 'regular';
}

export function snapshotBindings(a: GateArgs): unknown[] {
  return [a.channel, a.installedKey, a.workstationId, a.channel, a.installedKey, a.channel, a.channel];
}

export function heartbeatBindings(a: GateArgs, hb: HeartbeatArgs): unknown[] {
  return [hb.hostName, hb.osUser, hb.installedVersion, a.workstationId, a.channel, a.installedKey, a.channel, a.installedKey, hb.ring, a.workstationId];
}
