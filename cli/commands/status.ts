import { Command } from '../command';
import { describeDecision } from '../describe';
import { GateDecision, OutdatedPolicySetting } from '../../contract/gate';
import { GateSnapshot } from '../../db/types';
import { GraceStatus, graceOfRead } from '../../engine/grace';

/** Below the released version: what the outdated policy grants this workstation now (deadline under "warn for N days"). */
function outdatedGrace(decision: GateDecision, snapshot: GateSnapshot, policy: OutdatedPolicySetting): GraceStatus | null {
  if (decision.type !== 'upgrade' && decision.type !== 'outdated') return null;
  if (decision.type === 'upgrade' && decision.downgrade) return null;
  return graceOfRead(snapshot, policy);
}

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
      scheduled: snapshot.schedule && !snapshot.schedule.due ? { version: snapshot.schedule.version, at: snapshot.schedule.dueAt, by: snapshot.schedule.scheduledBy } : null,
      grace: outdatedGrace(decision, snapshot, ws.config.outdatedPolicy),
    };
    return {
      json,
      text: [
        `Workstation ${json.workstation} (${json.hostName}), user ${json.user}${json.administrator ? ' (administrator)' : ''}`,
        `Installed: ${json.installed}   Released (${json.channel}): ${json.released ?? 'none yet'}`,
        `Start-up gate: ${describeDecision(decision)}`,
        ...(json.scheduled ? [`Scheduled: version ${json.scheduled.version} is released at ${json.scheduled.at} (by ${json.scheduled.by})`] : []),
        ...(json.grace?.deadline ? [json.grace.policy === 'warn' ? `This workstation must be updated by ${json.grace.deadline}.` : `The grace period ended at ${json.grace.deadline}: blocked.`] : []),
      ].join('\n'),
    };
  },
};
