/**
 * The demo host's application menu: File → Quit, and Extras with Lockstep's entries (shell/menuItems.ts). A vendor's
 * app puts the same entries into its own menu through lockstep/electron menu().
 */
import { Menu, MenuItemConstructorOptions } from 'electron';
import type { Locale } from '../contract/messages';
import { MENU_LABELS } from './shell/menuItems';

export { readyText } from './shell/menuItems';

export function menuTemplate(a: { locale: Locale; extras: MenuItemConstructorOptions[] }): MenuItemConstructorOptions[] {
  const l = MENU_LABELS[a.locale];
  return [
    { label: l.file, submenu: [{ label: l.quit, role: 'quit' }] },
    { label: l.extras, submenu: a.extras },
  ];
}

export function installMenu(a: { locale: Locale; extras: MenuItemConstructorOptions[] }): void {
  Menu.setApplicationMenu(Menu.buildFromTemplate(menuTemplate(a)));
}
