/**
 * `lockstep demo`: the main job where no display exists. Two simulated workstations share the embedded SQLite
 * database in ./.lockstep-dev (or --dir); every step of the start-up gate and the release ledger is printed.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MachineConfigSchema, MachineConfig } from '../../electron/engine/config';
import { writeVersionFile } from '../../electron/engine/installation';
import { MemoryLogger } from '../../electron/engine/log';
import { openWorkstation, Workstation } from '../../electron/engine/workstation';
import { Command, CommandContext } from '../command';
import { describeDecision } from '../describe';
import { userInfo } from 'node:os';

interface Step {
  step: string;
  workstation: string;
  result: string;
}

function simConfig(dir: string, id: string, admin: boolean): MachineConfig {
  const wsDir = path.join(dir, id);
  fs.mkdirSync(path.join(wsDir, 'app'), { recursive: true });
  const raw = {
    installDir: path.join(wsDir, 'app'),
    database: { url: `sqlite:${path.join(dir, 'shared.db')}` },
    administrators: admin ? [userInfo().username] : [],
    workstation: { id, hostName: id.toUpperCase() },
    log: { dir: path.join(wsDir, 'logs') },
  };
  const file = path.join(wsDir, 'lockstep.machine.json');
  fs.writeFileSync(file, JSON.stringify(raw, null, 2));
  return { ...MachineConfigSchema.parse(raw), sourceFile: file };
}

export const demo: Command = {
  name: 'demo',
  summary: 'run the whole loop headless on the embedded SQLite default with two simulated workstations',
  usage: 'lockstep demo [--dir DIR] [--json]',
  options: { dir: { type: 'string' } },
  async run(ctx: CommandContext) {
    const dir = path.resolve(String(ctx.values['dir'] ?? '.lockstep-dev'));
    fs.rmSync(path.join(dir, 'shared.db'), { force: true });
    fs.mkdirSync(dir, { recursive: true });
    const steps: Step[] = [];
    const say = (workstation: string, step: string, result: string) => {
      steps.push({ step, workstation, result });
      ctx.progress(`[${workstation}] ${step}: ${result}`);
    };
    const open = async (id: string, admin: boolean, version: string): Promise<Workstation> => {
      const config = simConfig(dir, id, admin);
      writeVersionFile(config.installDir, version);
      return openWorkstation(config, { secrets: ctx.secrets, defaultLogDir: path.join(dir, 'logs'), migrate: true, logger: new MemoryLogger() });
    };

    let a = await open('admin-pc', true, '1.0.0');
    let b = await open('front-desk', false, '1.0.0');
    try {
      say('admin-pc', 'start (new site, nothing released yet)', describeDecision((await a.gate.run()).decision));
      say('admin-pc', 'answer "release for all workstations?" with Yes', describeDecision((await a.gate.answer('yes')).decision));
      say('front-desk', 'start', describeDecision((await b.gate.run()).decision));

      await a.close();
      a = await open('admin-pc', true, '1.1.0'); // what Extras → Update… installs
      say('admin-pc', 'start after installing 1.1.0 through Extras → Update…', describeDecision((await a.gate.run()).decision));
      say('admin-pc', 'answer No (a test installation)', describeDecision((await a.gate.answer('no')).decision));
      say('front-desk', 'start', describeDecision((await b.gate.run()).decision));

      say('admin-pc', 'release 1.1.0 for all after testing', `released ${(await a.ledger.release('1.1.0')).version}`);
      say('admin-pc', 'start', describeDecision((await a.gate.run()).decision));
      say('front-desk', 'start', describeDecision((await b.gate.run()).decision));

      await b.close();
      b = await open('front-desk', false, '1.1.0');
      say('front-desk', 'start after its upgrade to 1.1.0', describeDecision((await b.gate.run()).decision));
      const registry = await a.fleet.workstations.list();
      say('admin-pc', 'workstation registry', registry.map((w) => `${w.hostName} ${w.installedVersion} (${w.ring})`).join(', '));
    } finally {
      await a.close();
      await b.close();
    }
    return {
      json: { dir, steps },
      text: `Demo finished. Shared database: ${path.join(dir, 'shared.db')} — try: node bin/lockstep.js status --config ${path.join(dir, 'admin-pc', 'lockstep.machine.json')}`,
    };
  },
};
