/**
 * One start of a workstation process: the start-up gate against the shared database. Prints the decision as one JSON
 * line the moment it is made; with "kill-after-decision" the process then kills itself (SIGKILL, no clean-up) before
 * the heartbeat is written, as a crash or a power cut right after the decision would; otherwise it waits for the
 * heartbeat and closes the database as a normal exit does.
 * Arguments: database URL, workstation id, installed version, OS user, mode (kill-after-decision | normal).
 */
import * as fs from 'node:fs';
import { openDatabase } from '../../db/connection';
import { FleetStore } from '../../db/fleetStore';
import { parseDbUrl } from '../../kernel/dbUrl';
import { FixedVersionSource } from '../../kernel/installation';
import { Ledger } from '../../engine/ledger';
import { LogLevel, Logger } from '../../kernel/log';
import { StartupGate } from '../../engine/startupGate';
import { parseVersion } from '../../kernel/version';

const [url, workstationId, installed, osUser, mode] = process.argv.slice(2) as [string, string, string, string, string];

class DecisionLogger implements Logger {
  log(_level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
    if (event !== 'gate.decision') return;
    fs.writeSync(1, JSON.stringify(fields) + '\n');
    if (mode === 'kill-after-decision') process.kill(process.pid, 'SIGKILL');
  }
  info(event: string, fields?: Record<string, unknown>): void {
    this.log('info', event, fields);
  }
  warn(event: string, fields?: Record<string, unknown>): void {
    this.log('warn', event, fields);
  }
  error(event: string, fields?: Record<string, unknown>): void {
    this.log('error', event, fields);
  }
}

async function main(): Promise<void> {
  const db = await openDatabase(parseDbUrl(url));
  const fleet = new FleetStore(db);
  const who = { workstationId, hostName: workstationId.toUpperCase(), osUser, isAdmin: false };
  const log = new DecisionLogger();
  const gate = new StartupGate(fleet, who, new FixedVersionSource(parseVersion(installed)), new Ledger(fleet, who, log, { channel: 'stable' }), log, { channel: 'stable', policy: 'block', ring: 'regular' });
  await gate.run();
  await gate.settled();
  await db.close();
}

main().catch((err: unknown) => {
  process.stderr.write(String((err as Error).stack ?? err) + '\n');
  process.exit(1);
});
