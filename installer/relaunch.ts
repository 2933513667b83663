/**
 * Relaunch after a successful install (S8), through an injected adapter: in Electron the app adapter passes its
 * `app` (relaunch + exit); the CLI has nothing to restart and reports instead. The installer never imports electron.
 */
export interface Relauncher {
  relaunch(): void;
}

/** The part of Electron's `app` a relaunch needs; main.ts passes `app` itself. */
export interface RelaunchableApp {
  relaunch(): void;
  exit(exitCode?: number): void;
}

export function appRelauncher(app: RelaunchableApp): Relauncher {
  return {
    relaunch() {
      app.relaunch();
      app.exit(0);
    },
  };
}

export const noRelaunch: Relauncher = { relaunch: () => undefined };
