/** Which of the installer's pipelines a package file goes through, from its (signed, plain) file name. */
import { LockstepError } from '../contract/errors';
import { PackageKind } from './journal';

export function packageKindOf(fileName: string): PackageKind {
  const n = fileName.toLowerCase();
  if (/\.(tar\.gz|tgz|tar|zip)$/.test(n)) return 'portable';
  if (n.endsWith('.deb')) return 'deb';
  if (n.endsWith('.appimage')) return 'appimage';
  if (n.endsWith('.exe')) return 'nsis';
  throw new LockstepError('E_UPGRADE_UNAVAILABLE', `This workstation cannot install ${fileName} by itself (no installer pipeline for its type).`, { file: fileName });
}
