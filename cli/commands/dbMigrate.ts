import { migrateLatest } from '../../db/migrate';
import { Command } from '../command';

export const dbMigrate: Command = {
  name: 'db migrate',
  summary: 'create or update the Lockstep tables in the shared database',
  usage: 'lockstep db migrate [--config FILE] [--json]',
  async run(ctx) {
    const ws = await ctx.workstation({ migrate: false });
    const result = await migrateLatest(ws.db);
    return {
      json: result,
      text: result.applied.length ? `Applied ${result.applied.length} migration(s): ${result.applied.join(', ')}` : 'The database schema is up to date.',
    };
  },
};
