/**
 * The update lifecycle (S1–S7) as ONE discriminated union with a `type` field, and a factory object of the same name
 * (VS Code's src/vs/platform/update/common/update.ts). The renderer receives whole snapshots and switches on
 * `state.type`; the engine changes state only through UpdateService.setState, which logs and emits.
 *
 *   idle ──check()──▶ checking ──▶ up-to-date
 *                        │   └────▶ available ──download(now)──▶ downloading ──▶ downloaded  (Install now)
 *                        │              └──download(at)──▶ scheduled ──(time)──▶ downloading
 *                        │                                     └──cancelScheduled()──▶ available (the same offer) | idle
 *                        └──────────▶ failed {error}          any step ──▶ failed {error}
 *
 *   downloaded ──install──▶ installing ──▶ restart-requested   (the app restarts into the installed version)
 *        ▲                          └──────▶ downloaded {installError}   (*Install now* stays on offer)
 *
 * `downloading.background` distinguishes "download and install now" (the app is busy) from the separate download
 * (S7: "Download running in the background…"). Installing continues from `downloaded`, whose `modules` are the module
 * packages the user left ticked (S6), downloaded and verified with the app and installed together with it. Installing
 * and the restart are states of this one union, so a window knows it is busy from `type` alone.
 * Shared with the renderer: no Node or Electron imports.
 */
import type { ErrorInfo } from './errors';

export type ModuleStatusType = 'compatible' | 'update-available' | 'incompatible' | 'not-released';

export interface ModuleStatus {
  id: string;
  name: string;
  installed: string;
  status: ModuleStatusType;
  updateTo: string | null;
  preselected: boolean;
  requiresConfirmation: boolean;
}

export interface OfferedFile {
  name: string;
  platform: 'win' | 'mac' | 'linux';
  kind: 'installer' | 'zip' | 'other';
  size: number;
  sha512: string;
}

/** One version newer than the installed one (S3), whether or not it may be installed. */
export interface OfferedVersion {
  version: string;
  channel: string;
  releaseDate: string;
  /** Markdown as the vendor wrote it; the UI renders it safely. */
  notes: string;
  /** The notes were longer than the cap (NOTES_CAP) and are cut, with a marker at the end. */
  notesTruncated?: true;
  installable: boolean;
  /** Why not (E_LICENSE, E_CONTRACT_ENDED, E_REINSTALL_REQUIRED, E_UPGRADE_PATH, E_BELOW_SECURITY_FLOOR…). */
  reason: ErrorInfo | null;
  /** Versions installed one after another, ascending, ending with this one (S5). */
  chain: string[];
  /** This workstation's platform file (null when the version has none for it). */
  file: OfferedFile | null;
  modules: ModuleStatus[];
}

export interface Warning {
  code: string;
  message: string;
  [detail: string]: unknown;
}

export interface CheckResult {
  installed: string;
  checkedAt: string;
  feedUrl: string;
  catalog: { product: string; issuedAt: string; expiresAt: string; notModified: boolean; securityFloor: string | null };
  license: { number: string; edition: string; contractUntil: string };
  warnings: Warning[];
  /** Newest first. */
  versions: OfferedVersion[];
  /** The newest installable version: the button reads "Update to version X". */
  preselected: string | null;
}

/** One downloaded file of the chain, with its signed manifest (what later travels into the shared database). */
export interface DownloadedStep {
  version: string;
  file: string;
  manifestText: string;
  manifestSignature: string;
}

/** One downloaded module package (S6) with its signed module manifest, installed together with the app. */
export interface DownloadedModule {
  id: string;
  name: string;
  version: string;
  file: string;
  manifestText: string;
  manifestSignature: string;
}

export type UpdateState =
  /** `reason`: why it went back to idle when that was not the user's plain choice (a cancelled scheduled transfer). */
  | { type: 'idle'; lastCheck: string | null; reason?: ErrorInfo }
  | { type: 'checking' }
  | { type: 'up-to-date'; installed: string; checkedAt: string; warnings: Warning[] }
  | { type: 'available'; result: CheckResult }
  | { type: 'scheduled'; version: string; at: string }
  | { type: 'downloading'; version: string; transferred: number; total: number; bytesPerSecond: number; background: boolean }
  /** `installError`: the last install of these files failed (the version before stays installed); they can be installed again. */
  | { type: 'downloaded'; version: string; file: string; steps: DownloadedStep[]; modules: DownloadedModule[]; installError?: ErrorInfo }
  | { type: 'installing'; version: string }
  /** Installed; the app restarts into `version` (in Electron: app.relaunch + exit right after this snapshot). */
  | { type: 'restart-requested'; version: string; from: string | null; elevation: string }
  | { type: 'failed'; error: ErrorInfo; during: 'check' | 'download' };

export type UpdateStateType = UpdateState['type'];

/** The factory: the only way states are built, so every field is always present. */
export const UpdateState = {
  idle: (lastCheck: string | null = null, reason?: ErrorInfo): UpdateState => (reason ? { type: 'idle', lastCheck, reason } : { type: 'idle', lastCheck }),
  checking: (): UpdateState => ({ type: 'checking' }),
  upToDate: (installed: string, checkedAt: string, warnings: Warning[]): UpdateState => ({ type: 'up-to-date', installed, checkedAt, warnings }),
  available: (result: CheckResult): UpdateState => ({ type: 'available', result }),
  scheduled: (version: string, at: string): UpdateState => ({ type: 'scheduled', version, at }),
  downloading: (version: string, transferred: number, total: number, bytesPerSecond: number, background: boolean): UpdateState => ({
    type: 'downloading',
    version,
    transferred,
    total,
    bytesPerSecond,
    background,
  }),
  downloaded: (version: string, file: string, steps: DownloadedStep[], modules: DownloadedModule[] = []): UpdateState => ({ type: 'downloaded', version, file, steps, modules }),
  installing: (version: string): UpdateState => ({ type: 'installing', version }),
  restartRequested: (version: string, from: string | null, elevation: string): UpdateState => ({ type: 'restart-requested', version, from, elevation }),
  failed: (error: ErrorInfo, during: 'check' | 'download'): UpdateState => ({ type: 'failed', error, during }),
} as const;
