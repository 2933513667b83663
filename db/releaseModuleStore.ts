/**
 * Which module packages a release carries (migration 20261130_0021). A module package is a ledger row of the module's
 * own channel ("<channel>#module:<id>"), so the package store, chunk transfers and transfer slots handle it exactly
 * like an app package; this table links it to the app release it travels with. Nothing here is trusted: the upgrading
 * workstation checks each module's vendor signature, its app range and the assembled bytes.
 */
import { LockstepError } from '../contract/errors';
import { isUniqueViolation } from './errors';
import { toRelease } from './mappers';
import { releaseColumns } from './releaseStore';
import { ReleaseRow } from './rows';
import { Release } from './types';
import { Store } from './store';

const MAX_CHANNEL = 64;

/** The ledger channel holding the packages of module `id` for app channel `channel`. */
export function moduleChannel(channel: string, id: string): string {
  const name = `${channel}#module:${id}`;
  if (name.length > MAX_CHANNEL) throw new LockstepError('E_USAGE', `Channel "${channel}" and module id "${id}" are too long together to store module packages (at most ${MAX_CHANNEL} characters).`, { channel, module: id });
  return name;
}

export interface CarriedModule {
  moduleId: string;
  moduleVersion: string;
  /** The module package's own ledger row: the signed module manifest and the package's size and SHA-512. */
  release: Release;
}

export class ReleaseModuleStore extends Store {
  /** Records that `moduleReleaseId` travels with `releaseId` (idempotent; a newer upload of the module replaces it). */
  async link(releaseId: number, moduleId: string, moduleVersion: string, moduleReleaseId: number): Promise<void> {
    return this.run(async () => {
      const knex = this.db.knex;
      const key = { release_id: releaseId, module_id: moduleId };
      try {
        await knex('lockstep_release_modules').insert({ ...key, module_version: moduleVersion, module_release_id: moduleReleaseId });
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
        await knex('lockstep_release_modules').where(key).update({ module_version: moduleVersion, module_release_id: moduleReleaseId });
      }
    });
  }

  /** The module packages that travel with `releaseId`, each with its own ledger row. */
  async carried(releaseId: number): Promise<CarriedModule[]> {
    return this.run(async () => {
      const knex = this.db.knex;
      const links: Array<{ module_id: string; module_version: string; module_release_id: number | string }> = await knex('lockstep_release_modules').where({ release_id: releaseId }).orderBy('module_id').select('module_id', 'module_version', 'module_release_id');
      const out: CarriedModule[] = [];
      for (const l of links) {
        const row = (await knex('lockstep_releases').where({ id: Number(l.module_release_id) }).first(...releaseColumns(knex))) as ReleaseRow | undefined;
        if (row) out.push({ moduleId: l.module_id, moduleVersion: l.module_version, release: toRelease(row) });
      }
      return out;
    });
  }
}
