/**
 * The fleet view inside release management: convergence (how many of how many run the released version), a bar chart
 * of the versions in use (inline SVG built element by element: the window's CSP allows no inline styles or scripts,
 * and no chart library is needed), test workstations, failed upgrades with their code and time, workstations not seen
 * for N days with Retire (confirmed in place), the grace period when the site has one, and the CSV export.
 */
import type { FleetSummary, FleetVersionCount, FleetWorkstation } from '../contract/fleet.js';
import { currentLocale, formatDate, h, t, tDynamic } from './lib/page.mjs';

const SVG = 'http://www.w3.org/2000/svg';

export interface FleetActions {
  pendingRetire: string | null;
  askRetire(workstationId: string): void;
  cancelRetire(): void;
  retire(workstationId: string): void;
  setStaleDays(days: number): void;
  exportCsv(): void;
}

function svg(tag: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

/** One bar per version, longest for the most used; the released version drawn in the "ok" colour. */
function versionChart(versions: readonly FleetVersionCount[], total: number): Element {
  const rowH = 24;
  const labelW = 130;
  const barW = 420;
  const width = labelW + barW + 70;
  const max = Math.max(1, ...versions.map((v) => v.count));
  const chart = svg('svg', { id: 'versions-chart', class: 'chart', role: 'img', width, height: Math.max(1, versions.length) * rowH + 4, viewBox: `0 0 ${width} ${Math.max(1, versions.length) * rowH + 4}` });
  const summary = versions.map((v) => t('fleet.chartItem', { version: v.version, count: v.count })).join(', ');
  chart.setAttribute('aria-label', `${t('fleet.chart')}: ${summary}`);
  chart.append(svg('title', {}, `${t('fleet.chart')}: ${summary}`));
  versions.forEach((v, i) => {
    const y = i * rowH + 2;
    const g = svg('g', { 'data-version': v.version, 'data-count': v.count });
    g.append(svg('text', { x: 0, y: y + 16, class: 'chart-label' }, v.version));
    g.append(svg('rect', { x: labelW, y, height: rowH - 6, width: Math.max(2, Math.round((v.count / max) * barW)), class: v.released ? 'bar released' : 'bar', rx: 3 }));
    const percent = new Intl.NumberFormat(currentLocale(), { style: 'percent', maximumFractionDigits: 0 }).format(total ? v.count / total : 0);
    g.append(svg('text', { x: labelW + Math.max(2, Math.round((v.count / max) * barW)) + 6, y: y + 16, class: 'chart-count' }, `${v.count} (${percent})`));
    chart.append(g);
  });
  return chart;
}

function versionOf(f: FleetSummary, workstationId: string): string {
  return f.workstations.find((w) => w.workstationId === workstationId)?.installedVersion ?? '—';
}

function table(id: string, caption: string, heads: string[], rows: HTMLElement[]): HTMLElement {
  return h('table', { id }, h('caption', {}, caption), h('thead', {}, h('tr', {}, ...heads.map((x) => h('th', { scope: 'col' }, x)))), h('tbody', {}, ...(rows.length ? rows : [h('tr', {}, h('td', { colspan: heads.length }, t('admin.none')))])));
}

function retireCell(w: FleetWorkstation, a: FleetActions): HTMLElement {
  if (a.pendingRetire === w.workstationId) {
    return h('td', {}, h('span', { role: 'alert' }, t('fleet.confirmRetire', { host: w.hostName })), ' ', h('button', { id: `confirm-retire-${w.workstationId}`, class: 'primary', onclick: () => a.retire(w.workstationId) }, t('admin.confirm')), ' ', h('button', { id: `cancel-retire-${w.workstationId}`, onclick: () => a.cancelRetire() }, t('update.cancel')));
  }
  return h('td', {}, h('button', { id: `retire-${w.workstationId}`, onclick: () => a.askRetire(w.workstationId) }, t('fleet.retire')));
}

export function fleetSection(f: FleetSummary, a: FleetActions): HTMLElement {
  const percent = new Intl.NumberFormat(currentLocale(), { style: 'percent', maximumFractionDigits: 0 }).format(f.total ? f.onReleased / f.total : 0);
  const staleInput = h('input', { id: 'stale-days', type: 'number', min: 1, max: 3650, step: 1, value: f.staleDays, onchange: (e: Event) => {
    const n = Number((e.target as HTMLInputElement).value);
    if (Number.isInteger(n) && n >= 1 && n <= 3650) a.setStaleDays(n);
  } });
  const graced = f.workstations.filter((w) => w.grace);
  return h(
    'section',
    { id: 'fleet', 'aria-labelledby': 'fleet-title', 'data-total': f.total, 'data-on-released': f.onReleased },
    h('h2', { id: 'fleet-title' }, t('fleet.title')),
    h('p', { id: 'convergence', class: 'convergence' }, f.released ? t('fleet.convergence', { on: f.onReleased, total: f.total, version: f.released, percent }) : t('fleet.noRelease', { total: f.total })),
    h('progress', { id: 'convergence-bar', max: Math.max(1, f.total), value: f.onReleased, 'aria-label': t('fleet.convergenceLabel') }),
    f.scheduled ? h('p', { id: 'scheduled', class: 'marker' }, t('fleet.scheduled', { version: f.scheduled.version, time: formatDate(f.scheduled.at) })) : null,
    h('h3', {}, t('fleet.chart')),
    versionChart(f.versions, f.total),
    table('test-workstations', t('fleet.testWorkstations'), [t('admin.host'), t('admin.user'), t('admin.version'), t('admin.lastStart')], f.testWorkstations.map((w) => h('tr', { 'data-id': w.workstationId }, h('td', {}, w.hostName), h('td', {}, w.osUser), h('td', {}, w.installedVersion), h('td', {}, formatDate(w.lastStart))))),
    table('failed', t('fleet.failed'), [t('admin.host'), t('admin.version'), t('fleet.code'), t('fleet.when')], f.failed.map((x) => h('tr', { 'data-id': x.workstationId, 'data-code': x.code }, h('td', {}, x.hostName), h('td', {}, versionOf(f, x.workstationId)), h('td', { class: 'code' }, x.code), h('td', {}, x.at ? formatDate(x.at) : '—')))),
    graced.length
      ? table('grace', t('fleet.grace'), [t('admin.host'), t('admin.version'), t('fleet.graceState'), t('fleet.graceUntil')], graced.map((w) => h('tr', { 'data-id': w.workstationId, 'data-grace': w.grace!.state }, h('td', {}, w.hostName), h('td', {}, w.installedVersion), h('td', {}, tDynamic(`fleet.grace.${w.grace!.state}`)), h('td', {}, formatDate(w.grace!.until)))))
      : null,
    h('p', { class: 'stale-days' }, h('label', { for: 'stale-days' }, t('fleet.staleDays')), ' ', staleInput),
    table('stale', t('fleet.stale', { days: f.staleDays }), [t('admin.host'), t('admin.user'), t('admin.version'), t('admin.lastStart'), t('fleet.daysAgo'), t('admin.actions')], f.stale.map((w) => h('tr', { 'data-id': w.workstationId }, h('td', {}, w.hostName), h('td', {}, w.osUser), h('td', {}, w.installedVersion), h('td', {}, formatDate(w.lastStart)), h('td', {}, String(w.daysSinceStart)), retireCell(w, a)))),
    f.retired.length ? h('p', { id: 'retired', class: 'muted' }, t('fleet.retired', { hosts: f.retired.map((r) => r.hostName).join(', ') })) : null,
    h('p', {}, h('button', { id: 'export-csv', onclick: () => a.exportCsv() }, t('fleet.exportCsv'))),
  );
}
