/**
 * Module packages for the installer suites: bytes, the vendor-signed module manifest (as `lockstep feed add-module`
 * signs it), and the `lockstep download --json` document that hands an app step and module packages to
 * `lockstep install-update`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Signer } from '../../../kernel/signing';
import { SignedManifest } from '../../../installer/signedRequest';
import { VENDOR, sha512Base64, signManifest, signedFor } from './vendor';

export interface ModulePackage {
  id: string;
  version: string;
  file: string;
  manifest: SignedManifest;
}

export function moduleBytes(id: string, version: string): Buffer {
  return Buffer.from(`${id} module ${version} `.repeat(500));
}

/** Writes `<dir>/<id>-<version>.module` (readable by everyone) and signs its module manifest. */
export function modulePackage(dir: string, id: string, version: string, appRange: string, signer: Signer = VENDOR): ModulePackage {
  const file = path.join(dir, `${id}-${version}.module`);
  fs.writeFileSync(file, moduleBytes(id, version), { mode: 0o644 });
  return { id, version, file, manifest: moduleManifestFor(file, id, version, appRange, signer) };
}

export function moduleManifestFor(file: string, id: string, version: string, appRange: string, signer: Signer = VENDOR): SignedManifest {
  return signManifest(
    {
      type: 'lockstep-module-manifest',
      product: 'Lockstep installer tests',
      module: id,
      name: `Module ${id}`,
      version,
      appRange,
      releaseDate: '2030-01-01T00:00:00.000Z',
      file: { name: path.basename(file), size: fs.statSync(file).size, sha512: sha512Base64(file) },
    },
    signer,
  );
}

/** The `lockstep download --json` output for the app steps (ascending) and the ticked module packages (readable by the user). */
export function downloadJson(dir: string, steps: ReadonlyArray<{ pkg: string; version: string }>, modules: readonly ModulePackage[]): string {
  const last = steps[steps.length - 1]!;
  const doc = {
    version: last.version,
    file: last.pkg,
    steps: steps.map(({ pkg, version }) => {
      const app = signedFor(pkg, version);
      return { version, file: pkg, manifestText: app.text, manifestSignature: app.signature };
    }),
    modules: modules.map((m) => ({ id: m.id, name: `Module ${m.id}`, version: m.version, file: m.file, manifestText: m.manifest.text, manifestSignature: m.manifest.signature })),
  };
  const file = path.join(dir, `download-${last.version}.json`);
  fs.writeFileSync(file, JSON.stringify(doc), { mode: 0o644 });
  return file;
}
