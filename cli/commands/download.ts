/**
 * `lockstep download`: *download and install now* minus the install (S7), or *download separately* with --at (the
 * schedule is persisted in the download cache). --run-scheduled waits for a persisted schedule and runs it (or
 * continues one a restart interrupted, from where it stopped).
 */
import { LockstepError } from '../../electron/common/errors';
import { DownloadedStep } from '../../electron/common/update';
import { parseStartTime } from '../../electron/engine/schedule';
import { Command } from '../command';
import { updateServiceFor } from './feedSession';

function describeSteps(steps: DownloadedStep[]): string {
  return steps.map((s) => `Downloaded and verified ${s.version}: ${s.file}`).join('\n');
}

export const download: Command = {
  name: 'download',
  summary: 'download (and verify) a version now, or at a chosen time with --at; --run-scheduled runs a saved schedule',
  usage: 'lockstep download [VERSION] [--at HH:MM|DATE-TIME] [--run-scheduled] [--config FILE] [--json]',
  positionals: [0, 1],
  options: { at: { type: 'string' }, 'run-scheduled': { type: 'boolean' } },
  async run(ctx) {
    const service = await updateServiceFor(ctx);
    let lastPercent = -1;
    service.onState((s) => {
      if (s.type !== 'downloading' || s.total === 0) return;
      const pct = Math.floor((s.transferred / s.total) * 10) * 10;
      if (pct !== lastPercent) ctx.progress(`${s.version}: ${pct}% of ${s.total} bytes`);
      lastPercent = pct;
    });

    if (ctx.values['run-scheduled']) {
      const record = service.scheduler.store.load();
      if (!record || record.state === 'done' || record.state === 'failed') {
        throw new LockstepError('E_NOT_FOUND', record ? `The scheduled download of ${record.version} already ${record.state === 'done' ? 'finished' : 'failed'}.` : 'No download is scheduled.');
      }
      const finished = new Promise<void>((resolve) => service.onState((s) => (s.type === 'downloaded' || s.type === 'failed') && resolve()));
      ctx.progress(`Waiting until ${record.at} to download ${record.version}…`);
      service.resume();
      await finished;
      const state = service.getState();
      if (state.type === 'failed') throw new LockstepError(state.error.code, state.error.message, state.error.details ?? {});
      if (state.type !== 'downloaded') throw new LockstepError('E_INTERNAL', `Unexpected state ${state.type}.`);
      return { json: { version: state.version, file: state.file, steps: state.steps, installNow: true }, text: `${describeSteps(state.steps)}\nInstall now: lockstep download --json > download.json && lockstep install --manifest download.json` };
    }

    const result = await service.check();
    const version = ctx.positionals[0] ?? result.preselected;
    if (!version) throw new LockstepError('E_NOT_FOUND', result.versions.length ? 'No newer version may be installed with this licence; see lockstep check.' : 'No newer version available.');
    const at = ctx.values['at'];
    if (typeof at === 'string') {
      const record = service.scheduleDownload(version, parseStartTime(at, new Date()));
      service.scheduler.disarm(); // the CLI only records it; the app (or --run-scheduled) runs it
      return { json: { scheduled: true, version: record.version, at: record.at, steps: record.steps.map((s) => s.version) }, text: `Download of ${record.version} scheduled for ${record.at}. It survives restarts; run it with: lockstep download --run-scheduled` };
    }
    const steps = await service.download(version);
    return { json: { version, file: steps[steps.length - 1]!.file, steps, installNow: true }, text: `${describeSteps(steps)}\nInstall now: lockstep download --json > download.json && lockstep install --manifest download.json` };
  },
};
