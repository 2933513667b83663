import { Command } from '../command';
import { describeDecision } from '../describe';
import { LockstepError } from '../../contract/errors';

export const gate: Command = {
  name: 'gate',
  summary: 'run the start-up gate headless (heartbeat, decision, upgrade); --answer yes|no answers the release question',
  usage: 'lockstep gate [--answer yes|no [--at HH:MM|ISO-TIME]] [--config FILE] [--json]',
  options: { answer: { type: 'string' }, at: { type: 'string' } },
  async run(ctx) {
    const answer = ctx.values['answer'];
    if (answer !== undefined && answer !== 'yes' && answer !== 'no') {
      throw new LockstepError('E_USAGE', '--answer takes yes or no');
    }
    const at = ctx.values['at'];
    if (typeof at === 'string' && answer !== 'yes') throw new LockstepError('E_USAGE', '--at goes with --answer yes (release at that time)');
    const ws = await ctx.workstation();
    const result = answer ? await ws.gate.answer(answer, typeof at === 'string' ? at : undefined) : await ws.gate.run();
    const json = { ...result, installed: result.decision.installed, released: result.decision.released, decisionType: result.decision.type };
    const lines = [...(result.alreadyReleased ? [result.alreadyReleased.message] : []), `Start-up gate: ${describeDecision(result.decision)}`];
    if (result.restartInto) lines.push(`Upgraded; restart into ${result.restartInto}.`);
    if (result.testVersion) lines.push('TEST VERSION');
    if (!result.mayUseDatabase && !result.restartInto) lines.push('The application must not use the database.');
    // Exit 3: the gate blocks (scripts can tell "blocked" from "failed").
    return { json, text: lines.join('\n'), exitCode: result.mayUseDatabase || result.restartInto ? 0 : 3 };
  },
};
