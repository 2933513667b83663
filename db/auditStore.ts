/** The audit table (S24): append-only, one row per update action, written inside the action's own transaction. */
import type { Knex } from 'knex';
import { toEvent } from './mappers';
import { EventRow } from './rows';
import { serverNow } from './serverTime';
import { Actor, AuditEvent } from './types';

export interface AuditEntry {
  action: string;
  outcome: string;
  actor: Actor;
  channel?: string | null;
  version?: string | null;
  detail?: Record<string, unknown> | null;
}

export async function appendEvent(q: Knex | Knex.Transaction, entry: AuditEntry): Promise<void> {
  await q('lockstep_events').insert({
    at: serverNow(q),
    action: entry.action,
    outcome: entry.outcome,
    actor: entry.actor.user,
    workstation_id: entry.actor.workstationId,
    channel: entry.channel ?? null,
    version: entry.version ?? null,
    detail: entry.detail ? JSON.stringify(entry.detail) : null,
  });
}

export async function listEvents(q: Knex, options: { limit?: number; action?: string } = {}): Promise<AuditEvent[]> {
  let query = q<EventRow>('lockstep_events').select('*').orderBy('id', 'desc').limit(Math.min(options.limit ?? 100, 10_000));
  if (options.action) query = query.where('action', options.action);
  return (await query).map(toEvent);
}
