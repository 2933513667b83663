/**
 * What every window shares: the preload API, the language (from the snapshot, which main takes from the system locale
 * or the user's setting), element building without innerHTML, coded errors with what to do, number/time formats, and
 * keyboard habits (Escape closes or cancels). Windows render from whole snapshots and keep only UI choices locally.
 */
import type { ErrorInfo } from '../../contract/errors.js';
import type { LockstepApi, Result, ShellSnapshot } from '../../contract/ipc.js';
import { localizeError, type Locale } from '../../contract/messages.js';
import { de } from '../i18n/de.mjs';
import { en, type Catalog, type MessageKey } from '../i18n/en.mjs';
import { fr } from '../i18n/fr.mjs';

declare global {
  interface Window {
    lockstep: LockstepApi;
  }
}

const CATALOGS: Record<Locale, Catalog> = { en, de, fr };
let locale: Locale = 'en';

export function api(): LockstepApi {
  return window.lockstep;
}

export function currentLocale(): Locale {
  return locale;
}

export function t(key: MessageKey, vars: Record<string, string | number> = {}): string {
  const text = CATALOGS[locale][key] ?? en[key];
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

/** A catalog key built from data (states, rings, module statuses); falls back to the raw value. */
export function tDynamic(key: string, vars: Record<string, string | number> = {}): string {
  return key in en ? t(key as MessageKey, vars) : key.split('.').pop()!;
}

type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | ((e: Event) => void)>;

/** Builds an element; text always goes in as text nodes, never as markup. */
export function h(tag: string, attrs: Attrs = {}, ...children: Child[]): HTMLElement {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(name.replace(/^on/, ''), value);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/** A coded error as a person reads it: what went wrong, what to do, and the code for IT. */
export function errorBox(error: ErrorInfo): HTMLElement {
  const text = localizeError(error, locale);
  return h('div', { class: 'error', role: 'alert', 'data-code': error.code }, h('strong', {}, text.problem), h('p', {}, t('common.whatToDo', { action: text.action })), h('p', { class: 'code' }, t('common.error', { code: error.code })));
}

export function formatDate(iso: string, withTime = true): string {
  const d = new Date(iso);
  return new Intl.DateTimeFormat(locale, withTime ? { dateStyle: 'medium', timeStyle: 'short' } : { dateStyle: 'medium' }).format(d);
}

export function formatTime(iso: string): string {
  return new Intl.DateTimeFormat(locale, { timeStyle: 'short' }).format(new Date(iso));
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${new Intl.NumberFormat(locale, { maximumFractionDigits: i === 0 ? 0 : 1 }).format(v)} ${units[i]}`;
}

export function formatDuration(seconds: number): string {
  const s = Math.max(1, Math.round(seconds));
  if (s < 60) return new Intl.NumberFormat(locale, { style: 'unit', unit: 'second', unitDisplay: 'long' }).format(s);
  const m = Math.round(s / 60);
  if (m < 60) return new Intl.NumberFormat(locale, { style: 'unit', unit: 'minute', unitDisplay: 'long' }).format(m);
  return new Intl.NumberFormat(locale, { style: 'unit', unit: 'hour', unitDisplay: 'long', maximumFractionDigits: 1 }).format(s / 3600);
}

/** Replaces a region's content and puts the focus back on the element that had it (same id). */
export function replace(region: HTMLElement, ...children: Child[]): void {
  const focusedId = document.activeElement instanceof HTMLElement && region.contains(document.activeElement) ? document.activeElement.id : '';
  region.replaceChildren(...children.filter((c): c is Node | string => c !== null && c !== undefined && c !== false));
  if (focusedId) document.getElementById(focusedId)?.focus();
}

/** Unwraps a Result; an error is shown in `errors` (role=alert) and yields null. */
export async function run<T>(call: Promise<Result<T>>, errors: HTMLElement): Promise<T | null> {
  const r = await call;
  if (r.ok) {
    errors.replaceChildren();
    return r.value;
  }
  errors.replaceChildren(errorBox(r.error));
  return null;
}

export function header(s: ShellSnapshot, titleKey: MessageKey): HTMLElement {
  const marker = s.app.testVersion || s.gate?.type === 'test-workstation' ? h('span', { class: 'marker', role: 'status', title: t('app.testVersionHint') }, t('app.testVersion')) : null;
  return h('header', {}, h('h1', { id: 'title' }, t(titleKey)), marker, h('p', { class: 'muted' }, t('app.installed', { version: s.app.installed })));
}

/**
 * Starts a window: first snapshot, then every pushed one. `render` rebuilds the page from the snapshot; `onEscape`
 * is the window's cancel (close, or cancel the dialog).
 */
export async function mount(titleKey: MessageKey, render: (s: ShellSnapshot) => void, onEscape: () => void = () => window.close()): Promise<void> {
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') {
      e.preventDefault();
      onEscape();
    }
  });
  const apply = (s: ShellSnapshot) => {
    locale = s.locale;
    document.documentElement.lang = s.locale;
    document.title = `${t(titleKey)} — ${s.app.product}`;
    render(s);
    document.body.dataset['ready'] = 'true';
  };
  api().onState(apply);
  const first = await api().snapshot();
  if (first.ok) apply(first.value);
  else {
    document.body.replaceChildren(errorBox(first.error));
    document.body.dataset['ready'] = 'error';
  }
}
