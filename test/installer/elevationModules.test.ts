/**
 * The elevation modules with injected spawning: argument building and decision logic. Windows UAC and the macOS
 * authorization prompt cannot run here, so this is all they get on these machines; the Linux sudo path also runs for
 * real in elevatedInstall.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { DarwinElevator, appleScriptString, osascriptInvocation, shellLine } from '../../installer/elevation/darwin';
import { LinuxElevator, SUDO_PROMPT, chooseLinuxMethod, pkexecInvocation, suInvocation, sudoInvocation } from '../../installer/elevation/linux';
import { Credentials } from '../../installer/elevation/types';
import { ERROR_CANCELLED, PRIVILEGED_FLAG, WindowsElevator, uacInvocation } from '../../installer/elevation/win32';
import { dpkgArguments, nsisArguments } from '../../installer/runners';
import { SpawnRequest, SpawnResult, Spawner } from '../../installer/spawn';

function recorder(result: Partial<SpawnResult> = {}): { spawner: Spawner; calls: SpawnRequest[]; stdinSeen: string[] } {
  const calls: SpawnRequest[] = [];
  const stdinSeen: string[] = [];
  return {
    calls,
    stdinSeen,
    spawner: async (req) => {
      calls.push(req);
      if (req.stdin) stdinSeen.push(req.stdin.toString());
      return { code: 0, signal: null, stdout: '', stderr: '', ...result };
    },
  };
}

const helper = { command: '/usr/bin/node', args: ['/opt/app/build/installer/privilegedApply.js', PRIVILEGED_FLAG, '--request', "/tmp/it's/request.json"] };

describe('Windows (UAC through electron-updater\'s elevate.exe)', () => {
  const app = { resourcesPath: 'C:\\Program Files\\Client\\resources', execPath: 'C:\\Program Files\\Client\\Client.exe' };

  test('runs the app itself elevated with the privileged flag, waiting for it', async () => {
    const rec = recorder();
    await new WindowsElevator(rec.spawner, app).run(helper);
    assert.deepEqual(rec.calls.map((c) => ({ command: c.command, args: c.args })), [
      { command: 'C:\\Program Files\\Client\\resources\\elevate.exe', args: ['-wait', app.execPath, PRIVILEGED_FLAG, ...helper.args] },
    ]);
    assert.deepEqual(uacInvocation(app, ['--recover']).args, ['-wait', app.execPath, PRIVILEGED_FLAG, '--recover']);
  });

  test('a cancelled UAC prompt is E_ELEVATION_DENIED; another failure is returned for the journal to explain', async () => {
    await assert.rejects(new WindowsElevator(recorder({ code: ERROR_CANCELLED }).spawner, app).run(helper), { code: 'E_ELEVATION_DENIED' });
    const other = await new WindowsElevator(recorder({ code: 2, stderr: 'boom' }).spawner, app).run(helper);
    assert.equal(other.code, 2);
  });

  test('the NSIS installer gets electron-updater\'s update arguments, /D= last', () => {
    assert.deepEqual(nsisArguments('C:\\Program Files\\Client'), ['--updated', '/S', '/D=C:\\Program Files\\Client']);
    assert.deepEqual(nsisArguments('C:\\X', { forceRunAfter: true }), ['--updated', '/S', '--force-run', '/D=C:\\X']);
  });
});

describe('macOS (system authorization prompt through osascript)', () => {
  test('one do-shell-script line with every argument quoted for the shell and for AppleScript', async () => {
    const rec = recorder();
    await new DarwinElevator(rec.spawner, 'Install "it"').run(helper);
    const call = rec.calls[0]!;
    assert.equal(call.command, '/usr/bin/osascript');
    assert.equal(call.args[0], '-e');
    const line = shellLine(helper);
    assert.equal(line, `'/usr/bin/node' '/opt/app/build/installer/privilegedApply.js' '--lockstep-privileged-apply' '--request' '/tmp/it'\\''s/request.json'`);
    assert.equal(call.args[1], `do shell script ${appleScriptString(line)} with prompt "Install \\"it\\"" with administrator privileges`);
    // The shell line really is one safe command: sh parses it back into the same arguments.
    const parsed = execFileSync('sh', ['-c', `set -- ${line}; printf '%s\\n' "$@"`]).toString().trim().split('\n');
    assert.deepEqual(parsed, [helper.command, ...helper.args]);
    assert.deepEqual(osascriptInvocation(helper, 'p').args.length, 2);
  });

  test('a dismissed prompt (-128) is E_ELEVATION_DENIED', async () => {
    await assert.rejects(new DarwinElevator(recorder({ code: 1, stderr: 'execution error: User canceled. (-128)' }).spawner).run(helper), { code: 'E_ELEVATION_DENIED' });
  });
});

describe('Linux decision and arguments', () => {
  const facts = (pkexec: boolean, agent: boolean) => ({ hasCommand: async (n: string) => n === 'pkexec' && pkexec, polkitAgentRunning: () => agent, currentUser: 'anna' });

  test('pkexec only where it exists and a polkit agent runs; otherwise the credentials dialog', async () => {
    assert.equal(await chooseLinuxMethod('auto', facts(true, true)), 'pkexec');
    assert.equal(await chooseLinuxMethod('auto', facts(true, false)), 'credentials');
    assert.equal(await chooseLinuxMethod('auto', facts(false, true)), 'credentials');
    assert.equal(await chooseLinuxMethod('sudo', facts(true, true)), 'credentials');
    assert.equal(await chooseLinuxMethod('pkexec', facts(false, false)), 'pkexec');
  });

  test('argument vectors: the password appears in none of them', () => {
    assert.deepEqual(sudoInvocation(helper), { command: 'sudo', args: ['-S', '-k', '-p', SUDO_PROMPT, '--', helper.command, ...helper.args] });
    assert.deepEqual(pkexecInvocation(helper), { command: 'pkexec', args: [helper.command, ...helper.args] });
    const su = suInvocation(helper, 'admin');
    assert.equal(su.command, 'script');
    assert.equal(su.args[0], '-qec');
    assert.match(su.args[1]!, /^su 'admin' -c '.*sudo.*-S.*-k/);
  });

  test('sudo path: the password goes to standard input only, and the buffer is zeroed afterwards', async () => {
    const rec = recorder();
    const password = Buffer.from('s3cret pass');
    let given: Credentials | null = null;
    const elevator = new LinuxElevator(rec.spawner, facts(false, false), 'auto', async ({ account }) => (given = { account, password }));
    await elevator.run(helper);
    assert.equal(elevator.method, 'sudo');
    assert.deepEqual(rec.stdinSeen, ['s3cret pass\n']);
    assert.ok(rec.calls.every((c) => !c.args.join(' ').includes('s3cret') && !JSON.stringify(c.env ?? {}).includes('s3cret')));
    assert.ok(given && password.every((b) => b === 0), 'the password buffer was wiped');
  });

  test('su path for another account: answers each prompt once through the pseudo-terminal', async () => {
    const answers: string[] = [];
    const spawner: Spawner = async (req) => {
      let out = 'Password: ';
      const first = req.respond!(out);
      if (first) answers.push(first.toString());
      assert.equal(req.respond!(out), null, 'the same prompt is not answered twice');
      out += `\n${SUDO_PROMPT}`;
      const second = req.respond!(out);
      if (second) answers.push(second.toString());
      return { code: 0, signal: null, stdout: out, stderr: '' };
    };
    const elevator = new LinuxElevator(spawner, facts(false, false), 'auto', async () => ({ account: 'admin', password: Buffer.from('pw') }));
    await elevator.run(helper);
    assert.equal(elevator.method, 'su');
    assert.deepEqual(answers, ['pw\n', 'pw\n']);
  });

  test('refusals map to E_ELEVATION_DENIED: a cancelled dialog, a wrong password, pkexec dismissed', async () => {
    await assert.rejects(new LinuxElevator(recorder().spawner, facts(false, false), 'auto', async () => null).run(helper), { code: 'E_ELEVATION_DENIED' });
    const wrong = recorder({ code: 1, stderr: `${SUDO_PROMPT}Sorry, try again.\nsudo: 1 incorrect password attempt` });
    await assert.rejects(new LinuxElevator(wrong.spawner, facts(false, false), 'auto', async () => ({ account: 'anna', password: Buffer.from('x') })).run(helper), { code: 'E_ELEVATION_DENIED' });
    await assert.rejects(new LinuxElevator(recorder({ code: 126 }).spawner, facts(true, true), 'auto', async () => null).run(helper), { code: 'E_ELEVATION_DENIED' });
  });

  test('dpkg installs the sealed .deb', () => {
    assert.deepEqual(dpkgArguments('/var/x/package.deb'), ['-i', '/var/x/package.deb']);
  });
});
