/**
 * The separate download (S7): scheduled with fake timers in-process; and a half-done scheduled download that survives
 * a restart — the CLI process is killed mid-transfer, a new one continues with a Range request, bytes match.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { describe, mock, test } from 'node:test';
import { UpdateState } from '../../contract/update';
import { partialDir } from '../../engine/feed/download';
import { ScheduleStore, parseStartTime } from '../../engine/schedule';
import { demoModuleBytes, demoModuleName } from '../../authoring/demo';
import { CLI, runNode } from '../helpers/workstationSim';
import { faults } from './feedServer';
import { feedFixture, linuxInstaller } from './fixture';

function waitFor(service: { onState(l: (s: UpdateState) => void): () => void }, type: UpdateState['type']): Promise<UpdateState> {
  return new Promise((resolve) => {
    const off = service.onState((s) => {
      if (s.type === type || s.type === 'failed') {
        off();
        resolve(s);
      }
    });
  });
}

describe('separate download (S7)', () => {
  test('runs at the chosen time (fake timers), survives a restart of the service, then offers install', async () => {
    const fx = await feedFixture();
    try {
      const service = await fx.service();
      await service.check();
      mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.parse('2030-01-01T12:00:00Z') });
      try {
        const at = new Date('2030-01-02T02:00:00Z');
        const record = service.scheduleDownload('2.0.0', at);
        assert.deepEqual([record.version, record.at, record.state, record.steps.map((s) => s.version)], ['2.0.0', at.toISOString(), 'pending', ['1.1.0', '2.0.0']]);
        assert.deepEqual(service.getState(), UpdateState.scheduled('2.0.0', at.toISOString()));

        // The app restarts before the time: a new service picks the schedule up from the cache folder.
        service.scheduler.disarm();
        const restarted = await fx.service();
        restarted.resume();
        assert.equal(restarted.getState().type, 'scheduled');
        mock.timers.tick(14 * 3600_000 - 1);
        assert.equal(fx.server.log.filter((r) => r.name.endsWith('.AppImage')).length, 0, 'nothing before 02:00');
        const done = waitFor(restarted, 'downloaded');
        mock.timers.tick(1);
        mock.timers.reset(); // the transfer itself runs on real time
        const final = await done;
        assert.equal(final.type, 'downloaded');
        assert.ok(final.type === 'downloaded' && final.steps.map((s) => s.version).join() === '1.1.0,2.0.0');
        assert.deepEqual(fs.readFileSync(final.type === 'downloaded' ? final.file : ''), fx.server.file(linuxInstaller('2.0.0')));
        // runScheduled writes the record after the state change; give it its turn.
        await new Promise((r) => setImmediate(r));
        assert.equal(new ScheduleStore(fx.cacheDir).load()!.state, 'done');

        // After another restart "Install now" is still on offer.
        const third = await fx.service();
        third.resume();
        const s = third.getState();
        assert.ok(s.type === 'downloaded' && s.version === '2.0.0');
      } finally {
        mock.timers.reset();
      }
    } finally {
      await fx.cleanup();
    }
  });

  test('cancelling a schedule returns to the offer and nothing runs at its time; a scheduled run brings the ticked module (fake timers)', async () => {
    const fx = await feedFixture();
    try {
      const service = await fx.service();
      const offer = await service.check();
      mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.parse('2030-01-01T12:00:00Z') });
      try {
        const at = new Date('2030-01-02T02:00:00Z');
        const record = service.scheduleDownload('2.0.0', at, ['reports']);
        assert.deepEqual(record.modules!.map((m) => [m.id, m.version]), [['reports', '2.0.0']]);
        const states: UpdateState[] = [];
        service.onState((s) => states.push(s));
        service.cancelScheduled();
        // One transition, through setState, back to the very offer the user chose from.
        assert.deepEqual(states, [UpdateState.available(offer)]);
        assert.deepEqual(service.getState(), UpdateState.available(offer));
        assert.equal(fs.existsSync(path.join(fx.cacheDir, 'schedule.json')), false);
        assert.ok(fx.log.entries.some((e) => e.event === 'update.state' && e.fields['from'] === 'scheduled' && e.fields['to'] === 'available'));
        mock.timers.tick(24 * 3600_000);
        assert.equal(fx.server.log.filter((r) => /\.(AppImage|module)$/.test(r.name)).length, 0, 'the cancelled schedule never fires');
        assert.deepEqual(states.length, 1);

        // After a restart there is no offer to return to: a picked-up schedule cancels to idle.
        service.scheduleDownload('2.0.0', at, ['reports']);
        service.scheduler.disarm();
        const restarted = await fx.service();
        restarted.resume();
        assert.equal(restarted.getState().type, 'scheduled');
        restarted.cancelScheduled();
        assert.deepEqual(restarted.getState(), UpdateState.idle(null));
        assert.equal(new ScheduleStore(fx.cacheDir).load(), null);

        // Scheduled again, with the module ticked: at its time the app chain and the module package arrive together.
        mock.timers.reset();
        await service.check(); // on real time: the catalog is fresh now, not in 2030
        mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.parse('2030-01-01T12:00:00Z') });
        service.scheduleDownload('2.0.0', new Date('2030-01-03T02:00:00Z'), ['reports']);
        const done = waitFor(service, 'downloaded');
        mock.timers.tick(38 * 3600_000); // 2030-01-01 12:00 → 2030-01-03 02:00
        mock.timers.reset(); // the transfer itself runs on real time
        const final = await done;
        assert.ok(final.type === 'downloaded', JSON.stringify(final));
        assert.deepEqual(final.modules.map((m) => [m.id, m.version, path.basename(m.file)]), [['reports', '2.0.0', demoModuleName('reports', '2.0.0')]]);
        assert.deepEqual(fs.readFileSync(final.modules[0]!.file), fx.server.file(demoModuleName('reports', '2.0.0')));
        assert.deepEqual(fs.readFileSync(final.modules[0]!.file), demoModuleBytes('reports', '2.0.0'));
        await new Promise((r) => setImmediate(r));
        assert.deepEqual(new ScheduleStore(fx.cacheDir).load()!.doneModules!.map((m) => m.id), ['reports']);
      } finally {
        mock.timers.reset();
      }
    } finally {
      await fx.cleanup();
    }
  });

  test('"HH:MM" means the next such time', () => {
    const now = new Date(2030, 0, 1, 23, 30);
    assert.deepEqual(parseStartTime('02:00', now), new Date(2030, 0, 2, 2, 0));
    assert.deepEqual(parseStartTime('23:45', now), new Date(2030, 0, 1, 23, 45));
    assert.throws(() => parseStartTime('25:00', now), /not a time/);
  });

  test('a half-done scheduled download survives killing the process and resumes with a Range request', async () => {
    const fx = await feedFixture({ installed: '1.1.0', feed: { timeoutMs: 10_000 } }); // the stall must outlast the kill
    try {
      const name = linuxInstaller('2.0.0');
      const cli = (args: string[]) => runNode(CLI, [...args, '--config', fx.configPath, '--json']);
      const scheduled = await cli(['download', '2.0.0', '--at', new Date(Date.now() - 1000).toISOString()]);
      assert.equal(scheduled.code, 0, scheduled.stdout + scheduled.stderr);
      assert.equal(JSON.parse(scheduled.stdout).scheduled, true);

      fx.server.fault = faults(fx.server).stallAfter(name, 150_000);
      const child = spawn(process.execPath, [CLI, 'download', '--run-scheduled', '--config', fx.configPath, '--json'], { stdio: 'ignore' });
      const part = () => fs.readdirSync(partialDir(fx.cacheDir)).filter((f) => f.endsWith('.part')).map((f) => fs.statSync(path.join(partialDir(fx.cacheDir), f)).size)[0] ?? 0;
      for (let i = 0; i < 200 && !(fs.existsSync(partialDir(fx.cacheDir)) && part() >= 150_000); i++) await new Promise((r) => setTimeout(r, 25));
      assert.equal(part(), 150_000);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      assert.equal(new ScheduleStore(fx.cacheDir).load()!.state, 'running');

      fx.server.fault = null;
      const resumed = await cli(['download', '--run-scheduled']);
      assert.equal(resumed.code, 0, resumed.stdout + resumed.stderr);
      const body = JSON.parse(resumed.stdout);
      assert.equal(body.version, '2.0.0');
      assert.deepEqual(fs.readFileSync(body.file), fx.server.file(name));
      const reqs = fx.server.requestsFor(name);
      assert.equal(reqs.length, 2);
      assert.equal(reqs[1]!.headers.range, 'bytes=150000-');
      assert.equal(reqs[1]!.status, 206);
      assert.equal(new ScheduleStore(fx.cacheDir).load()!.state, 'done');
    } finally {
      await fx.cleanup();
    }
  });
});
