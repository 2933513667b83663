/** Per-platform default folders for the CLI (the Electron app uses app.getPath instead). Chosen once, here. */
import * as os from 'node:os';
import * as path from 'node:path';

export function defaultLogDir(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): string {
  if (platform === 'win32') return path.join(env['LOCALAPPDATA'] ?? path.join(os.homedir(), 'AppData', 'Local'), 'Lockstep', 'logs');
  if (platform === 'darwin') return path.join(os.homedir(), 'Library', 'Logs', 'Lockstep');
  return path.join(env['XDG_STATE_HOME'] ?? path.join(os.homedir(), '.local', 'state'), 'lockstep', 'logs');
}

export const DEFAULT_CONFIG_FILE = 'lockstep.machine.json';
