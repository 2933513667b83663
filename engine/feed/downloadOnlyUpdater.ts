/**
 * The electron-updater AppUpdater for Lockstep's download path. electron-updater brings the cache layout (a finished
 * download is found again by its SHA-512 after a restart), events and the provider/executor seams; installing is
 * Lockstep's installer's job, so this updater only downloads.
 */
import * as path from 'node:path';
import { AppUpdater, Logger as UpdaterLogger } from 'electron-updater';
import type { DownloadExecutorResult, DownloadUpdateOptions } from 'electron-updater/out/AppUpdater';
import { findFile } from 'electron-updater/out/providers/Provider';
import { LockstepError } from '../../contract/errors';
import { Logger } from '../../kernel/log';
import { NodeAppAdapter } from './appAdapter';
import { LockstepHttpExecutor } from './executor';

export class DownloadOnlyUpdater extends AppUpdater {
  constructor(app: NodeAppAdapter) {
    // No options in the constructor: the executor must be in place before setFeedURL builds the provider.
    super(null, app);
    this.autoDownload = false;
    this.autoInstallOnAppQuit = false;
    // Differential downloads are Lockstep's own (differentialDownload.ts: signed block maps, a verified base); this
    // updater only runs the full download they fall back to.
    this.disableDifferentialDownload = true;
  }

  protected override async doDownloadUpdate(options: DownloadUpdateOptions): Promise<DownloadExecutorResult> {
    const provider = options.updateInfoAndProvider.provider;
    const fileInfo = findFile(provider.resolveFiles(options.updateInfoAndProvider.info), '', [])!;
    return this.executeDownload({
      fileExtension: path.extname(fileInfo.url.pathname).slice(1) || 'bin',
      fileInfo,
      downloadUpdateOptions: options,
      task: (destination, downloadOptions) => executorOf(this).download(fileInfo.url, destination, downloadOptions),
      done: async (event) => {
        this.dispatchUpdateDownloaded(event);
      },
    });
  }

  override quitAndInstall(): void {
    throw new LockstepError('E_INVALID_STATE', 'The download updater does not install; the installer does.');
  }
}

/**
 * electron-updater keeps its executor in an @internal field (absent from its typings). ARCHITECTURE.md's recipe is to
 * assign it before setFeedURL; these two helpers are the only places that reach into it.
 */
export function setExecutor(updater: AppUpdater, executor: LockstepHttpExecutor): void {
  (updater as unknown as { httpExecutor: LockstepHttpExecutor }).httpExecutor = executor;
}

function executorOf(updater: AppUpdater): LockstepHttpExecutor {
  return (updater as unknown as { httpExecutor: LockstepHttpExecutor }).httpExecutor;
}

/** electron-updater logs free text; Lockstep's log wants events. */
export function updaterLogger(log: Logger): UpdaterLogger {
  return {
    info: (m?: unknown) => log.info('updater.info', { message: String(m) }),
    warn: (m?: unknown) => log.warn('updater.warn', { message: String(m) }),
    error: (m?: unknown) => log.error('updater.error', { message: String(m) }),
  };
}
