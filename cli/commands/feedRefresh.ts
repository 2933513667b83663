/** `lockstep feed refresh`: re-sign the catalog with a new expiry (a vendor's periodic job), modules, security floor. */
import { refreshCatalog } from '../../authoring/feedWriter';
import { Command } from '../command';
import { CATALOG_OPTIONS, SIGNING_OPTIONS, parseModules, required, signerFrom, validDays } from './vendorArgs';

const USAGE = 'lockstep feed refresh --feed DIR --key KEY [--valid-days N] [--module id@version:range]… [--security-floor V] [--passphrase-stdin] [--json]';

export const feedRefresh: Command = {
  name: 'feed refresh',
  summary: 'vendor: re-sign the catalog with a fresh expiry; add module releases or a security floor',
  usage: USAGE,
  options: { ...SIGNING_OPTIONS, ...CATALOG_OPTIONS },
  async run(ctx) {
    const catalog = refreshCatalog(
      required(ctx, 'feed', USAGE),
      { modules: parseModules(ctx.values['module']), securityFloor: ctx.values['security-floor'] as string | undefined, validDays: validDays(ctx), product: ctx.values['product'] as string | undefined },
      await signerFrom(ctx, USAGE),
    );
    return { json: { issuedAt: catalog.issuedAt, expiresAt: catalog.expiresAt, versions: catalog.versions.map((v) => v.version), modules: catalog.modules }, text: `Catalog re-signed; expires ${catalog.expiresAt}.` };
  },
};
