/** Row shapes as the database returns them, and the conversions that make them the same on every dialect. */

export type ReleaseState = 'uploading' | 'test' | 'released' | 'withdrawn';
export const RELEASE_STATES: readonly ReleaseState[] = ['uploading', 'test', 'released', 'withdrawn'];
export type Ring = 'test' | 'regular';

export interface ReleaseRow {
  id: number;
  channel: string;
  version: string;
  version_key: string;
  state: string;
  manifest: string | null;
  manifest_signature: string | null;
  package_size: number | string | null;
  package_sha512: string | null;
  notes: string | null;
  created_by: string;
  created_from: string;
  created_at: Date | string;
  released_by: string | null;
  released_from: string | null;
  released_at: Date | string | null;
  withdrawn_by: string | null;
  withdrawn_from: string | null;
  withdrawn_at: Date | string | null;
}

export interface CurrentRow {
  channel: string;
  release_id: number | null;
  revision: number;
  changed_by: string | null;
  changed_from: string | null;
  changed_at: Date | string | null;
}

export interface WorkstationRow {
  workstation_id: string;
  host_name: string;
  os_user: string;
  installed_version: string;
  ring: string;
  first_seen: Date | string;
  last_start: Date | string;
  last_result: string | null;
  last_result_at: Date | string | null;
  last_result_code: string | null;
  retired_at: Date | string | null;
  retired_by: string | null;
}

export interface EventRow {
  id: number | string;
  at: Date | string;
  action: string;
  outcome: string;
  actor: string;
  workstation_id: string;
  channel: string | null;
  version: string | null;
  detail: string | null;
}

/** PostgreSQL returns Date objects, SQLite the stored text, SQL Server Date objects: the domain always sees ISO text. */
export function toIso(value: Date | string | null): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : d.toISOString();
}

export function toNumber(value: number | string | null): number | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'number' ? value : Number(value);
}

export function nowIso(): string {
  return new Date().toISOString();
}
