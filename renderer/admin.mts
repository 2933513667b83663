/**
 * Release management (S15, S16), for administrators: the workstation registry (host, user, version, last start, ring,
 * last result) and the releases with withdraw / release again, each confirmed in place before it happens.
 */
import type { FleetSummary } from '../contract/fleet.js';
import type { AdminOverview, ReleaseRow, ShellSnapshot } from '../contract/ipc.js';
import { fleetSection } from './fleet.mjs';
import { api, formatDate, h, header, mount, replace, run, t, tDynamic } from './lib/page.mjs';

const root = document.getElementById('app')!;
const errors = h('div', { id: 'errors', 'aria-live': 'assertive' });
let overview: AdminOverview | null = null;
let pending: { action: 'withdraw' | 'rerelease'; version: string } | null = null;
let snap: ShellSnapshot | null = null;
let fleet: FleetSummary | null = null;
let staleDays = 14;
let pendingRetire: string | null = null;

async function load(): Promise<void> {
  overview = await run(api().adminOverview(), errors);
  fleet = (await run(api().fleet(staleDays), errors)) ?? fleet;
  if (snap) render(snap);
}

async function retire(workstationId: string): Promise<void> {
  pendingRetire = null;
  fleet = (await run(api().retireWorkstation(workstationId, staleDays), errors)) ?? fleet;
  if (snap) render(snap);
  document.getElementById('stale-days')?.focus();
}

/** The CSV comes from the main process (formula-safe there); the window only hands it to the browser's download. */
async function exportCsv(): Promise<void> {
  const text = await run(api().fleetCsv(staleDays), errors);
  if (text === null) return;
  const url = URL.createObjectURL(new Blob([text], { type: 'text/csv;charset=utf-8' }));
  const link = h('a', { href: url, download: `lockstep-fleet-${new Date().toISOString().slice(0, 10)}.csv` });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

function fleetPart(): HTMLElement | null {
  if (!fleet) return null;
  const rerender = () => snap && render(snap);
  return fleetSection(fleet, {
    pendingRetire,
    askRetire: (id) => {
      pendingRetire = id;
      rerender();
      document.getElementById(`confirm-retire-${id}`)?.focus();
    },
    cancelRetire: () => ((pendingRetire = null), rerender()),
    retire: (id) => void retire(id),
    setStaleDays: (days) => ((staleDays = days), void load()),
    exportCsv: () => void exportCsv(),
  });
}

async function act(action: 'withdraw' | 'rerelease', version: string): Promise<void> {
  pending = null;
  const next = await run(action === 'withdraw' ? api().withdraw(version) : api().rerelease(version), errors);
  if (next) overview = next;
  if (snap) render(snap);
  document.getElementById('refresh')?.focus();
}

function actions(r: ReleaseRow): HTMLElement {
  if (pending && pending.version === r.version) {
    const text = pending.action === 'withdraw' ? t('admin.confirmWithdraw', { version: r.version }) : t('admin.confirmRerelease', { version: r.version });
    const p = pending;
    return h('td', {}, h('span', { role: 'alert' }, text), ' ', h('button', { id: `confirm-${r.version}`, class: 'primary', onclick: () => void act(p.action, p.version) }, t('admin.confirm')), ' ', h('button', { id: `cancel-${r.version}`, onclick: () => ((pending = null), snap && render(snap)) }, t('update.cancel')));
  }
  const ask = (action: 'withdraw' | 'rerelease') => () => {
    pending = { action, version: r.version };
    if (snap) render(snap);
    document.getElementById(`confirm-${r.version}`)?.focus();
  };
  const button = r.state === 'released' && r.current ? h('button', { id: `withdraw-${r.version}`, onclick: ask('withdraw') }, t('admin.withdraw')) : r.state === 'withdrawn' || (r.state === 'released' && !r.current) ? h('button', { id: `rerelease-${r.version}`, onclick: ask('rerelease') }, t('admin.rerelease')) : null;
  return h('td', {}, button);
}

function table(caption: string, heads: string[], rows: HTMLElement[], id: string): HTMLElement {
  return h('table', { id }, h('caption', {}, caption), h('thead', {}, h('tr', {}, ...heads.map((x) => h('th', { scope: 'col' }, x)))), h('tbody', {}, ...(rows.length ? rows : [h('tr', {}, h('td', { colspan: heads.length }, t('admin.none')))])));
}

function render(s: ShellSnapshot): void {
  snap = s;
  const o = overview;
  const parts: Array<Node | string> = [h('button', { id: 'refresh', onclick: () => void load() }, t('admin.refresh'))];
  if (o) {
    parts.push(h('p', { id: 'released' }, t('admin.released', { channel: o.channel, version: o.released ?? '—' })));
    const fleetView = fleetPart();
    if (fleetView) parts.push(fleetView);
    parts.push(
      table(t('admin.workstations'), [t('admin.host'), t('admin.user'), t('admin.version'), t('admin.lastStart'), t('admin.ring'), t('admin.lastResult')], o.workstations.map((w) => h('tr', { 'data-host': w.hostName }, h('td', {}, w.hostName), h('td', {}, w.osUser), h('td', {}, w.installedVersion), h('td', {}, formatDate(w.lastStart)), h('td', {}, tDynamic(`admin.ring.${w.ring}`)), h('td', {}, w.lastResult ?? '—'))), 'workstations'),
      table(t('admin.releases'), [t('admin.version'), t('admin.state'), t('admin.releasedBy'), t('admin.releasedAt'), t('admin.actions')], o.releases.map((r) => h('tr', { 'data-version': r.version, 'data-state': r.state }, h('td', {}, r.version, r.current ? h('span', { class: 'marker current' }, t('admin.current')) : ''), h('td', {}, tDynamic(`admin.state.${r.state}`)), h('td', {}, r.releasedBy ? `${r.releasedBy} (${r.releasedFrom ?? ''})` : '—'), h('td', {}, r.releasedAt ? formatDate(r.releasedAt) : '—'), actions(r))), 'releases'),
    );
  }
  replace(root, header(s, 'admin.title'), errors, h('main', { id: 'state', 'data-state': o ? 'loaded' : 'loading' }, ...parts));
}

void mount('admin.title', render, () => (pending || pendingRetire ? ((pending = null), (pendingRetire = null), snap && render(snap)) : window.close())).then(load);
