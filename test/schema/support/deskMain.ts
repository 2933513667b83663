/**
 * Child-process entry: the example client at a desk, running — composed as lockstep/electron's start() composes it
 * (composeShell → LockstepHost, only windows and relaunch recorded) with the example's own data layer
 * (CustomerStore, compiled from examples/customer-list) on top. `node deskMain.js CONFIG CUSTOMERS_JS` prints
 * {"started":action} and then answers one JSON command per stdin line: list, add, access (the data layer's
 * noteDatabaseAccess), quit. Lockstep's `outdated` events are printed as they come. After `quit` it closes Lockstep
 * and must then end by itself: a handle Lockstep left open would keep it running (the test waits for the exit).
 */
import * as path from 'node:path';
import * as readline from 'node:readline';
import { toLockstepError } from '../../../contract/errors';
import { loadMachineConfig } from '../../../kernel/config';
import { MemoryLogger } from '../../../kernel/log';
import type { SecretStore } from '../../../engine/secrets';
import { composeShell } from '../../../electron/shell/compose';
import { LockstepHost } from '../../../electron/shell/host';

const noSecrets: SecretStore = { get: async () => null, set: async () => undefined, delete: async () => false };

interface Store {
  ensureTable(): Promise<void>;
  list(): Promise<unknown[]>;
  add(c: { name: unknown; city?: unknown; email?: unknown }): Promise<unknown>;
}

function say(o: unknown): void {
  process.stdout.write(JSON.stringify(o) + '\n');
}

async function main(): Promise<void> {
  const [configFile, customersJs] = process.argv.slice(2);
  const config = loadMachineConfig(configFile!);
  const shell = await composeShell({
    config,
    host: { platform: 'linux', defaultLogDir: path.join(path.dirname(configFile!), 'logs'), secrets: noSecrets },
    settingsFile: path.join(path.dirname(configFile!), 'settings.json'),
    systemLocale: 'en',
    product: 'Customer List',
    relaunch: () => say({ relaunch: true }),
    senders: { origin: 'http://127.0.0.1:9' },
    logger: new MemoryLogger(),
  });
  // Lockstep's windows "show" at once: the outdated notice's onReady confirms the start as a real window's would.
  const host = new LockstepHost(shell, { show: (_kind, o) => o?.onReady?.(), close: () => undefined });
  host.on('outdated', (e) => say({ outdated: { block: e.block, decision: e.decision } }));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { CustomerStore } = require(customersJs!) as { CustomerStore: new (l: LockstepHost) => Store };
  const store = new CustomerStore(host);
  const action = await host.start();
  if (action.type === 'go-on') {
    // What the example's openMain() does: its table, then the main window, whose ready-to-show confirms the start.
    await store.ensureTable();
    host.confirmHealthy();
  }
  say({ started: action, gate: shell.session.snapshot().gate });
  const lines = readline.createInterface({ input: process.stdin });
  for await (const line of lines) {
    const cmd = JSON.parse(line) as { op: 'list' | 'add' | 'access' | 'ensure' | 'quit'; customer?: { name: string; city?: string; email?: string } };
    if (cmd.op === 'quit') break;
    try {
      const result = cmd.op === 'list' ? await store.list() : cmd.op === 'add' ? await store.add(cmd.customer!) : cmd.op === 'ensure' ? await store.ensureTable() : await host.noteDatabaseAccess();
      say({ ok: true, result: result ?? null, mayUseDatabase: host.mayUseDatabase() });
    } catch (err) {
      say({ ok: false, error: toLockstepError(err).toInfo(), mayUseDatabase: host.mayUseDatabase() });
    }
  }
  // Leaving the loop closes the line reader but not standard input, whose pipe the test keeps open: let it go, so
  // the process ends once Lockstep has closed everything it opened.
  process.stdin.destroy();
  await host.close();
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
