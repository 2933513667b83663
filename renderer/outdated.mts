/**
 * Outdated software version (S14): installed and released versions and what happens next — upgrading, or "contact
 * your administrator". Under the block policy there is no way past it: the only button quits.
 */
import type { ShellSnapshot } from '../contract/ipc.js';
import { api, currentLocale, errorBox, formatDate, formatDuration, h, header, mount, replace, run, t } from './lib/page.mjs';

const root = document.getElementById('app')!;
const errors = h('div', { id: 'errors', 'aria-live': 'assertive' });
let countdown: ReturnType<typeof setInterval> | null = null;

/** Time left, counted from what the main process measured on the server's clock (not this machine's clock). */
function leftText(ms: number): string {
  const days = ms / 86_400_000;
  if (days >= 1) return new Intl.NumberFormat(currentLocale(), { style: 'unit', unit: 'day', unitDisplay: 'long', maximumFractionDigits: 1 }).format(days);
  return formatDuration(ms / 1000);
}

/** "Must be updated by …": counts down each second; at zero the notice says the grace period ended. */
function deadlineNotice(deadline: string, msLeft: number, released: string): HTMLElement {
  const el = h('p', { id: 'deadline', role: 'timer' });
  const started = performance.now();
  const tick = () => {
    const left = msLeft - (performance.now() - started);
    el.textContent = left > 0 ? t('outdated.deadline', { deadline: formatDate(deadline), left: leftText(left) }) : t('outdated.deadlinePassed', { deadline: formatDate(deadline), released });
    if (left <= 0) {
      document.getElementById('continue')?.remove();
      if (countdown) clearInterval(countdown);
    }
  };
  if (countdown) clearInterval(countdown);
  countdown = setInterval(tick, 1000);
  tick();
  return el;
}

function render(s: ShellSnapshot): void {
  const g = s.gate;
  const parts: Array<Node | string> = [];
  if (g?.type === 'upgrade') {
    parts.push(h('p', {}, t('outdated.text', { installed: g.installed, released: g.released })), h('p', { role: 'status', 'aria-busy': 'true' }, t('outdated.upgrading', { released: g.released })));
  } else if (g?.type === 'outdated') {
    parts.push(h('p', { id: 'versions' }, t('outdated.text', { installed: g.installed, released: g.released })));
    if (g.reason) parts.push(h('p', {}, t(g.reason.code === 'E_SCHEMA_LEVEL' ? 'outdated.schemaReason' : 'outdated.reason')), errorBox(g.reason));
    if (g.policy === 'block') {
      parts.push(h('p', { id: 'next', class: 'blocked' }, t('outdated.block', { released: g.released })), h('button', { id: 'quit', class: 'primary', onclick: () => window.close() }, t('outdated.quit')));
    } else {
      if (g.deadline && typeof g.msLeft === 'number') parts.push(deadlineNotice(g.deadline, g.msLeft, g.released));
      parts.push(h('p', { id: 'next' }, t('outdated.warn', { released: g.released })), h('div', { class: 'buttons' }, h('button', { id: 'continue', class: 'primary', onclick: () => void run(api().continueStart(), errors) }, t('outdated.continue')), h('button', { id: 'quit', onclick: () => window.close() }, t('outdated.quit'))));
    }
  }
  replace(root, header(s, 'outdated.title'), errors, h('main', { id: 'state', role: 'alertdialog', 'aria-labelledby': 'title', 'aria-describedby': 'versions', 'data-state': g?.type === 'outdated' ? `outdated-${g.policy}` : g?.type ?? 'none' }, ...parts));
}

void mount('outdated.title', render);
