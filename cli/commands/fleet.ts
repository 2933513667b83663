/** fleet / fleet retire: the fleet's convergence for administrators, its CSV export, and retiring a workstation. */
import * as fs from 'node:fs';
import type { FleetSummary } from '../../contract/fleet';
import { fleetCsv } from '../../engine/fleet/fleetCsv';
import { DEFAULT_STALE_DAYS } from '../../engine/fleet/fleetView';
import { Command } from '../command';

function staleDaysOf(value: unknown): number {
  return value === undefined ? DEFAULT_STALE_DAYS : /^\d{1,4}$/.test(String(value)) ? Number(value) : Number.NaN;
}

/** The CSV is written without following a link at its place (an administrator's file, never someone else's target). */
function writeCsv(file: string, text: string): void {
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | (fs.constants.O_NOFOLLOW ?? 0), 0o600);
  try {
    fs.writeFileSync(fd, text);
  } finally {
    fs.closeSync(fd);
  }
}

function summaryText(s: FleetSummary): string {
  const lines = [`Channel ${s.channel}: ${s.onReleased} of ${s.total} workstations run the released version ${s.released ?? '(none released)'}.`];
  if (s.scheduled) lines.push(`Version ${s.scheduled.version} is scheduled for ${s.scheduled.at}.`);
  lines.push('Versions in use:', ...s.versions.map((v) => `  ${v.version.padEnd(16)} ${String(v.count).padStart(5)}${v.released ? '  (released)' : ''}`));
  lines.push(`Test workstations: ${s.testWorkstations.map((w) => `${w.hostName} (${w.installedVersion})`).join(', ') || 'none'}`);
  lines.push(`Failed upgrades: ${s.failed.length ? '' : 'none'}`, ...s.failed.map((f) => `  ${f.hostName}\t${f.code}\t${f.at ?? ''}`));
  lines.push(`Not seen for ${s.staleDays} days or more: ${s.stale.length ? '' : 'none'}`, ...s.stale.map((w) => `  ${w.hostName} (${w.workstationId})\tlast start ${w.lastStart}`));
  const grace = s.workstations.filter((w) => w.grace);
  if (grace.length) lines.push('Grace period:', ...grace.map((w) => `  ${w.hostName}\t${w.grace!.state}\tuntil ${w.grace!.until}`));
  if (s.retired.length) lines.push(`Retired (not counted): ${s.retired.map((r) => r.hostName).join(', ')}`);
  return lines.join('\n');
}

export const fleetRetire: Command = {
  name: 'fleet retire',
  summary: 'retire a workstation from the fleet view (administrators; audited; it returns when it starts again)',
  usage: 'lockstep fleet retire <workstation id or host name> [--config FILE] [--json]',
  positionals: [1, 1],
  async run(ctx) {
    const ws = await ctx.workstation();
    const retired = await ws.fleetView.retire(ctx.positionals[0]!);
    return { json: { retired }, text: `Workstation ${retired.hostName} (${retired.workstationId}) is retired: it is no longer counted until it starts again.` };
  },
};

export const fleet: Command = {
  name: 'fleet',
  summary: 'how many workstations run the released version, versions in use, failed upgrades, stale workstations',
  usage: 'lockstep fleet [--stale-days N] [--csv FILE] [--config FILE] [--json]',
  options: { 'stale-days': { type: 'string' }, csv: { type: 'string' } },
  async run(ctx) {
    const ws = await ctx.workstation();
    const summary = await ws.fleetView.summary(staleDaysOf(ctx.values['stale-days']));
    const csvFile = ctx.values['csv'];
    if (typeof csvFile === 'string') writeCsv(csvFile, fleetCsv(summary));
    const text = summaryText(summary) + (typeof csvFile === 'string' ? `\nCSV written to ${csvFile}.` : '');
    return { json: { fleet: summary, ...(typeof csvFile === 'string' ? { csv: csvFile } : {}) }, text };
  },
};
