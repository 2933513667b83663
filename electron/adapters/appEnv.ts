/**
 * What the shell needs from Electron's app: folders, the system language (S25), the system proxy for the feed (S12),
 * relaunch, and a last-resort error dialog.
 */
import { app, dialog, session } from 'electron';
import * as path from 'node:path';
import type { Locale } from '../../contract/messages';

export function userDataDir(): string {
  return app.getPath('userData');
}

export function logDir(): string {
  return app.getPath('logs');
}

/** de / en / fr from the system's preferred languages; English otherwise. */
export function systemLocale(): Locale {
  const langs = [...app.getPreferredSystemLanguages(), app.getLocale()];
  for (const l of langs) {
    const two = l.slice(0, 2).toLowerCase();
    if (two === 'de' || two === 'fr' || two === 'en') return two;
  }
  return 'en';
}

/** The system proxy for a URL as http://host:port, or null for a direct connection. */
export async function systemProxyFor(url: string): Promise<string | null> {
  const answer = await session.defaultSession.resolveProxy(url); // e.g. "PROXY proxy.corp:8080; DIRECT"
  const m = /PROXY\s+([^;\s]+)/i.exec(answer);
  return m ? `http://${m[1]}` : null;
}

export function relaunchApp(): void {
  app.relaunch();
  app.exit(0);
}

export function fatal(title: string, err: unknown): void {
  dialog.showErrorBox(title, err instanceof Error ? err.message : String(err));
  app.exit(1);
}

/** Lockstep's window pages, inside the lockstep package (build/web beside build/electron), wherever the host app lies. */
export function webRoot(): string {
  return path.join(__dirname, '..', '..', 'web');
}

export function preloadPath(): string {
  return path.join(__dirname, '..', 'preload.js');
}
