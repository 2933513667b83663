import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers/backends';
import { CLI, runNode } from '../helpers/workstationSim';

test('the headless demo runs the whole loop on the embedded default and leaves a usable shared database', async () => {
  const dir = tempDir();
  const r = await runNode(CLI, ['demo', '--dir', dir, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const body = JSON.parse(r.stdout) as { steps: Array<{ workstation: string; result: string }> };
  assert.deepEqual(
    body.steps.map((s) => `${s.workstation}: ${s.result.split(' — ')[0]}`),
    [
      'admin-pc: ask-release',
      'admin-pc: proceed',
      'front-desk: proceed',
      'admin-pc: ask-release',
      'admin-pc: test-workstation',
      'front-desk: proceed',
      'admin-pc: released 1.1.0',
      'admin-pc: proceed',
      'front-desk: outdated',
      'front-desk: proceed',
      'admin-pc: ADMIN-PC 1.1.0 (regular), FRONT-DESK 1.1.0 (regular)',
    ],
  );
  const status = await runNode(CLI, ['status', '--json', '--config', path.join(dir, 'front-desk', 'lockstep.machine.json')]);
  assert.deepEqual(JSON.parse(status.stdout).decision, 'proceed');
  assert.ok(fs.existsSync(path.join(dir, 'shared.db')));
});
