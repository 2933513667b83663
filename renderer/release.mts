/**
 * Release for all? (S14): an administrator answers for version I — Yes (every workstation follows) or No (a test on
 * this workstation only); anyone else learns that this installation awaits release. The "test version" marker shows
 * in the header while I is not released.
 */
import type { ShellSnapshot } from '../contract/ipc.js';
import { api, formatDate, h, header, mount, replace, run, t } from './lib/page.mjs';

const root = document.getElementById('app')!;
const errors = h('div', { id: 'errors', 'aria-live': 'assertive' });
let answered: 'yes' | 'no' | 'at' | null = null;
/** "Yes — at 22:00": the clock time the administrator picked (this machine's time zone, next occurrence). */
let releaseTime = '22:00';

async function answer(a: 'yes' | 'no', at?: string): Promise<void> {
  if ((await run(at === undefined ? api().answerRelease(a) : api().answerRelease(a, at), errors)) !== null) answered = at === undefined ? a : 'at';
  const s = await api().snapshot();
  if (s.ok) render(s.value);
}

function render(s: ShellSnapshot): void {
  const g = s.gate;
  const parts: Array<Node | string> = [];
  const goOn = h('button', { id: 'continue', class: 'primary', onclick: () => void run(api().continueStart(), errors) }, t('release.continue'));
  if (g?.type === 'ask-release') {
    const released = g.released ?? t('release.noneReleased');
    parts.push(h('p', {}, t('release.explain', { version: g.installed, released })));
    const move = g.migration;
    // A version that only works after its migration leaves the database alone until released for all.
    const noDatabase = move && !move.worksOnCurrent ? h('p', { id: 'no-database', role: 'status', class: 'blocked' }, t('release.noDatabase', { version: g.installed, from: String(move.from), to: String(move.to) })) : null;
    if (noDatabase) parts.push(noDatabase);
    if (g.scheduled) parts.push(h('p', { id: 'scheduled', role: 'status' }, t('release.scheduled', { version: g.scheduled.version, time: formatDate(g.scheduled.at), by: g.scheduled.by })));
    if (answered === 'at' && g.scheduled) {
      parts.push(h('p', { id: 'answered', role: 'status', class: 'done' }, t('release.doneScheduled', { version: g.scheduled.version, time: formatDate(g.scheduled.at) })), goOn);
    } else if (g.canAnswer) {
      if (move) parts.push(h('p', { id: 'migration' }, t('release.migrates', { from: String(move.from), to: String(move.to) })));
      const timeInput = h('input', { id: 'release-time', type: 'time', value: releaseTime, 'aria-label': t('release.atLabel') }) as HTMLInputElement;
      const atButton = h('button', { id: 'yes-at', onclick: () => void answer('yes', timeInput.value || releaseTime) }, t('release.yesAt', { time: releaseTime }));
      timeInput.addEventListener('input', () => {
        releaseTime = timeInput.value || releaseTime;
        atButton.textContent = t('release.yesAt', { time: releaseTime });
      });
      parts.push(
        h('h2', { id: 'question' }, t('release.question', { version: g.installed })),
        s.notesHtml[g.installed] ? notes(s.notesHtml[g.installed]!) : '',
        h('div', { class: 'buttons' }, h('button', { id: 'yes', class: 'primary', onclick: () => void answer('yes') }, t('release.yes')), h('button', { id: 'no', onclick: () => void answer('no') }, t('release.no'))),
        // Released later: only while nothing is scheduled yet (one pending schedule per channel), and never a version
        // that migrates the database (its migrations run on this workstation, in the release's own transaction).
        g.scheduled || move ? '' : h('div', { class: 'buttons', id: 'at' }, h('label', { for: 'release-time' }, t('release.atLabel')), timeInput, atButton),
      );
    } else {
      parts.push(h('p', { id: 'awaiting', role: 'status' }, t('release.awaiting', { version: g.installed })), noDatabase ? h('button', { id: 'quit', class: 'primary', onclick: () => window.close() }, t('release.quit')) : goOn);
    }
  } else if (g && answered) {
    parts.push(h('p', { id: 'answered', role: 'status', class: 'done' }, answered === 'no' ? t('release.doneNo', { version: g.installed, released: g.released ?? t('release.noneReleased') }) : t('release.doneYes', { version: g.installed })), goOn);
  } else if (g) {
    parts.push(goOn);
  }
  replace(root, header(s, 'release.title'), errors, h('main', { id: 'state', 'data-state': g?.type ?? 'none' }, ...parts));
  if (g?.type === 'ask-release' && g.canAnswer && !root.contains(document.activeElement)) document.getElementById('no')?.focus();
}

function notes(html: string): HTMLElement {
  const el = h('div', { class: 'notes', id: 'notes' });
  el.innerHTML = html; // sanitized in the main process; CSP forbids inline script
  return el;
}

// Escape must never answer the question: it does nothing here (the dialog has no "cancel").
void mount('release.title', render, () => undefined);
