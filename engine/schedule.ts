/**
 * The separate download (S7): "download at 02:00", persisted as a small JSON file in the download cache so that the
 * schedule — and a download it already started — survives a restart of the app. The record carries the signed
 * manifests of every step of the chain, so the timer can fire on a machine that is offline from the catalog's point
 * of view and still verify what it fetches. Timers are plain setTimeout (fake timers drive it in tests); delays longer
 * than setTimeout's 24.8-day limit are re-armed in steps.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ErrorInfo, LockstepError } from '../contract/errors';
import { DownloadedModule, DownloadedStep } from '../contract/update';
import { SignedDocument } from '../kernel/signing';

export interface ScheduledStep {
  version: string;
  manifest: SignedDocument<unknown>;
}

/** A module package the user left ticked (S6): fetched with the app, from its signed module manifest. */
export interface ScheduledModule {
  id: string;
  version: string;
  manifest: SignedDocument<unknown>;
}

export interface ScheduleRecord {
  /** The target (last step of the chain). */
  version: string;
  steps: ScheduledStep[];
  at: string;
  createdAt: string;
  state: 'pending' | 'running' | 'done' | 'failed';
  done: DownloadedStep[];
  error: ErrorInfo | null;
  /** Optional so records written before modules were downloaded still load. */
  modules?: ScheduledModule[];
  doneModules?: DownloadedModule[];
}

const MAX_TIMER_MS = 2 ** 31 - 1;

export class ScheduleStore {
  readonly file: string;
  constructor(cacheDir: string) {
    this.file = path.join(cacheDir, 'schedule.json');
  }

  load(): ScheduleRecord | null {
    if (!fs.existsSync(this.file)) return null;
    try {
      return JSON.parse(fs.readFileSync(this.file, 'utf8')) as ScheduleRecord;
    } catch {
      // A damaged record must not stop the app; it is kept aside for IT and the user schedules again.
      fs.renameSync(this.file, `${this.file}.broken-${Date.now()}`);
      return null;
    }
  }

  /** Atomic (temp + rename): a crash never leaves half a schedule. */
  save(record: ScheduleRecord): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    fs.writeFileSync(`${this.file}.tmp`, JSON.stringify(record, null, 2));
    fs.renameSync(`${this.file}.tmp`, this.file);
  }

  clear(): void {
    fs.rmSync(this.file, { force: true });
  }
}

/** Parses "HH:MM" (next occurrence, local time) or an ISO date-time. */
export function parseStartTime(text: string, now: Date): Date {
  const hm = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  if (hm) {
    const h = Number(hm[1]);
    const m = Number(hm[2]);
    if (h > 23 || m > 59) throw new LockstepError('E_USAGE', `"${text}" is not a time of day.`);
    const at = new Date(now);
    at.setHours(h, m, 0, 0);
    if (at.getTime() <= now.getTime()) at.setDate(at.getDate() + 1);
    return at;
  }
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new LockstepError('E_USAGE', `"${text}" is neither HH:MM nor a date-time like 2026-03-01T02:00.`);
  return new Date(t);
}

/** Arms one timer for the persisted record and runs `run` when it is due (at once when overdue, e.g. after a restart). */
export class DownloadScheduler {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly store: ScheduleStore,
    private readonly run: (record: ScheduleRecord) => Promise<void>,
  ) {}

  schedule(steps: ScheduledStep[], at: Date, modules: ScheduledModule[] = []): ScheduleRecord {
    if (steps.length === 0) throw new LockstepError('E_USAGE', 'Nothing to schedule.');
    const record: ScheduleRecord = { version: steps[steps.length - 1]!.version, steps, at: at.toISOString(), createdAt: new Date().toISOString(), state: 'pending', done: [], error: null, modules, doneModules: [] };
    this.store.save(record);
    this.arm(record);
    return record;
  }

  /** On start: re-arm a pending schedule, or continue one that was running when the app stopped. */
  resume(): ScheduleRecord | null {
    const record = this.store.load();
    if (record && (record.state === 'pending' || record.state === 'running')) this.arm(record);
    return record;
  }

  cancel(): void {
    this.disarm();
    this.store.clear();
  }

  disarm(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private arm(record: ScheduleRecord): void {
    this.disarm();
    const wait = Date.parse(record.at) - Date.now();
    this.timer = setTimeout(
      () => {
        this.timer = null;
        if (Date.parse(record.at) - Date.now() > 0) return this.arm(record); // a long wait, re-armed in steps
        void this.run(record);
      },
      Math.max(0, Math.min(wait, MAX_TIMER_MS)),
    );
  }
}
