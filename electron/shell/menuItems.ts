/**
 * Lockstep's menu entries as plain data — *Update…* for everyone, *Release management…* for administrators (S1, S15)
 * — with their labels in de/en/fr (the renderer's catalogs are browser modules). The host puts them into its own
 * menu (lockstep/electron menu()); Lockstep's demo host builds its whole menu from them (electron/menu.ts).
 */
import type { Locale } from '../../contract/messages';

export const MENU_LABELS: Record<Locale, { extras: string; update: string; admin: string; file: string; quit: string; ready: string }> = {
  en: { extras: 'E&xtras', update: '&Update…', admin: '&Release management…', file: '&File', quit: '&Quit', ready: 'Version {version} is downloaded: Extras → Update… → Install now.' },
  de: { extras: 'E&xtras', update: '&Update…', admin: '&Freigabeverwaltung…', file: '&Datei', quit: '&Beenden', ready: 'Version {version} ist heruntergeladen: Extras → Update… → Jetzt installieren.' },
  fr: { extras: 'E&xtras', update: '&Mise à jour…', admin: '&Gestion des publications…', file: '&Fichier', quit: '&Quitter', ready: 'La version {version} est téléchargée : Extras → Mise à jour… → Installer maintenant.' },
};

/** The notification text when a separate download is ready (S7). */
export function readyText(locale: Locale, version: string): string {
  return MENU_LABELS[locale].ready.replace('{version}', version);
}

export interface LockstepMenuItem {
  id: 'lockstep-update' | 'lockstep-release-management';
  label: string;
  accelerator?: string;
  click(): void;
}

export function lockstepMenuItems(a: { locale: Locale; isAdmin: boolean; openUpdate(): void; openAdmin(): void }): LockstepMenuItem[] {
  const l = MENU_LABELS[a.locale];
  const items: LockstepMenuItem[] = [{ id: 'lockstep-update', label: l.update, accelerator: 'CmdOrCtrl+U', click: () => a.openUpdate() }];
  if (a.isAdmin) items.push({ id: 'lockstep-release-management', label: l.admin, click: () => a.openAdmin() });
  return items;
}
