/**
 * Credentials (S9, Linux without a polkit agent): user name and password of an account with write rights on the
 * install folder. Enter submits, Escape cancels. The password field is cleared as soon as it was handed over (or the
 * dialog cancelled); it goes to the main process once and never into a snapshot.
 */
import type { ShellSnapshot } from '../contract/ipc.js';
import { api, h, mount, run, t, tDynamic } from './lib/page.mjs';

const root = document.getElementById('app')!;
const errors = h('div', { id: 'errors', 'aria-live': 'assertive' });
let shownId = -1;
const account = h('input', { id: 'account', name: 'account', autocomplete: 'username', required: true }) as HTMLInputElement;
const password = h('input', { id: 'password', name: 'password', type: 'password', autocomplete: 'current-password', required: true }) as HTMLInputElement;

async function submit(e: Event): Promise<void> {
  e.preventDefault();
  const answer = { account: account.value, password: password.value };
  password.value = '';
  await run(api().credentials(answer), errors);
}

async function cancel(): Promise<void> {
  password.value = '';
  await run(api().credentials(null), errors);
}

function render(s: ShellSnapshot): void {
  const req = s.credentials;
  if (!req) {
    password.value = '';
    root.replaceChildren(h('p', { id: 'none', role: 'status' }, t('credentials.none')));
    shownId = -1;
    return;
  }
  if (req.id === shownId) return; // keep what the user is typing
  shownId = req.id;
  account.value = req.account;
  password.value = '';
  const form = h(
    'form',
    { id: 'credentials-form', role: 'dialog', 'aria-modal': 'true', 'aria-labelledby': 'title', 'aria-describedby': 'why', onsubmit: (e) => void submit(e) },
    h('h1', { id: 'title' }, t('credentials.title')),
    h('p', { id: 'why' }, t('credentials.text', { reason: tDynamic(`credentials.reason.${req.reason}`) })),
    errors,
    h('label', { for: 'account' }, t('credentials.account')),
    account,
    h('label', { for: 'password' }, t('credentials.password')),
    password,
    h('div', { class: 'buttons' }, h('button', { id: 'ok', class: 'primary', type: 'submit' }, t('credentials.ok')), h('button', { id: 'cancel', type: 'button', onclick: () => void cancel() }, t('credentials.cancel'))),
  );
  root.replaceChildren(form);
  password.focus();
}

void mount('credentials.title', render, () => void cancel());
