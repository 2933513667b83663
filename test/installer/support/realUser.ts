/**
 * A real unprivileged user for the elevation tests: created with useradd, a random password set through chpasswd on
 * standard input, a sudoers entry (validated with visudo -c) that allows exactly the privileged helper, removed again
 * afterwards. The updater then runs as that user through runuser.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PRIVILEGED_FLAG } from '../../../installer/elevation/win32';
import { HELPER_SCRIPT } from '../../../installer/platform';
import { sudoersRule } from '../../../installer/privilegedApply';

export const CLI = path.resolve(__dirname, '../../../../bin/lockstep.js');

export interface RealUser {
  name: string;
  uid: number;
  password: string;
  sudoersFile: string;
  remove(): void;
}

/** Root, on Linux, with the tools the suite needs: otherwise the suite cannot run here (run-tests.js names it). */
export function canRunRealUserSuite(): boolean {
  if (process.platform !== 'linux' || process.getuid?.() !== 0) return false;
  return ['useradd', 'chpasswd', 'visudo', 'runuser', 'sudo', 'strace'].every((c) => {
    try {
      execFileSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  });
}

/** `recoverWithoutPassword`: the rule lets the helper's --recover run without a password (sudoersRule's option). */
export function createUser(options: { recoverWithoutPassword?: boolean } = {}): RealUser {
  const name = `lsu${randomBytes(4).toString('hex')}`;
  const password = `pw-${randomBytes(12).toString('hex')}`;
  execFileSync('useradd', ['--no-create-home', '--shell', '/bin/sh', '--home-dir', '/nonexistent', name]);
  execFileSync('chpasswd', [], { input: `${name}:${password}\n` });
  const uid = Number(execFileSync('id', ['-u', name]).toString().trim());
  const sudoersFile = `/etc/sudoers.d/lockstep-test-${name}`;
  // Exactly the helper in its one shape (the README's rule, from the same function).
  const rule = `${sudoersRule(name, process.execPath, HELPER_SCRIPT, options)}\n`;
  const tmp = `${sudoersFile}.tmp`;
  fs.writeFileSync(tmp, rule, { mode: 0o440 });
  execFileSync('visudo', ['-c', '-q', '-f', tmp]);
  fs.renameSync(tmp, sudoersFile);
  execFileSync('visudo', ['-c', '-q']);
  return {
    name,
    uid,
    password,
    sudoersFile,
    remove() {
      fs.rmSync(sudoersFile, { force: true });
      try {
        execFileSync('userdel', ['--force', name], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    },
  };
}

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
  json: Record<string, unknown> & { error?: { code: string; message: string } };
}

/** Runs the lockstep CLI as `user` (runuser), with `stdin` piped; onSpawn sees the child while it runs. */
export function runAs(user: RealUser, args: string[], stdin = '', onRunning?: (pid: number) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn('runuser', ['-u', user.name, '--', process.execPath, CLI, ...args, '--json'], {
      env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C', HOME: '/nonexistent' },
      cwd: '/',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      let json: Run['json'] = {};
      try {
        json = JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
      } catch {
        json = { error: { code: 'UNPARSEABLE', message: stdout + stderr } };
      }
      resolve({ code: code ?? -1, stdout, stderr, json });
    });
    child.stdin.end(stdin);
    if (onRunning && child.pid) onRunning(child.pid);
  });
}

/**
 * The privileged helper run directly by `user` through sudo (what the sudoers rule allows), bypassing the CLI: `args`
 * follow the fixed first argument.
 */
export function sudoHelper(user: RealUser, args: string[], password: string, timeoutMs?: number): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('runuser', ['-u', user.name, '--', 'sudo', '-S', '-k', '-p', '', '--', process.execPath, HELPER_SCRIPT, PRIVILEGED_FLAG, ...args], { env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C' } });
    let stdout = '';
    let stderr = '';
    // A helper that hangs is ended by process id: every descendant of this runuser, then runuser itself.
    const timer = timeoutMs === undefined ? null : setTimeout(() => killTree(child.pid!), timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(password + '\n');
  });
}

function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const ppid = Number(fs.readFileSync(`/proc/${name}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(name)]);
    } catch {
      // gone meanwhile
    }
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length) {
    for (const c of parents.get(queue.shift()!) ?? []) {
      found.push(c);
      queue.push(c);
    }
  }
  return found;
}

/** Ends `pid` and everything it started, by process id (runuser does not pass a SIGKILL on to its child). */
export function killTree(pid: number): void {
  for (const p of [...descendants(pid).reverse(), pid]) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      // already ended
    }
  }
}

/** The helper's one result line (LOCKSTEP-RESULT {json}). */
export function helperResult(stdout: string): { error?: { code: string; message: string }; [k: string]: unknown } {
  const line = stdout.split('\n').find((l) => l.startsWith('LOCKSTEP-RESULT '));
  return line ? JSON.parse(line.slice('LOCKSTEP-RESULT '.length)) : { error: { code: 'NO-RESULT', message: stdout } };
}
