/**
 * `lockstep download`: *download and install now* minus the install (S7), or *download separately* with --at (the
 * schedule is persisted in the download cache). --run-scheduled waits for a persisted schedule and runs it (or
 * continues one a restart interrupted, from where it stopped).
 */
import { LockstepError } from '../../contract/errors';
import { DownloadedModule, DownloadedStep, OfferedVersion } from '../../contract/update';
import { parseStartTime } from '../../engine/schedule';
import { Command } from '../command';
import { updateServiceFor } from './feedSession';

function describeSteps(steps: DownloadedStep[], modules: DownloadedModule[]): string {
  return [...steps.map((s) => `Downloaded and verified ${s.version}: ${s.file}`), ...modules.map((m) => `Downloaded and verified module ${m.name} ${m.version}: ${m.file}`)].join('\n');
}

const INSTALL_NEXT = 'Install now: lockstep download --json > download.json && lockstep install-update --manifest download.json';

/** S6: every module with a newer compatible version is ticked (preselected) unless --skip-module names it. */
function tickedModules(offered: OfferedVersion | undefined, skip: unknown): string[] {
  const skipped = new Set(Array.isArray(skip) ? skip.map(String) : []);
  for (const id of skipped) {
    if (!offered?.modules.some((m) => m.id === id)) throw new LockstepError('E_USAGE', `--skip-module ${id}: no such module is installed.`, { module: id });
  }
  return (offered?.modules ?? []).filter((m) => m.preselected && !skipped.has(m.id)).map((m) => m.id);
}

export const download: Command = {
  name: 'download',
  summary: 'download (and verify) a version now, or at a chosen time with --at; --run-scheduled runs a saved schedule',
  usage: 'lockstep download [VERSION] [--at HH:MM|DATE-TIME] [--skip-module ID]… [--run-scheduled] [--config FILE] [--json]',
  positionals: [0, 1],
  options: { at: { type: 'string' }, 'run-scheduled': { type: 'boolean' }, 'skip-module': { type: 'string', multiple: true } },
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
      return { json: { version: state.version, file: state.file, steps: state.steps, modules: state.modules, installNow: true }, text: `${describeSteps(state.steps, state.modules)}\n${INSTALL_NEXT}` };
    }

    const result = await service.check();
    const version = ctx.positionals[0] ?? result.preselected;
    if (!version) throw new LockstepError('E_NOT_FOUND', result.versions.length ? 'No newer version may be installed with this licence; see lockstep check.' : 'No newer version available.');
    const modules = tickedModules(result.versions.find((v) => v.version === version), ctx.values['skip-module']);
    const at = ctx.values['at'];
    if (typeof at === 'string') {
      const record = service.scheduleDownload(version, parseStartTime(at, new Date()), modules);
      service.scheduler.disarm(); // the CLI only records it; the app (or --run-scheduled) runs it
      return { json: { scheduled: true, version: record.version, at: record.at, steps: record.steps.map((s) => s.version), modules: (record.modules ?? []).map((m) => `${m.id}@${m.version}`) }, text: `Download of ${record.version} scheduled for ${record.at}. It survives restarts; run it with: lockstep download --run-scheduled` };
    }
    await service.download(version, false, modules);
    const state = service.getState();
    if (state.type !== 'downloaded') throw new LockstepError('E_INTERNAL', `Unexpected state ${state.type}.`);
    return { json: { version, file: state.file, steps: state.steps, modules: state.modules, installNow: true }, text: `${describeSteps(state.steps, state.modules)}\n${INSTALL_NEXT}` };
  },
};
