/**
 * Where the releasing workstation finds the package it installed: the vendor feed's download cache. The
 * version's signed manifest comes from the signed catalog (a conditional request: unchanged costs a 304), and
 * downloadVersion finds the verified file in electron-updater's cache by its SHA-512 — so releasing a version this
 * workstation installed from the feed downloads nothing again.
 *
 * Adapter note: fetchCatalog returns the parsed catalog; the signed text stored for its security floor is read from
 * the catalog cache that catalog.ts keeps beside the downloads (catalog-cache.json, field `text`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fetchCatalog } from '../catalog';
import { FeedContext, downloadVersion } from '../feed/download';
import { compareVersions } from '../../kernel/version';
import { LocalPackage, LocalPackageSource } from './publisher';

export class FeedPackageSource implements LocalPackageSource {
  constructor(private readonly context: () => Promise<FeedContext>) {}

  async locate(version: string): Promise<LocalPackage | null> {
    const ctx = await this.context();
    const { catalog } = await fetchCatalog(ctx);
    const entry = catalog.versions.find((v) => compareVersions(v.version, version) === 0);
    if (!entry) return null;
    const got = await downloadVersion(ctx, entry.manifest);
    return { file: got.file, manifest: entry.manifest, catalogText: readCatalogText(ctx.cacheDir) };
  }
}

function readCatalogText(cacheDir: string): string | null {
  try {
    const cached = JSON.parse(fs.readFileSync(path.join(cacheDir, 'catalog-cache.json'), 'utf8')) as { text?: unknown };
    return typeof cached.text === 'string' ? cached.text : null;
  } catch {
    return null;
  }
}

/** A package named explicitly (CLI `release --package FILE --manifest FILE`): the file and its signed manifest. */
export class FilePackageSource implements LocalPackageSource {
  constructor(
    private readonly file: string,
    private readonly manifestFile: string,
  ) {}

  async locate(): Promise<LocalPackage | null> {
    const manifest = JSON.parse(fs.readFileSync(this.manifestFile, 'utf8')) as LocalPackage['manifest'];
    return { file: path.resolve(this.file), manifest, catalogText: null };
  }
}

/** Tries each source in turn. */
export class FirstOf implements LocalPackageSource {
  constructor(private readonly sources: readonly LocalPackageSource[]) {}
  async locate(version: string): Promise<LocalPackage | null> {
    for (const s of this.sources) {
      const found = await s.locate(version);
      if (found) return found;
    }
    return null;
  }
}
