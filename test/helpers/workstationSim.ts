/**
 * Simulated workstations: a folder with lockstep-version.json (the install folder) and a machine config pointing at
 * the shared database — the recipe the README documents. The CLI runs as a real child process.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { tempDir } from './backends';

export const CLI = path.resolve(__dirname, '../../../bin/lockstep.js');

export interface SimWorkstation {
  dir: string;
  configPath: string;
  setInstalled(version: string): void;
  installed(): string;
  cli(args: string[], options?: { stdin?: string; env?: NodeJS.ProcessEnv }): Promise<CliRun>;
  /** Runs the CLI with --json and parses stdout. */
  json<T = Record<string, unknown>>(args: string[]): Promise<{ code: number; body: T; stdout: string; stderr: string }>;
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export interface SimOptions {
  id: string;
  dbUrl: string;
  installed: string;
  admin?: boolean;
  hostName?: string;
  ring?: 'test' | 'regular';
  policy?: 'block' | 'warn';
  extra?: Record<string, unknown>;
}

export function runNode(script: string, args: string[], options: { stdin?: string; env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { env: options.env ?? process.env, cwd: options.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

export function simWorkstation(o: SimOptions): SimWorkstation {
  const dir = tempDir(`lockstep-ws-${o.id}-`);
  const installDir = path.join(dir, 'app');
  fs.mkdirSync(installDir);
  const configPath = path.join(dir, 'lockstep.machine.json');
  const userName = os.userInfo().username;
  const config = {
    installDir: 'app',
    database: { url: o.dbUrl, passwordFromKeychain: false },
    administrators: o.admin ? [userName] : [],
    outdatedPolicy: o.policy ?? 'block',
    workstation: { id: o.id, hostName: o.hostName ?? o.id, ring: o.ring ?? 'regular' },
    log: { dir: 'logs' },
    ...o.extra,
  };
  fs.writeFileSync(configPath, JSON.stringify(config, null, 2));
  const ws: SimWorkstation = {
    dir,
    configPath,
    setInstalled(version) {
      fs.writeFileSync(path.join(installDir, 'lockstep-version.json'), JSON.stringify({ version }));
    },
    installed() {
      return (JSON.parse(fs.readFileSync(path.join(installDir, 'lockstep-version.json'), 'utf8')) as { version: string }).version;
    },
    cli(args, options = {}) {
      return runNode(CLI, [...args, '--config', configPath], options);
    },
    async json<T>(args: string[]) {
      const r = await ws.cli([...args, '--json']);
      let body: T;
      try {
        body = JSON.parse(r.stdout) as T;
      } catch {
        throw new Error(`CLI did not print one JSON document (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
      }
      return { code: r.code, body, stdout: r.stdout, stderr: r.stderr };
    },
  };
  ws.setInstalled(o.installed);
  return ws;
}
