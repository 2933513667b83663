import { Command } from '../command';
import { workstationGrace } from '../../engine/grace';

export const workstations: Command = {
  name: 'workstations',
  summary: 'the workstation registry: host, user, installed version, last start, ring, last result',
  usage: 'lockstep workstations [--config FILE] [--json]',
  async run(ctx) {
    const ws = await ctx.workstation();
    const list = await ws.fleet.workstations.list();
    // Who is inside the grace period and who is blocked, under this configuration's outdated policy (IT's machine
    // configuration, normally the same on every workstation), by the database server's clock.
    const released = (await ws.fleet.releases.current(ws.config.channel))?.release ?? null;
    const now = await ws.fleet.schedules.serverNow();
    const withGrace = list.map((w) => ({ ...w, grace: workstationGrace(w.installedVersion, released, now, ws.config.outdatedPolicy) }));
    const graceText = (g: (typeof withGrace)[number]['grace']) => (g.state === 'in-grace' ? `in grace until ${g.deadline}` : g.state === 'blocked' && g.deadline ? `blocked since ${g.deadline}` : g.state);
    const rows = withGrace.map((w) => [w.hostName, w.osUser, w.installedVersion, w.lastStart, w.ring, graceText(w.grace), w.lastResult ?? ''].join('\t'));
    return { json: { released: released?.version ?? null, serverNow: now, workstations: withGrace }, text: ['host\tuser\tinstalled\tlast start\tring\tupdate status\tlast result', ...rows].join('\n') };
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
