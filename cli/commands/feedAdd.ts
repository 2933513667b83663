/** `lockstep feed add`: an installer becomes version X of the feed — latest*.yml and the signed catalog (S20, S21). */
import * as fs from 'node:fs';
import { LockstepError } from '../../contract/errors';
import { PLATFORMS, Platform } from '../../kernel/catalogSchema';
import { addVersion } from '../../authoring/feedWriter';
import { Command } from '../command';
import { CATALOG_OPTIONS, SIGNING_OPTIONS, parseModules, required, signerFrom, validDays } from './vendorArgs';

const USAGE =
  'lockstep feed add <installer…> --version V --feed DIR --key KEY [--notes FILE] [--channel C] [--platform win|mac|linux] [--edition E]… [--requires V [--requires-below V]] [--reinstall-below V] [--security-floor V] [--module id@version:range]… [--valid-days N] [--release-date DATE] [--product NAME] [--passphrase-stdin] [--json]';

export const feedAdd: Command = {
  name: 'feed add',
  summary: 'vendor: add installers as version V to a feed (electron-builder latest*.yml, signed block maps + signed catalog)',
  usage: USAGE,
  positionals: [1, 20],
  options: {
    ...SIGNING_OPTIONS,
    ...CATALOG_OPTIONS,
    version: { type: 'string' },
    notes: { type: 'string' },
    channel: { type: 'string' },
    platform: { type: 'string' },
    edition: { type: 'string', multiple: true },
    requires: { type: 'string' },
    'requires-below': { type: 'string' },
    'reinstall-below': { type: 'string' },
    'release-date': { type: 'string' },
  },
  async run(ctx) {
    const v = ctx.values;
    const platform = v['platform'] as string | undefined;
    if (platform !== undefined && !(PLATFORMS as readonly string[]).includes(platform)) throw new LockstepError('E_USAGE', `--platform must be one of ${PLATFORMS.join(', ')}.`);
    const notesFile = v['notes'] as string | undefined;
    let notes: string | null = null;
    if (notesFile) {
      try {
        notes = fs.readFileSync(notesFile, 'utf8');
      } catch {
        throw new LockstepError('E_USAGE', `The notes file ${notesFile} cannot be read.`);
      }
    }
    const requires = v['requires'] as string | undefined;
    const result = await addVersion(
      required(ctx, 'feed', USAGE),
      {
        installers: ctx.positionals,
        version: required(ctx, 'version', USAGE),
        channel: v['channel'] as string | undefined,
        notes,
        platform: platform as Platform | undefined,
        editions: (v['edition'] as string[] | undefined) ?? [],
        requires: requires ? { version: requires, below: (v['requires-below'] as string | undefined) ?? requires } : null,
        reinstallBelow: (v['reinstall-below'] as string | undefined) ?? null,
        releaseDate: v['release-date'] as string | undefined,
        securityFloor: v['security-floor'] as string | undefined,
        modules: parseModules(v['module']),
        validDays: validDays(ctx),
        product: v['product'] as string | undefined,
      },
      await signerFrom(ctx, USAGE),
    );
    const m = result.manifest.signed;
    return {
      json: { version: m.version, channel: m.channel, files: m.files, catalog: result.catalogFile, updateInfo: result.updateInfoFiles, expiresAt: result.catalog.expiresAt, manifestSignature: result.manifest.signature },
      text: [
        `Added ${m.version} (${m.channel}) with ${m.files.map((f) => `${f.name} [${f.platform}, ${f.size} bytes]`).join(', ')}`,
        `Signed block maps (differential downloads): ${m.files.map((f) => f.blockMap?.name ?? `none for ${f.name}`).join(', ')}`,
        `Signed catalog: ${result.catalogFile} (expires ${result.catalog.expiresAt})`,
        result.updateInfoFiles.length ? `electron-builder update info: ${result.updateInfoFiles.join(', ')}` : 'Not the newest of its channel: latest*.yml unchanged.',
      ].join('\n'),
    };
  },
};
