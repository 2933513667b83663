/**
 * Process spawning, injected into every module that starts a process (elevation, installers), so the Windows and
 * macOS paths run under plain Node tests with a recorded fake while Linux runs the real thing.
 */
import { spawn } from 'node:child_process';

export interface SpawnRequest {
  command: string;
  args: readonly string[];
  /** Written to standard input once, then stdin is closed (a password for `sudo -S`). */
  stdin?: Buffer;
  /**
   * Answers prompts: called with all output so far; a Buffer it returns is written to stdin once per call that
   * returns one (a password for `su` behind a pseudo-terminal, written only after the prompt appeared).
   */
  respond?: (outputSoFar: string) => Buffer | null;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface SpawnResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export type Spawner = (request: SpawnRequest) => Promise<SpawnResult>;

/** The real spawner: no shell, arguments passed as an array. */
export const nodeSpawner: Spawner = (req) =>
  new Promise((resolve, reject) => {
    const child = spawn(req.command, [...req.args], { env: req.env ?? process.env, cwd: req.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const onOutput = (): void => {
      if (!req.respond) return;
      const answer = req.respond(stdout + stderr);
      if (answer) child.stdin.write(answer);
    };
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
      onOutput();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
      onOutput();
    });
    child.stdin.on('error', () => undefined); // the child may exit before reading stdin (e.g. a refused elevation)
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    if (req.stdin) child.stdin.end(req.stdin);
    else if (!req.respond) child.stdin.end();
  });

/** True when `name` is an executable on PATH (decides between pkexec and the credentials dialog). */
export async function hasCommand(spawner: Spawner, name: string): Promise<boolean> {
  try {
    const r = await spawner({ command: 'sh', args: ['-c', 'command -v "$0"', name] });
    return r.code === 0;
  } catch {
    return false;
  }
}
