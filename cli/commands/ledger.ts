/** release / mark-test / withdraw / releases / releases prune: the release ledger (S15), administrators only for the writes. */
import { Release } from '../../db/types';
import { Command } from '../command';
import { LockstepError } from '../../contract/errors';

function releaseLine(r: Release): string {
  const who = r.state === 'withdrawn' ? `withdrawn by ${r.withdrawnBy} at ${r.withdrawnAt}` : r.releasedBy ? `released by ${r.releasedBy} from ${r.releasedFrom} at ${r.releasedAt}` : `recorded by ${r.createdBy} from ${r.createdFrom}`;
  return `${r.version.padEnd(16)} ${r.state.padEnd(10)} ${who}`;
}

export const release: Command = {
  name: 'release',
  summary: 'release a version for all workstations (--at 22:00 or an ISO time: at that time; --cancel: cancel a scheduled one; --rerelease to move back to an earlier one)',
  usage: 'lockstep release <version> [--at HH:MM|ISO-TIME] [--cancel] [--rerelease] [--config FILE] [--json]',
  options: { rerelease: { type: 'boolean' }, at: { type: 'string' }, cancel: { type: 'boolean' } },
  positionals: [1, 1],
  async run(ctx) {
    const ws = await ctx.workstation();
    const at = ctx.values['at'];
    if (ctx.values['cancel'] === true) {
      if (typeof at === 'string') throw new LockstepError('E_USAGE', '--cancel and --at do not go together.');
      const c = await ws.ledger.cancelSchedule(ctx.positionals[0]!);
      return { json: { cancelled: c }, text: `The release of version ${c.version} scheduled for ${c.dueAt} is cancelled.` };
    }
    if (typeof at === 'string') {
      const s = await ws.ledger.schedule(ctx.positionals[0]!, at, { rerelease: ctx.values['rerelease'] === true });
      return { json: { scheduled: s }, text: `Version ${s.version} is scheduled for release at ${s.dueAt} (${new Date(s.dueAt).toLocaleString()}); workstations follow after that time.` };
    }
    const r = await ws.ledger.release(ctx.positionals[0]!, { rerelease: ctx.values['rerelease'] === true });
    const { schemaMove, ...release } = r;
    const moved = schemaMove
      ? `\nThe database moved from schema level ${schemaMove.from} to ${schemaMove.to}: ${schemaMove.migrations.join(', ')}${schemaMove.backup?.file ? ` (backup before it: ${schemaMove.backup.file})` : ''}.`
      : '';
    return { json: { release, migrations: schemaMove?.migrations ?? [], schemaMove: schemaMove ?? null }, text: `Version ${r.version} is now the released version of channel "${r.channel}".${moved}` };
  },
};

export const markTest: Command = {
  name: 'mark-test',
  summary: 'record a version as installed on this workstation for testing only',
  usage: 'lockstep mark-test <version> [--config FILE] [--json]',
  positionals: [1, 1],
  async run(ctx) {
    const ws = await ctx.workstation();
    await ws.gate.heartbeat(); // the registry row the mark belongs to
    const r = await ws.ledger.markTest(ctx.positionals[0]!);
    return { json: r, text: `Version ${r.release.version} is a test version on ${ws.identity.workstationId}${r.alreadyMarked ? ' (already recorded)' : ''}.` };
  },
};

export const withdraw: Command = {
  name: 'withdraw',
  summary: 'withdraw a release; if current, workstations move back to the previous release',
  usage: 'lockstep withdraw <version> [--config FILE] [--json]',
  positionals: [1, 1],
  async run(ctx) {
    const ws = await ctx.workstation();
    const r = await ws.ledger.withdraw(ctx.positionals[0]!);
    const level = (await ws.fleet.schema.level())?.level ?? null;
    return {
      // Withdrawing never migrates: the database stays at its level (the fallback was checked to work on it).
      json: { ...r, migrations: [], schemaLevel: level },
      text: `Version ${r.withdrawn.version} is withdrawn. Released version now: ${r.current ? r.current.version : 'none'}.${level !== null ? ` No migrations run; the database stays at schema level ${level}.` : ''}`,
    };
  },
};

export const releasesPrune: Command = {
  name: 'releases prune',
  summary: 'delete the stored package of a withdrawn or superseded release, freeing blocks no other release uses',
  usage: 'lockstep releases prune <version> [--config FILE] [--json]',
  positionals: [1, 1],
  async run(ctx) {
    const ws = await ctx.workstation();
    const r = await ws.ledger.prune(ctx.positionals[0]!);
    const mb = (n: number) => (n / (1024 * 1024)).toFixed(1);
    return {
      json: { prune: r },
      text: `The package of version ${r.version} is deleted: ${r.blocksFreed} blocks (${mb(r.bytesFreed)} MB) freed, ${r.blocksKept} kept for other releases${r.chunksFreed ? `, ${r.chunksFreed} chunks freed` : ''}.${r.withdrawn ? ` Version ${r.version} is now withdrawn.` : ''}`,
    };
  },
};

export const releases: Command = {
  name: 'releases',
  summary: 'list the release ledger (newest first)',
  usage: 'lockstep releases [--config FILE] [--json]',
  async run(ctx) {
    const ws = await ctx.workstation();
    const list = await ws.ledger.list();
    const current = await ws.fleet.releases.current(ws.config.channel);
    const pending = await ws.fleet.schedules.pending(ws.config.channel);
    // The package each release carries: file, size, chunks, store, upload state — not the stored catalog.
    const withPackages = await Promise.all(
      list.map(async (r) => {
        const info = await ws.fleetParts.packages.info(r.id);
        const scheduledFor = pending && pending.releaseId === r.id ? { at: pending.dueAt, by: pending.scheduledBy, from: pending.scheduledFrom } : null;
        return { ...r, scheduledFor, package: info ? { fileName: info.fileName, size: info.size, sha512: info.sha512, chunkSize: info.chunkSize, chunkCount: info.chunkCount, layout: info.layout, store: info.store, state: info.state, completedAt: info.completedAt } : null };
      }),
    );
    const pkgText = (p: (typeof withPackages)[number]['package']) => (p ? `  package ${p.fileName} ${p.size} bytes (${p.store}, ${p.state})` : '  no package');
    return {
      json: { channel: ws.config.channel, current: current?.release?.version ?? null, releases: withPackages },
      text: withPackages.length
        ? withPackages.map((r) => (r.id === current?.release?.id ? '* ' : '  ') + releaseLine(r) + (r.scheduledFor ? `  scheduled for ${r.scheduledFor.at} by ${r.scheduledFor.by}` : '') + pkgText(r.package)).join('\n')
        : 'No releases recorded yet.',
    };
  },
};
