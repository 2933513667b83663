import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { RotatingFileLogger } from '../../kernel/log';
import { tempDir } from '../helpers/backends';

test('the update log rotates by size, keeps N files and never writes secrets', () => {
  const dir = tempDir();
  const file = path.join(dir, 'lockstep.log');
  const log = new RotatingFileLogger(file, 16 * 1024, 3);
  for (let i = 0; i < 600; i++) log.info('step', { i, password: 'hunter2', nested: { dbPassword: 'hunter2', ok: true }, pad: 'x'.repeat(100) });
  const files = fs.readdirSync(dir).sort();
  assert.deepEqual(files, ['lockstep.log', 'lockstep.log.1', 'lockstep.log.2', 'lockstep.log.3']);
  let lines = 0;
  for (const f of files) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    assert.ok(fs.statSync(path.join(dir, f)).size <= 16 * 1024);
    assert.ok(!text.includes('hunter2'));
    for (const line of text.trim().split('\n')) {
      const entry = JSON.parse(line) as { event: string; password: string; nested: { dbPassword: string; ok: boolean } };
      assert.deepEqual([entry.event, entry.password, entry.nested], ['step', '[redacted]', { dbPassword: '[redacted]', ok: true }]);
      lines++;
    }
  }
  // The newest entries survive: the last one written is the last line of the current file.
  const last = fs.readFileSync(file, 'utf8').trim().split('\n').at(-1)!;
  assert.equal((JSON.parse(last) as { i: number }).i, 599);
  assert.ok(lines > 100 && lines < 600, `${lines} lines kept`);
});
