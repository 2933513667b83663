/** `lockstep feed add-module`: a module package becomes version V of module ID in the feed, signed with its app range (S6). */
import { addModule } from '../../authoring/feedWriter';
import { Command } from '../command';
import { SIGNING_OPTIONS, required, signerFrom, validDays } from './vendorArgs';

const USAGE = 'lockstep feed add-module <package> --module ID --version V --app-range RANGE --feed DIR --key KEY [--name NAME] [--release-date DATE] [--valid-days N] [--passphrase-stdin] [--json]';

export const feedAddModule: Command = {
  name: 'feed add-module',
  summary: 'vendor: add a module package as version V of module ID, for the app versions in RANGE (signed catalog)',
  usage: USAGE,
  positionals: [1, 1],
  options: {
    ...SIGNING_OPTIONS,
    feed: { type: 'string' },
    module: { type: 'string' },
    version: { type: 'string' },
    'app-range': { type: 'string' },
    name: { type: 'string' },
    'release-date': { type: 'string' },
    'valid-days': { type: 'string' },
  },
  async run(ctx) {
    const v = ctx.values;
    const result = await addModule(
      required(ctx, 'feed', USAGE),
      {
        file: ctx.positionals[0]!,
        id: required(ctx, 'module', USAGE),
        version: required(ctx, 'version', USAGE),
        appRange: required(ctx, 'app-range', USAGE),
        name: v['name'] as string | undefined,
        releaseDate: v['release-date'] as string | undefined,
        validDays: validDays(ctx),
      },
      await signerFrom(ctx, USAGE),
    );
    const m = result.manifest.signed;
    return {
      json: { module: m.module, name: m.name, version: m.version, appRange: m.appRange, file: m.file, catalog: result.catalogFile, expiresAt: result.catalog.expiresAt, manifestSignature: result.manifest.signature },
      text: `Added module ${m.name} (${m.module}) ${m.version} for app versions ${m.appRange}: ${m.file.name} [${m.file.size} bytes]\nSigned catalog: ${result.catalogFile} (expires ${result.catalog.expiresAt})`,
    };
  },
};
