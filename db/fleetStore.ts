/** The shared-database facade the engine talks to: releases, workstations, audit. */
import { AuditEntry, appendEvent, listEvents } from './auditStore';
import { Db } from './connection';
import { mapDbError } from './errors';
import { ReleaseStore } from './releaseStore';
import { SchemaStore } from './schemaStore';
import { ScheduleStore } from './scheduleStore';
import { ReleaseModuleStore } from './releaseModuleStore';
import { WorkstationStore } from './workstationStore';
import { AuditEvent } from './types';

export class FleetStore {
  readonly releases: ReleaseStore;
  readonly workstations: WorkstationStore;
  readonly schema: SchemaStore;
  readonly schedules: ScheduleStore;
  readonly releaseModules: ReleaseModuleStore;

  constructor(readonly db: Db) {
    this.releases = new ReleaseStore(db);
    this.workstations = new WorkstationStore(db);
    this.schema = new SchemaStore(db);
    this.schedules = new ScheduleStore(db);
    this.releaseModules = new ReleaseModuleStore(db);
  }

  /** Appends one audit row outside any ledger transaction (failures, upgrades, checks). */
  async audit(entry: AuditEntry): Promise<void> {
    try {
      await appendEvent(this.db.knex, entry);
    } catch (err) {
      throw mapDbError(err, this.db.target);
    }
  }

  async events(options: { limit?: number; action?: string } = {}): Promise<AuditEvent[]> {
    try {
      return await listEvents(this.db.knex, options);
    } catch (err) {
      throw mapDbError(err, this.db.target);
    }
  }
}
