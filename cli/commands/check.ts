/** `lockstep check`: the engine call behind *Search now* (S1–S6). */
import { CheckResult, OfferedVersion } from '../../contract/update';
import { Command } from '../command';
import { updateServiceFor } from './feedSession';

function line(v: OfferedVersion): string {
  const chain = v.chain.length > 1 ? ` via ${v.chain.slice(0, -1).join(' → ')}` : '';
  const modules = v.modules.filter((m) => m.status !== 'compatible').map((m) => `${m.id}: ${m.status}${m.updateTo ? ` → ${m.updateTo}` : ''}`);
  const notes = v.notesTruncated ? '  (release notes cut: too long)' : '';
  return `  ${v.version.padEnd(12)} ${v.releaseDate.slice(0, 10)}  ${v.installable ? `installable${chain}` : `not installable — ${v.reason?.code}: ${v.reason?.message}`}${modules.length ? `  [modules ${modules.join(', ')}]` : ''}${notes}`;
}

export function describeCheck(r: CheckResult): string {
  const head = r.versions.length === 0 ? `No newer version available. Installed: ${r.installed}; last check ${r.checkedAt}.` : `Installed ${r.installed}; newer versions:`;
  return [
    head,
    ...r.versions.map(line),
    ...(r.preselected ? [`Update to version ${r.preselected}: lockstep download ${r.preselected}`] : []),
    ...r.warnings.map((w) => `Warning: ${w.message}`),
  ].join('\n');
}

export const check: Command = {
  name: 'check',
  summary: 'check the vendor feed: newer versions, whether each may be installed and why not, upgrade chain, modules',
  usage: 'lockstep check [--config FILE] [--json]',
  async run(ctx) {
    const service = await updateServiceFor(ctx);
    const result = await service.check();
    return { json: result, text: describeCheck(result) };
  },
};
