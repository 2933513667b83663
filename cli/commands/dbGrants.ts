/**
 * `lockstep db grants`: the GRANT/REVOKE statements that give a database login exactly the rights of a workstation or
 * of an administrator (db/grants.ts). Printed by default, for IT to review or run by hand; `--apply` runs them through
 * the configuration's connection, which must be the login that owns the tables (the one `db migrate` ran as).
 * `--own-rows` (PostgreSQL): the login is one workstation's own, named like its workstation id, and row-level security
 * limits its writes to its registry row and audit rows.
 */
import * as path from 'node:path';
import knexFactory from 'knex';
import { LockstepError } from '../../contract/errors';
import { loadMachineConfig } from '../../kernel/config';
import { GrantRole, grantStatements } from '../../db/grants';
import { DbDialect, parseDbUrl } from '../../kernel/dbUrl';
import { Command } from '../command';

const USAGE = 'lockstep db grants --role workstation|admin --login NAME [--own-rows] [--dialect postgres|mssql] [--apply] [--config FILE] [--json]';

function dialectOf(ctx: Parameters<Command['run']>[0]): Exclude<DbDialect, 'sqlite'> {
  const given = ctx.values['dialect'];
  const dialect = typeof given === 'string' ? given : (() => {
    const config = loadMachineConfig(ctx.configPath);
    return parseDbUrl(config.database.url, path.dirname(config.sourceFile)).dialect;
  })();
  if (dialect !== 'postgres' && dialect !== 'mssql') throw new LockstepError('E_USAGE', `Grants exist for PostgreSQL and SQL Server only (not ${dialect}): SQLite has no logins.\nUsage: ${USAGE}`);
  return dialect;
}

export const dbGrants: Command = {
  name: 'db grants',
  summary: 'print (or --apply) the GRANT/REVOKE statements for the workstation or the admin database login',
  usage: USAGE,
  options: { role: { type: 'string' }, login: { type: 'string' }, 'own-rows': { type: 'boolean' }, dialect: { type: 'string' }, apply: { type: 'boolean' } },
  async run(ctx) {
    const role = ctx.values['role'];
    const login = ctx.values['login'];
    if (role !== 'workstation' && role !== 'admin') throw new LockstepError('E_USAGE', `--role must be workstation or admin.\nUsage: ${USAGE}`);
    if (typeof login !== 'string') throw new LockstepError('E_USAGE', `--login names the database login to grant to.\nUsage: ${USAGE}`);
    const dialect = dialectOf(ctx);
    // Only builds text: a knex of the dialect without a connection.
    const builder = knexFactory({ client: dialect === 'postgres' ? 'pg' : 'mssql' });
    const statements = grantStatements(builder, dialect, role as GrantRole, login, { ownRows: Boolean(ctx.values['own-rows']) });
    await builder.destroy();
    if (ctx.values['apply']) {
      const ws = await ctx.workstation({ migrate: false });
      if (ws.db.dialect !== dialect) throw new LockstepError('E_USAGE', `--dialect ${dialect} does not match the configured ${ws.db.dialect} database.`);
      await ws.db.knex.transaction(async (tx) => {
        for (const sql of statements) await tx.raw(sql);
      });
    }
    return {
      json: { role, login, dialect, applied: Boolean(ctx.values['apply']), statements },
      text: statements.map((s) => `${s};`).join('\n') + (ctx.values['apply'] ? `\n-- applied: ${statements.length} statements for ${role} login ${login}` : ''),
    };
  },
};
