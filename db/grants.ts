/**
 * Least privilege in the shared database (S31). Every workstation holds the workstation login's password in its
 * keychain, so that login must not be able to change what the fleet installs: it reads releases, the pointer and
 * packages, and writes only the registry, transfer leases and audit rows (audit rows insert-only). Releases, the
 * pointer, packages, chunks, stored manifests and test marks change only through the admin login, which the
 * administrators answering "release for all" use. Neither login may update or delete audit rows.
 *
 * The statements are built by knex with identifier bindings (quoting per dialect); the caller applies them with the
 * login that owns the tables (the one that ran `lockstep db migrate`).
 */
import { createHash } from 'node:crypto';
import { Knex } from 'knex';
import { LockstepError } from '../contract/errors';
import { DbDialect } from '../kernel/dbUrl';

export type GrantRole = 'workstation' | 'admin';

const TABLES = [
  'lockstep_releases',
  'lockstep_current',
  'lockstep_workstations',
  'lockstep_test_marks',
  'lockstep_events',
  'lockstep_release_chunks',
  'lockstep_release_packages',
  'lockstep_transfer_leases',
  'lockstep_schema_level',
  'lockstep_schema_history',
  'lockstep_schema_lease',
  'lockstep_blocks',
  'lockstep_release_blocks',
  'lockstep_release_schedules',
  'lockstep_release_modules',
  'lockstep_migrations',
  'lockstep_migrations_lock',
] as const;

type Table = (typeof TABLES)[number];
type Privilege = 'INSERT' | 'UPDATE' | 'DELETE';

/** What each login may write, beyond reading every Lockstep table. Anything not listed is revoked (or denied). */
const WRITES: Record<GrantRole, Partial<Record<Table, Privilege[]>>> = {
  workstation: {
    lockstep_workstations: ['INSERT', 'UPDATE'],
    lockstep_events: ['INSERT'],
    lockstep_transfer_leases: ['INSERT', 'UPDATE'],
  },
  admin: {
    lockstep_releases: ['INSERT', 'UPDATE'],
    lockstep_current: ['INSERT', 'UPDATE'],
    lockstep_release_packages: ['INSERT', 'UPDATE'],
    lockstep_release_chunks: ['INSERT', 'UPDATE', 'DELETE'],
    // Shared blocks: stored once, deleted only by pruning a release (blockStore.ts).
    lockstep_blocks: ['INSERT', 'DELETE'],
    lockstep_release_blocks: ['INSERT', 'DELETE'],
    lockstep_test_marks: ['INSERT'],
    lockstep_release_schedules: ['INSERT', 'UPDATE'],
    lockstep_release_modules: ['INSERT', 'UPDATE'],
    // Marking a version test-only moves the administrator's own workstation into the test ring.
    lockstep_workstations: ['INSERT', 'UPDATE'],
    lockstep_events: ['INSERT'],
    lockstep_transfer_leases: ['INSERT', 'UPDATE'],
    // A release that migrates the client's schema records the move under the migration lease.
    lockstep_schema_level: ['INSERT', 'UPDATE'],
    lockstep_schema_history: ['INSERT'],
    lockstep_schema_lease: ['INSERT', 'UPDATE'],
  },
};

/** PostgreSQL sequences behind the identity columns an insert needs (knex increments / bigIncrements). */
const SEQUENCES: Partial<Record<Table, string>> = {
  lockstep_releases: 'lockstep_releases_id_seq',
  lockstep_events: 'lockstep_events_id_seq',
  lockstep_schema_history: 'lockstep_schema_history_id_seq',
  lockstep_release_schedules: 'lockstep_release_schedules_id_seq',
};

/** The tables whose rows name a workstation: with own rows, a workstation login writes only rows of its own id. */
const OWN_ROW_TABLES = ['lockstep_workstations', 'lockstep_events'] as const;

/**
 * PostgreSQL row-level security (`--own-rows`), for sites that give every workstation its own login named exactly
 * like its workstation id (workstation.id in its machine configuration): that login may insert and update only rows
 * whose workstation_id is its own name, and still reads every row. Once row-level security is on, a login without a
 * policy sees no rows, so every grant also states the login's policies: the admin login and logins granted without
 * --own-rows (one login shared by all workstations) keep every row. The table owner is not subject to the policies.
 */
