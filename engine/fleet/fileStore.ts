/**
 * The site's package store when it is not the shared database (S17): a web server or a file-share folder holding the
 * packages under their plain signed names. Chosen once, in the fleet's composition (fileStoreFor), from
 * fleet.packageStore; the upgrader and the publisher only see this interface and never look at the configuration.
 * The shared database itself is not one of these: its chunks, upload claims and transfer slots live in dbTransfer.ts.
 */
import { LockstepError } from '../../contract/errors';
import { FleetConfig } from '../../kernel/fleetConfig';
import { ManifestFile } from '../../kernel/catalogSchema';
import { FeedHttp } from '../feed/http';
import { TransferResult } from './dbTransfer';
import { copyFromShare, downloadFromHttp, publishToShare, shareHolds, verifyHttpStore } from './siteStores';

export interface PackageFileStore {
  readonly type: 'http' | 'share';
  /** The URL or folder, for messages and the audit trail. */
  readonly where: string;
  /** A workstation fetches the signed file into `destination` (resumable; the caller verifies the whole). */
  fetch(file: ManifestFile, destination: string): Promise<TransferResult>;
  /**
   * Before a release points at the store: it must hold exactly the signed file. A share gets `localFile` copied in
   * when it lacks it; a web server is filled by IT, so it is only read back and checked. Returns the audit detail.
   */
  ensureHolds(file: ManifestFile, localFile: string | null): Promise<Record<string, unknown>>;
}

export function webStore(url: string, http: () => FeedHttp): PackageFileStore {
  return {
    type: 'http',
    where: url,
    fetch: (file, destination) => downloadFromHttp(http(), url, file, destination),
    ensureHolds: (file) => verifyHttpStore(http(), url, file),
  };
}

export function shareStore(folder: string): PackageFileStore {
  return {
    type: 'share',
    where: folder,
    fetch: (file, destination) => copyFromShare(folder, file, destination),
    async ensureHolds(file, localFile) {
      if (await shareHolds(folder, file)) return { copied: false, folder };
      if (!localFile) {
        throw new LockstepError('E_UPGRADE_UNAVAILABLE', `The package store ${folder} no longer holds ${file.name} and this workstation has no copy to put back; the release was not made.`, { folder, file: file.name });
      }
      return { copied: await publishToShare(folder, localFile, file), folder };
    },
  };
}

/** The one place that reads fleet.packageStore: null means the shared database holds the packages. */
export function fileStoreFor(settings: FleetConfig, http: () => FeedHttp): PackageFileStore | null {
  const s = settings.packageStore;
  if (s.type === 'http') return webStore(s.url, http);
  if (s.type === 'share') return shareStore(s.path);
  return null;
}
