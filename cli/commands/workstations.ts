import { Command } from '../command';

export const workstations: Command = {
  name: 'workstations',
  summary: 'the workstation registry: host, user, installed version, last start, ring, last result',
  usage: 'lockstep workstations [--config FILE] [--json]',
  async run(ctx) {
    const ws = await ctx.workstation();
    const list = await ws.fleet.workstations.list();
    const rows = list.map((w) => [w.hostName, w.osUser, w.installedVersion, w.lastStart, w.ring, w.lastResult ?? ''].join('\t'));
    return { json: { workstations: list }, text: ['host\tuser\tinstalled\tlast start\tring\tlast result', ...rows].join('\n') };
  },
};

export const events: Command = {
  name: 'events',
  summary: 'the audit log of update actions (newest first)',
  usage: 'lockstep events [--limit N] [--config FILE] [--json]',
  options: { limit: { type: 'string' } },
  async run(ctx) {
    const ws = await ctx.workstation();
    const limit = ctx.values['limit'] ? Number(ctx.values['limit']) : 50;
    const list = await ws.fleet.events({ limit: Number.isFinite(limit) ? limit : 50 });
    return {
      json: { events: list },
      text: list.map((e) => `${e.at} ${e.action} ${e.outcome} ${e.version ?? ''} by ${e.actor} from ${e.workstationId}`).join('\n') || 'No events yet.',
    };
  },
};
