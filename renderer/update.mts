/**
 * The Update window (Extras → Update…, S1–S3, S6, S7, S11): Search now and the check-at-start setting; "No newer
 * version available" with the installed version and the last check; every newer version with date, rendered notes,
 * installable or why not, licence warnings and the module table; download-and-install-now or download separately at
 * a time; the progress bar with speed and remaining time; Install now; coded errors with what to do.
 */
import type { ShellSnapshot } from '../contract/ipc.js';
import type { CheckResult, OfferedVersion, UpdateState } from '../contract/update.js';
import { api, errorBox, formatBytes, formatDate, formatDuration, formatTime, h, header, mount, replace, run, t, tDynamic } from './lib/page.mjs';

const root = document.getElementById('app')!;
const errors = h('div', { id: 'errors', 'aria-live': 'assertive' });

/** Choices the user is making; the snapshot holds everything else. */
const ui = { selected: null as string | null, mode: 'now' as 'now' | 'later', startAt: '', unticked: new Set<string>(), confirmModules: false };

function versionItem(v: OfferedVersion, checked: boolean): HTMLElement {
  const id = `version-${v.version}`;
  const radio = h('input', { type: 'radio', name: 'version', id, value: v.version, checked, onchange: () => select(v.version) });
  const status = v.installable ? h('span', { class: 'ok' }, t('update.installable')) : h('span', { class: 'no' }, t('update.notInstallable'));
  return h('li', { class: v.installable ? 'version' : 'version blocked' }, radio, h('label', { for: id }, h('strong', {}, v.version), ' — ', t('update.releasedOn', { date: formatDate(v.releaseDate, false) }), ' · ', status), v.reason ? errorBox(v.reason) : null);
}

let last: ShellSnapshot | null = null;
function select(version: string): void {
  ui.selected = version;
  ui.unticked.clear();
  ui.confirmModules = false;
  if (last) render(last);
}

function notes(s: ShellSnapshot, v: OfferedVersion): HTMLElement {
  const body = h('div', { class: 'notes', id: 'notes' });
  const html = s.notesHtml[v.version];
  // Sanitized in the main process (allow-list, no scripts or handlers); the CSP forbids inline script besides.
  if (html) body.innerHTML = html;
  else body.append(t('update.noNotes'));
  return h('section', { 'aria-labelledby': 'notes-title' }, h('h3', { id: 'notes-title' }, t('update.notes', { version: v.version })), body);
}

function modules(v: OfferedVersion): HTMLElement | null {
  if (v.modules.length === 0) return null;
  const rows = v.modules.map((m) => {
    const box = m.status === 'update-available' ? h('input', { type: 'checkbox', id: `module-${m.id}`, 'aria-label': `${t('update.moduleUpdate')}: ${m.name}`, checked: !ui.unticked.has(m.id), onchange: (e) => ((e.target as HTMLInputElement).checked ? ui.unticked.delete(m.id) : ui.unticked.add(m.id)) }) : null;
    return h('tr', { class: m.requiresConfirmation ? 'warn' : '' }, h('td', {}, box), h('td', {}, m.name), h('td', {}, m.installed), h('td', {}, tDynamic(`module.${m.status}`, { to: m.updateTo ?? '' })));
  });
  const needConfirm = v.modules.some((m) => m.requiresConfirmation);
  return h(
    'section',
    { 'aria-labelledby': 'modules-title' },
    h('h3', { id: 'modules-title' }, t('update.modules')),
    h('table', {}, h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('update.moduleUpdate')), h('th', { scope: 'col' }, t('update.moduleName')), h('th', { scope: 'col' }, t('update.moduleInstalled')), h('th', { scope: 'col' }, t('update.moduleStatus', { version: v.version })))), h('tbody', {}, ...rows)),
    needConfirm ? h('label', { class: 'confirm' }, h('input', { type: 'checkbox', id: 'confirm-modules', checked: ui.confirmModules, onchange: (e) => (ui.confirmModules = (e.target as HTMLInputElement).checked) }), ' ', t('update.confirmModules')) : null,
  );
}

function choice(v: OfferedVersion): HTMLElement {
  const radio = (mode: 'now' | 'later', key: 'update.modeNow' | 'update.modeLater') =>
    h('label', {}, h('input', { type: 'radio', name: 'mode', id: `mode-${mode}`, value: mode, checked: ui.mode === mode, onchange: () => ((ui.mode = mode), last && render(last)) }), ' ', t(key));
  const time = ui.mode === 'later' ? h('label', { class: 'time' }, t('update.startAt'), ' ', h('input', { type: 'time', id: 'start-at', value: ui.startAt, oninput: (e) => (ui.startAt = (e.target as HTMLInputElement).value) })) : null;
  const go = h('button', { id: 'update-button', class: 'primary', type: 'submit', disabled: !v.installable }, t('update.updateTo', { version: v.version }));
  return h('form', { id: 'install-form', onsubmit: (e) => (e.preventDefault(), void start(v)) }, h('fieldset', {}, h('legend', {}, t('update.how')), radio('now', 'update.modeNow'), radio('later', 'update.modeLater'), time), go);
}

async function start(v: OfferedVersion): Promise<void> {
  const when = ui.mode === 'now' ? { type: 'now' as const } : ui.startAt ? { type: 'at' as const, time: ui.startAt } : { type: 'background' as const };
  const ticked = v.modules.filter((m) => m.status === 'update-available' && !ui.unticked.has(m.id)).map((m) => m.id);
  await run(api().download({ version: v.version, when, modules: ticked, confirmIncompatible: ui.confirmModules }), errors);
}

