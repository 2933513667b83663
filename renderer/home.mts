/** The main window of the demo client: which version runs here, the "test version" marker, and the Extras entries. */
import type { ShellSnapshot } from '../contract/ipc.js';
import { api, h, header, mount, replace, run, t } from './lib/page.mjs';

const root = document.getElementById('app')!;
const errors = h('div', { id: 'errors', 'aria-live': 'assertive' });

function render(s: ShellSnapshot): void {
  replace(
    root,
    header(s, 'app.title'),
    errors,
    h(
      'main',
      { id: 'state' },
      h('p', {}, t('app.workstation', { host: s.app.hostName, user: s.app.osUser })),
      h('div', { class: 'buttons' }, h('button', { id: 'open-update', onclick: () => void run(api().openWindow('update'), errors) }, t('app.openUpdate')), s.app.isAdmin ? h('button', { id: 'open-admin', onclick: () => void run(api().openWindow('admin'), errors) }, t('app.openAdmin')) : ''),
    ),
  );
}

void mount('app.title', render, () => undefined);
