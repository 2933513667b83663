/**
 * Linux elevation: pkexec where a polkit agent runs (the desktop asks); otherwise Lockstep's own credentials dialog
 * feeding `sudo -S -k` through standard input (the account is the current user) or `su <account>` through a
 * pseudo-terminal made by util-linux `script` (another account: su reads the password from a terminal only).
 * The password is never on a command line, in the environment, a log or a file, and is zeroed after use.
 */
import * as fs from 'node:fs';
import { LockstepError } from '../../contract/errors';
import { Spawner, SpawnResult } from '../spawn';
import { CredentialsPrompt, Elevator, PrivilegedCommand, shQuote, wipe } from './types';

export type LinuxMethod = 'pkexec' | 'sudo' | 'su';

/** The sudo prompt Lockstep sets, so it can tell sudo's prompt from the command's output. */
export const SUDO_PROMPT = '[lockstep-elevation] ';

export interface LinuxFacts {
  hasCommand(name: string): Promise<boolean>;
  /** A polkit authentication agent is registered in this session (a graphical desktop). */
  polkitAgentRunning(): boolean;
  currentUser: string;
}

const AGENTS = /polkit-(gnome|kde|mate)-authentication-agent|lxpolkit|xfce-polkit|polkit-agent-helper|gnome-shell|lxqt-policykit|pkttyagent/;

/** Looks for a known polkit agent among this user's processes. */
export function polkitAgentRunning(uid = process.getuid?.() ?? -1): boolean {
  for (const pid of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (fs.statSync(`/proc/${pid}`).uid !== uid) continue;
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
      if (AGENTS.test(cmd)) return true;
    } catch {
      // processes come and go while we look
    }
  }
  return false;
}

export async function chooseLinuxMethod(setting: 'auto' | LinuxMethod, facts: LinuxFacts): Promise<'pkexec' | 'credentials'> {
  if (setting === 'pkexec') return 'pkexec';
  if (setting === 'sudo' || setting === 'su') return 'credentials';
  return (await facts.hasCommand('pkexec')) && facts.polkitAgentRunning() ? 'pkexec' : 'credentials';
}

function envPrefix(cmd: PrivilegedCommand): string[] {
  return Object.entries(cmd.env ?? {}).map(([k, v]) => `${k}=${v}`);
}

export function pkexecInvocation(cmd: PrivilegedCommand): { command: string; args: string[] } {
  const env = envPrefix(cmd);
  return { command: 'pkexec', args: env.length ? ['env', ...env, cmd.command, ...cmd.args] : [cmd.command, ...cmd.args] };
}

/** `-k`: never reuse a cached sudo ticket, the password typed now decides. `-S`: read it from standard input. */
export function sudoInvocation(cmd: PrivilegedCommand): { command: string; args: string[] } {
  const env = envPrefix(cmd);
  return { command: 'sudo', args: ['-S', '-k', '-p', SUDO_PROMPT, '--', ...(env.length ? ['env', ...env] : []), cmd.command, ...cmd.args] };
}

/** `-n`: never prompt; sudo runs the command only when the rule needs no password for it, else fails at once. */
export function sudoWithoutPromptInvocation(cmd: PrivilegedCommand): { command: string; args: string[] } {
  const env = envPrefix(cmd);
  return { command: 'sudo', args: ['-n', '--', ...(env.length ? ['env', ...env] : []), cmd.command, ...cmd.args] };
}

/** `script` gives su the terminal it insists on; for an account other than root, su runs sudo as that account. */
export function suInvocation(cmd: PrivilegedCommand, account: string): { command: string; args: string[] } {
  const inner = account === 'root' ? [...envPrefixArgs(cmd), cmd.command, ...cmd.args] : ['sudo', '-S', '-k', '-p', SUDO_PROMPT, '--', ...envPrefixArgs(cmd), cmd.command, ...cmd.args];
  const line = `su ${shQuote(account)} -c ${shQuote(inner.map(shQuote).join(' '))}`;
  return { command: 'script', args: ['-qec', line, '/dev/null'] };
}

function envPrefixArgs(cmd: PrivilegedCommand): string[] {
  const env = envPrefix(cmd);
  return env.length ? ['env', ...env] : [];
}

const DENIED = /incorrect password|Sorry, try again|no password was provided|Authentication failure|is not in the sudoers|not allowed to execute|a password is required|Not authorized|Request dismissed/i;

export function looksDenied(method: 'pkexec' | 'sudo' | 'su', r: SpawnResult): boolean {
  if (method === 'pkexec' && (r.code === 126 || r.code === 127)) return true;
  return DENIED.test(r.stderr) || (method === 'su' && DENIED.test(r.stdout));
}

export class LinuxElevator implements Elevator {
  method = 'linux';

  constructor(
    private readonly spawner: Spawner,
    private readonly facts: LinuxFacts,
    private readonly setting: 'auto' | LinuxMethod,
    private readonly prompt: CredentialsPrompt,
  ) {}

  /**
   * sudo without a prompt: what a rule tagged NOPASSWD for exactly this command allows (sudoersRule's
   * recoverWithoutPassword for the helper's `--recover`). No credentials exist on this path, so none can leak.
   */
  async runWithoutPrompt(cmd: PrivilegedCommand): Promise<SpawnResult | null> {
    if (!(await this.facts.hasCommand('sudo'))) return null;
    const r = await this.spawner(sudoWithoutPromptInvocation(cmd));
    if (looksDenied('sudo', r)) return null;
    this.method = 'sudo-n';
    return r;
  }

  async run(cmd: PrivilegedCommand): Promise<SpawnResult> {
    if ((await chooseLinuxMethod(this.setting, this.facts)) === 'pkexec') {
      this.method = 'pkexec';
      const r = await this.spawner(pkexecInvocation(cmd));
      if (looksDenied('pkexec', r)) throw denied('pkexec');
      return r;
    }
    const creds = await this.prompt({ account: this.setting === 'su' ? 'root' : this.facts.currentUser, reason: 'install an update' });
    if (!creds) throw new LockstepError('E_ELEVATION_DENIED', 'The credentials dialog was cancelled: the update was not installed.');
    const useSu = this.setting === 'su' || creds.account !== this.facts.currentUser;
    this.method = useSu ? 'su' : 'sudo';
    const line = Buffer.concat([creds.password, Buffer.from('\n')]);
    try {
      let r: SpawnResult;
      if (!useSu) {
        r = await this.spawner({ ...sudoInvocation(cmd), stdin: line });
      } else {
        let answered = 0;
        r = await this.spawner({
          ...suInvocation(cmd, creds.account),
          // Answer su's prompt once, and sudo's (behind su) once; never twice the same prompt (a wrong password
          // would otherwise be retried).
          respond: (out) => {
            const prompts = (out.match(/assword[^:\n]*:|mot de passe|Passwort/gi) ?? []).length + out.split(SUDO_PROMPT).length - 1;
            if (prompts > answered) {
              answered = prompts;
              return line;
            }
            return null;
          },
        });
      }
      if (looksDenied(this.method as 'sudo' | 'su', r)) throw denied(this.method);
      return r;
    } finally {
      wipe(line, creds.password);
    }
  }
}

function denied(method: string): LockstepError {
  return new LockstepError('E_ELEVATION_DENIED', `Elevation through ${method} was refused (wrong password, or the account has no rights to install). The install folder was not changed.`, { method });
}