function rowPolicies(q: (sql: string, bindings: readonly string[]) => string, login: string, ownRows: boolean): string[] {
  const out: string[] = [];
  for (const table of OWN_ROW_TABLES) {
    // Named by a digest of the login: a login name may be as long as PostgreSQL allows a policy name to be.
    const policy = `lockstep_rows_${createHash('sha256').update(login).digest('hex').slice(0, 16)}`;
    out.push(q('DROP POLICY IF EXISTS ?? ON ??', [policy, table]));
    if (ownRows) {
      out.push(q('ALTER TABLE ?? ENABLE ROW LEVEL SECURITY', [table]));
      out.push(q('CREATE POLICY ?? ON ?? FOR ALL TO ?? USING (true) WITH CHECK (workstation_id = current_user)', [policy, table, login]));
      // An update must also start from an own row (FOR ALL's USING covers reads as well, so it stays true there).
      out.push(q('DROP POLICY IF EXISTS ?? ON ??', [`${policy}_update`, table]));
      out.push(q('CREATE POLICY ?? ON ?? AS RESTRICTIVE FOR UPDATE TO ?? USING (workstation_id = current_user)', [`${policy}_update`, table, login]));
    } else {
      out.push(q('DROP POLICY IF EXISTS ?? ON ??', [`${policy}_update`, table]));
      out.push(q('CREATE POLICY ?? ON ?? FOR ALL TO ?? USING (true) WITH CHECK (true)', [policy, table, login]));
    }
  }
  return out;
}

const LOGIN = /^[A-Za-z_][A-Za-z0-9_.@-]{0,62}$/;

export function assertLoginName(login: string): void {
  if (!LOGIN.test(login)) throw new LockstepError('E_USAGE', `"${login}" is not a database login name Lockstep grants to (letters, digits, _ . @ -, at most 63).`, { login });
}

/**
 * The statements that give `login` exactly the rights of `role`. `knex` only builds the text (any client of the
 * dialect; nothing is sent). Revokes come first, so applying the statements again or switching a login's role
 * leaves exactly the new rights.
 */
export function grantStatements(knex: Knex, dialect: Exclude<DbDialect, 'sqlite'>, role: GrantRole, login: string, options: { ownRows?: boolean } = {}): string[] {
  assertLoginName(login);
  if (options.ownRows && (dialect !== 'postgres' || role !== 'workstation')) {
    throw new LockstepError('E_USAGE', '--own-rows is for a workstation login on PostgreSQL (row-level security); SQL Server gets table rights only.');
  }
  const q = (sql: string, bindings: readonly string[]) => knex.raw(sql, bindings as string[]).toQuery();
  const writes = WRITES[role];
  const out: string[] = [];
  if (dialect === 'postgres') {
    out.push(q('GRANT USAGE ON SCHEMA public TO ??', [login]));
    for (const table of TABLES) {
      out.push(q('REVOKE ALL ON ?? FROM ??', [table, login]));
      out.push(q(`GRANT ${['SELECT', ...(writes[table] ?? [])].join(', ')} ON ?? TO ??`, [table, login]));
    }
    for (const [table, sequence] of Object.entries(SEQUENCES)) {
      out.push(q('REVOKE ALL ON SEQUENCE ?? FROM ??', [sequence, login]));
      if (writes[table as Table]?.includes('INSERT')) out.push(q('GRANT USAGE ON SEQUENCE ?? TO ??', [sequence, login]));
    }
    out.push(...rowPolicies(q, login, Boolean(options.ownRows)));
    return out;
  }
  // SQL Server: the login is mapped to a database user of the same name (CREATE USER … FOR LOGIN, done by IT).
  // DENY wins over any role membership (db_datawriter included), so what the role must not do is denied outright.
  for (const table of TABLES) {
    const allowed = ['SELECT', ...(writes[table] ?? [])];
    const denied = (['INSERT', 'UPDATE', 'DELETE'] as const).filter((p) => !allowed.includes(p));
    out.push(q('REVOKE SELECT, INSERT, UPDATE, DELETE ON ?? FROM ??', [`dbo.${table}`, login]));
    out.push(q(`GRANT ${allowed.join(', ')} ON ?? TO ??`, [`dbo.${table}`, login]));
    if (denied.length) out.push(q(`DENY ${denied.join(', ')} ON ?? TO ??`, [`dbo.${table}`, login]));
  }
  return out;
}
