/**
 * An administrator's process releasing the customer list's 2.0 (migrations to level 3) for all workstations.
 * Argument: one JSON object {url, workstation, version, dir, leaseMs, waitMs, block}. Every migration step it runs
 * appends its name to dir/runs; with `block`, the level-3 step first writes dir/started and then waits for dir/go
 * (so a test can kill it mid-migration, inside the release transaction). Log lines go to dir/log-<workstation>.
 * Prints one JSON line: {ok, code?, migrations?}.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { toLockstepError } from '../../contract/errors';
import { openDatabase } from '../../db/connection';
import { FleetStore } from '../../db/fleetStore';
import { parseDbUrl } from '../../kernel/dbUrl';
import { Logger } from '../../kernel/log';
import { ALL_STEPS, schemaEngine, sourceOf } from './clientSchema';
import { identity } from './actors';

interface Args { url: string; workstation: string; version: string; dir: string; leaseMs: number; waitMs: number; block: boolean }

function fileLogger(file: string): Logger {
  const line = (level: string) => (event: string, fields: Record<string, unknown> = {}) => fs.appendFileSync(file, JSON.stringify({ level, event, ...fields }) + '\n');
  return { log: (level, event, fields) => line(level)(event, fields), info: line('info'), warn: line('warn'), error: line('error') };
}

async function waitForFile(file: string): Promise<void> {
  for (let i = 0; i < 1200 && !fs.existsSync(file); i++) await new Promise((r) => setTimeout(r, 50));
  if (!fs.existsSync(file)) throw new Error(`${file} never appeared`);
}

async function main(): Promise<void> {
  const a = JSON.parse(process.argv[2]!) as Args;
  const db = await openDatabase(parseDbUrl(a.url));
  const source = sourceOf(ALL_STEPS, async (step) => {
    fs.appendFileSync(path.join(a.dir, 'runs'), `${a.workstation} ${step.name}\n`);
    if (a.block && step.level === 3) {
      fs.writeFileSync(path.join(a.dir, 'started'), String(process.pid));
      await waitForFile(path.join(a.dir, 'go'));
    }
  });
  const log = fileLogger(path.join(a.dir, `log-${a.workstation}`));
  const engine = schemaEngine(new FleetStore(db), identity(a.workstation), a.version, { source, settings: { leaseMs: a.leaseMs, waitMs: a.waitMs }, log });
  try {
    const r = await engine.ledger.release(a.version);
    process.stdout.write(JSON.stringify({ ok: true, migrations: r.schemaMove?.migrations ?? [] }) + '\n');
  } catch (err) {
    const e = toLockstepError(err);
    process.stdout.write(JSON.stringify({ ok: false, code: e.code, message: e.message }) + '\n');
  } finally {
    await db.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(String((err as Error).stack ?? err) + '\n');
  process.exit(1);
});