function available(s: ShellSnapshot, result: CheckResult): Array<Node | string> {
  if (!ui.selected || !result.versions.some((v) => v.version === ui.selected)) ui.selected = result.preselected ?? result.versions[0]!.version;
  const chosen = result.versions.find((v) => v.version === ui.selected)!;
  const warnings = result.warnings.length ? h('section', { class: 'warnings', role: 'status' }, h('h3', {}, t('update.warnings')), ...result.warnings.map((w) => h('p', { class: 'warning', 'data-code': w.code }, tDynamic(`warning.${w.code}`, { contractUntil: String(w['contractUntil'] ?? ''), daysLeft: String(w['daysLeft'] ?? '') })))) : null;
  const list = h('fieldset', { class: 'versions' }, h('legend', {}, t('update.versionsLabel')), h('ul', {}, ...result.versions.map((v) => versionItem(v, v.version === ui.selected))));
  const chain = chosen.chain.length > 1 ? h('p', { class: 'muted' }, t('update.chain', { chain: chosen.chain.join(' → ') })) : null;
  return [h('p', { class: 'muted' }, t('update.lastCheck', { time: formatDate(result.checkedAt) })), warnings ?? '', h('h2', {}, t('update.available')), list, chain ?? '', notes(s, chosen), modules(chosen) ?? '', choice(chosen)];
}

function progress(st: Extract<UpdateState, { type: 'downloading' }>): HTMLElement[] {
  const pct = st.total > 0 ? Math.floor((st.transferred / st.total) * 100) : 0;
  const fill = h('div', { class: 'fill' });
  fill.style.width = `${pct}%`; // CSSOM, not a style attribute: the CSP allows no inline styles
  const bar = h('div', { class: 'bar', role: 'progressbar', id: 'progress', 'aria-label': t('update.progressLabel'), 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': pct, 'aria-valuetext': `${pct} %` }, fill);
  const remaining = st.bytesPerSecond > 0 && st.total > 0 ? t('update.remaining', { time: formatDuration((st.total - st.transferred) / st.bytesPerSecond) }) : '';
  const facts = [t('update.progress', { done: formatBytes(st.transferred), total: formatBytes(st.total) }), st.bytesPerSecond > 0 ? t('update.speed', { speed: formatBytes(st.bytesPerSecond) }) : '', remaining].filter(Boolean).join(' · ');
  return [h('p', { role: 'status' }, st.background ? t('update.background') : t('update.downloading', { version: st.version })), bar, h('p', { class: 'muted', id: 'progress-facts' }, facts), h('button', { id: 'cancel', onclick: () => void run(api().cancelDownload(), errors) }, t('update.cancel'))];
}

function body(s: ShellSnapshot): Array<Node | string> {
  const u = s.update;
  switch (u.type) {
    case 'idle':
      return [h('p', {}, t('update.idle'))];
    case 'checking':
      return [h('p', { role: 'status', 'aria-busy': 'true' }, t('update.checking'))];
    case 'up-to-date':
      return [h('p', { role: 'status', class: 'done', id: 'none' }, t('update.none')), h('p', {}, t('app.installed', { version: u.installed })), h('p', { class: 'muted' }, t('update.lastCheck', { time: formatDate(u.checkedAt) }))];
    case 'available':
      return available(s, u.result);
    case 'scheduled':
      return [h('p', { role: 'status', id: 'scheduled' }, t('update.scheduled', { version: u.version, time: formatTime(u.at) })), h('button', { id: 'cancel', onclick: () => void run(api().cancelDownload(), errors) }, t('update.cancel'))];
    case 'downloading':
      return progress(u);
    case 'installing':
      return [h('p', { role: 'status', 'aria-busy': 'true' }, t('update.installing', { version: u.version })), h('div', { class: 'bar indeterminate', role: 'progressbar', 'aria-label': t('update.installing', { version: u.version }) }, h('div', { class: 'fill' }))];
    case 'restart-requested':
      return [h('p', { role: 'status', id: 'restart', class: 'done' }, t('update.restart', { version: u.version }))];
    case 'downloaded': {
      const failed = u.installError ? [h('p', {}, t('update.installFailed', { version: u.version })), errorBox(u.installError)] : [];
      return [...failed, h('p', { role: 'status', id: 'downloaded' }, t('update.downloaded', { version: u.version })), h('button', { id: 'install-now', class: 'primary', onclick: () => void run(api().install(), errors) }, t('update.installNow'))];
    }
    case 'failed':
      return [errorBox(u.error)];
  }
}

function render(s: ShellSnapshot): void {
  last = s;
  const busy = s.update.type === 'checking' || s.update.type === 'downloading' || s.update.type === 'installing' || s.update.type === 'restart-requested';
  const toolbar = h(
    'div',
    { class: 'toolbar' },
    h('button', { id: 'search', class: s.update.type === 'idle' || s.update.type === 'up-to-date' || s.update.type === 'failed' ? 'primary' : '', disabled: busy, onclick: () => void run(api().check(), errors) }, t('update.searchNow')),
    h('label', {}, h('input', { type: 'checkbox', id: 'check-at-start', checked: s.settings.checkAtStart, onchange: (e) => void run(api().setCheckAtStart((e.target as HTMLInputElement).checked), errors) }), ' ', t('update.checkAtStart')),
  );
  replace(root, header(s, 'update.title'), toolbar, errors, h('main', { id: 'state', 'data-state': s.update.type }, ...body(s)));
}

void mount('update.title', render);
