/** The per-user log folder of each platform, for a host that names none (the CLI and the Electron API use their own). */
import * as os from 'node:os';
import * as path from 'node:path';

export function platformLogDir(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): string {
  if (platform === 'win32') return path.join(env['LOCALAPPDATA'] ?? path.join(os.homedir(), 'AppData', 'Local'), 'Lockstep', 'logs');
  if (platform === 'darwin') return path.join(os.homedir(), 'Library', 'Logs', 'Lockstep');
  return path.join(env['XDG_STATE_HOME'] ?? path.join(os.homedir(), '.local', 'state'), 'lockstep', 'logs');
}
