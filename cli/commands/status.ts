import { Command } from '../command';
import { describeDecision } from '../describe';

export const status: Command = {
  name: 'status',
  summary: 'installed and released version and what the start-up gate would decide (writes nothing)',
  usage: 'lockstep status [--config FILE] [--json]',
  async run(ctx) {
    const ws = await ctx.workstation();
    const { decision, snapshot } = await ws.gate.evaluate();
    const json = {
      workstation: ws.identity.workstationId,
      hostName: ws.identity.hostName,
      user: ws.identity.osUser,
      administrator: ws.identity.isAdmin,
      channel: ws.config.channel,
      installed: decision.installed,
      released: snapshot.current?.release?.version ?? null,
      decision: decision.type,
      detail: decision,
    };
    return {
      json,
      text: [
        `Workstation ${json.workstation} (${json.hostName}), user ${json.user}${json.administrator ? ' (administrator)' : ''}`,
        `Installed: ${json.installed}   Released (${json.channel}): ${json.released ?? 'none yet'}`,
        `Start-up gate: ${describeDecision(decision)}`,
      ].join('\n'),
    };
  },
};
