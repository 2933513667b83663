/**
 * The application menu: Extras → Update… for everyone, Extras → Release management… for administrators (S1, S15).
 * The template is built by a plain function (labels from a small de/en/fr table — the renderer's catalogs are browser
 * modules), Electron's Menu only turns it into the real menu.
 */
import { Menu, MenuItemConstructorOptions } from 'electron';
import type { Locale } from '../contract/messages';

const LABELS: Record<Locale, { extras: string; update: string; admin: string; file: string; quit: string; ready: string }> = {
  en: { extras: 'E&xtras', update: '&Update…', admin: '&Release management…', file: '&File', quit: '&Quit', ready: 'Version {version} is downloaded: Extras → Update… → Install now.' },
  de: { extras: 'E&xtras', update: '&Update…', admin: '&Freigabeverwaltung…', file: '&Datei', quit: '&Beenden', ready: 'Version {version} ist heruntergeladen: Extras → Update… → Jetzt installieren.' },
  fr: { extras: 'E&xtras', update: '&Mise à jour…', admin: '&Gestion des publications…', file: '&Fichier', quit: '&Quitter', ready: 'La version {version} est téléchargée : Extras → Mise à jour… → Installer maintenant.' },
};

/** The notification text when a separate download is ready (S7). */
export function readyText(locale: Locale, version: string): string {
  return LABELS[locale].ready.replace('{version}', version);
}

export interface MenuActions {
  locale: Locale;
  isAdmin: boolean;
  openUpdate(): void;
  openAdmin(): void;
}

export function menuTemplate(a: MenuActions): MenuItemConstructorOptions[] {
  const l = LABELS[a.locale];
  const extras: MenuItemConstructorOptions[] = [{ label: l.update, accelerator: 'CmdOrCtrl+U', click: () => a.openUpdate() }];
  if (a.isAdmin) extras.push({ label: l.admin, click: () => a.openAdmin() });
  return [
    { label: l.file, submenu: [{ label: l.quit, role: 'quit' }] },
    { label: l.extras, submenu: extras },
  ];
}

export function installMenu(a: MenuActions): void {
  Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate(a)));
}
