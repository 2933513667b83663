/**
 * The ONE typed IPC contract between the windows and the main process. The renderer never sees Node or Electron: the
 * preload exposes one function per channel (window.lockstep) plus onState(cb), and every call answers with a Result
 * envelope, because Electron flattens errors thrown in ipcMain.handle into a message string and would lose the code.
 * The main process pushes whole ShellSnapshots on STATE_CHANNEL (VS Code's habit: snapshots, not loose events).
 * Shared with the renderer: no Node or Electron imports, type-only imports so the browser build stays import-free.
 */
import type { ErrorInfo } from './errors';
import type { FleetSummary } from './fleet';
import type { GateDecision } from './gate';
import type { Locale } from './messages';
import type { CheckResult, UpdateState } from './update';

export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorInfo };

/** The windows (one HTML page each under renderer/). */
export const WINDOW_KINDS = ['home', 'update', 'release', 'outdated', 'credentials', 'admin'] as const;
export type WindowKind = (typeof WINDOW_KINDS)[number];

/** Lockstep's own dialog for an account with write rights (Linux without a polkit agent, S9). */
export interface CredentialsRequest {
  id: number;
  account: string;
  reason: string;
}

export interface AppFacts {
  installed: string;
  product: string;
  hostName: string;
  osUser: string;
  isAdmin: boolean;
  /** S14: installed > released and recorded as test: the visible "test version" marker. */
  testVersion: boolean;
}

export interface ShellSnapshot {
  locale: Locale;
  app: AppFacts;
  settings: { checkAtStart: boolean };
  /** The update lifecycle, installing and the restart included. */
  update: UpdateState;
  /** Release notes of the versions in `update`, Markdown rendered and sanitized in the main process, by version. */
  notesHtml: Record<string, string>;
  /** The start-up gate's last decision; null before it ran. */
  gate: GateDecision | null;
  credentials: CredentialsRequest | null;
}

/** now: download and install at once; background: download now, install later; at: start the download at HH:MM (S7). */
export type DownloadWhen = { type: 'now' } | { type: 'background' } | { type: 'at'; time: string };

export interface DownloadRequest {
  version: string;
  when: DownloadWhen;
  /** Module ids the user left ticked (S6); modules that need confirmation must be confirmed explicitly. */
  modules: string[];
  confirmIncompatible: boolean;
}

export interface WorkstationRow {
  workstationId: string;
  hostName: string;
  osUser: string;
  installedVersion: string;
  lastStart: string;
  ring: 'test' | 'regular';
  lastResult: string | null;
  /** Against the released version under this site's outdated policy: current, ahead, in-grace (until deadline), warned, blocked. */
  grace?: { state: 'current' | 'ahead' | 'in-grace' | 'warned' | 'blocked' | 'unknown'; deadline: string | null };
}

export interface ReleaseRow {
  version: string;
  state: string;
  releasedBy: string | null;
  releasedFrom: string | null;
  releasedAt: string | null;
  withdrawnAt: string | null;
  current: boolean;
  /** Set while this version is scheduled for release at a chosen time ("scheduled for …"). */
  scheduledFor?: { at: string; by: string } | null;
}

export interface AdminOverview {
  channel: string;
  released: string | null;
  workstations: WorkstationRow[];
  releases: ReleaseRow[];
}

/** Channel → [argument tuple, answer]. The handler table (electron/ipc.ts) implements exactly these. */
export interface IpcContract {
  'lockstep:snapshot': [[], ShellSnapshot];
  'lockstep:check': [[], CheckResult | null];
  'lockstep:set-check-at-start': [[enabled: boolean], void];
  'lockstep:download': [[request: DownloadRequest], void];
  'lockstep:cancel-download': [[], void];
  'lockstep:install': [[], void];
  'lockstep:answer-release': [[answer: 'yes' | 'no', at?: string], GateDecision];
  'lockstep:continue': [[], void];
  'lockstep:credentials': [[answer: { account: string; password: string } | null], void];
  'lockstep:admin-overview': [[], AdminOverview];
  'lockstep:withdraw': [[version: string], AdminOverview];
  'lockstep:rerelease': [[version: string], AdminOverview];
  'lockstep:open-window': [[kind: WindowKind], void];
  'lockstep:fleet': [[staleDays: number], FleetSummary];
  'lockstep:fleet-csv': [[staleDays: number], string];
  'lockstep:retire-workstation': [[workstationId: string, staleDays: number], FleetSummary];
}

export type Channel = keyof IpcContract;
export type ArgsOf<C extends Channel> = IpcContract[C][0];
export type AnswerOf<C extends Channel> = IpcContract[C][1];

export const STATE_CHANNEL = 'lockstep:state';

/** What the preload puts on window.lockstep: one named function per channel, and the snapshot subscription. */
export interface LockstepApi {
  snapshot(): Promise<Result<ShellSnapshot>>;
  check(): Promise<Result<CheckResult | null>>;
  setCheckAtStart(enabled: boolean): Promise<Result<void>>;
  download(request: DownloadRequest): Promise<Result<void>>;
  cancelDownload(): Promise<Result<void>>;
  install(): Promise<Result<void>>;
  /** `at` (with yes): release at that time instead of now — a clock time such as 22:00 or an ISO time. */
  answerRelease(answer: 'yes' | 'no', at?: string): Promise<Result<GateDecision>>;
  continueStart(): Promise<Result<void>>;
  credentials(answer: { account: string; password: string } | null): Promise<Result<void>>;
  adminOverview(): Promise<Result<AdminOverview>>;
  withdraw(version: string): Promise<Result<AdminOverview>>;
  rerelease(version: string): Promise<Result<AdminOverview>>;
  openWindow(kind: WindowKind): Promise<Result<void>>;
  /** The fleet's convergence (release management); "not seen" after `staleDays` days. */
  fleet(staleDays: number): Promise<Result<FleetSummary>>;
  /** The fleet view as CSV text (RFC 4180, formula-safe), for the window to offer as a download. */
  fleetCsv(staleDays: number): Promise<Result<string>>;
  retireWorkstation(workstationId: string, staleDays: number): Promise<Result<FleetSummary>>;
  /** Calls `cb` with every new snapshot; returns the unsubscribe. */
  onState(cb: (snapshot: ShellSnapshot) => void): () => void;
}
