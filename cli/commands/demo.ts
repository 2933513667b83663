/**
 * `lockstep demo`: the main job where no display exists — the whole fleet loop on the embedded SQLite default. A
 * vendor feed of installable packages is generated (fresh key pair) and served on 127.0.0.1; two simulated
 * workstations share ./.lockstep-dev/shared.db (or --dir). admin-pc updates from the feed and releases for all, which
 * carries the package into the shared database; front-desk then upgrades from the database without touching the feed.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { userInfo } from 'node:os';
import { MachineConfigSchema, MachineConfig } from '../../kernel/config';
import { createDemoFeed, payloadFor } from '../../authoring/demoFeed';
import { addModule } from '../../authoring/feedWriter';
import { signerFromPem } from '../../kernel/signing';
import { defaultModulesFile, readInstalledModules } from '../../engine/modules';
import { installFromFeed } from '../../engine/fleet/feedInstall';
import { writeVersionFile } from '../../kernel/installation';
import { MemoryLogger } from '../../kernel/log';
import { serveFeedFile } from '../../authoring/feedServer';
import { openWorkstation, Workstation } from '../../engine/workstation';
import { Command, CommandContext } from '../command';
import { describeDecision } from '../describe';

const SCHEDULE_AHEAD_MS = 4_000;

/** Waits until the database server's clock has passed `iso` (bounded: the time is seconds ahead). */
async function untilServerPasses(ws: Workstation, iso: string): Promise<void> {
  for (let i = 0; i < 600 && Date.parse(await ws.fleet.schedules.serverNow()) <= Date.parse(iso); i++) await new Promise((r) => setTimeout(r, 100));
}

interface Step {
  step: string;
  workstation: string;
  result: string;
}

function simConfig(dir: string, id: string, admin: boolean, feed: { url: string; publicKey: string }): MachineConfig {
  const wsDir = path.join(dir, id);
  fs.mkdirSync(path.join(wsDir, 'app'), { recursive: true });
  const raw = {
    installDir: path.join(wsDir, 'app'),
    database: { url: `sqlite:${path.join(dir, 'shared.db')}` },
    administrators: admin ? [userInfo().username] : [],
    workstation: { id, hostName: id.toUpperCase() },
    log: { dir: path.join(wsDir, 'logs') },
    feed: { url: feed.url, trustedKeys: [feed.publicKey], cacheDir: path.join(wsDir, 'feed-cache') },
    fleet: { chunkBytes: 256 * 1024, maxConcurrentTransfers: 4 },
  };
  const file = path.join(wsDir, 'lockstep.machine.json');
  fs.writeFileSync(file, JSON.stringify(raw, null, 2));
  return { ...MachineConfigSchema.parse(raw), sourceFile: file };
}

/** Module "reports" in the demo feed: 1.0.0 for the app before 1.1.0, 1.1.0 for 1.1.0 on; returns the 1.0.0 package. */
async function demoModule(vendorRoot: string, feedDir: string): Promise<string> {
  const signer = signerFromPem(fs.readFileSync(path.join(vendorRoot, 'vendor', 'demo-vendor.key'), 'utf8'));
  const build = path.join(vendorRoot, 'module-build');
  fs.mkdirSync(build, { recursive: true });
  for (const [version, appRange] of [['1.0.0', '<1.1.0'], ['1.1.0', '>=1.1.0']] as const) {
    const file = path.join(build, `reports-${version}.plugin`);
    fs.writeFileSync(file, payloadFor(`reports ${version}`, 64 * 1024));
    await addModule(feedDir, { file, id: 'reports', name: 'Reports', version, appRange }, signer);
  }
  return path.join(build, 'reports-1.0.0.plugin');
}

function modulesOf(ws: Workstation): string {
  return Object.entries(readInstalledModules(defaultModulesFile(ws.config.installDir))).map(([id, v]) => `${id} ${v}`).join(', ');
}

/** The demo feed on 127.0.0.1, counting the package downloads it serves. */
async function serveFeed(feedDir: string): Promise<{ url: string; packageDownloads: () => number; moduleDownloads: () => number; close: () => Promise<void> }> {
  let downloads = 0;
  let moduleDownloads = 0;
  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && /\.tar\.gz$/.test(req.url ?? '')) downloads++;
    if (req.method === 'GET' && /\.plugin$/.test(req.url ?? '')) moduleDownloads++;
    if (!serveFeedFile(feedDir, req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    packageDownloads: () => downloads,
    moduleDownloads: () => moduleDownloads,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export const demo: Command = {
  name: 'demo',
  summary: 'run the whole fleet loop headless on the embedded SQLite default: feed → release for all → upgrade from the database',
  usage: 'lockstep demo [--dir DIR] [--json]',
  options: { dir: { type: 'string' } },
  async run(ctx: CommandContext) {
    const dir = path.resolve(String(ctx.values['dir'] ?? '.lockstep-dev'));
    fs.rmSync(path.join(dir, 'shared.db'), { force: true });
    for (const old of ['vendor-feed', 'admin-pc', 'front-desk']) fs.rmSync(path.join(dir, old), { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    const steps: Step[] = [];
    const say = (workstation: string, step: string, result: string) => {
      steps.push({ step, workstation, result });
      ctx.progress(`[${workstation}] ${step}: ${result}`);
    };

    const vendor = await createDemoFeed(path.join(dir, 'vendor-feed'), { versions: ['1.1.0'], payloadBytes: 1024 * 1024 });
    const reports = await demoModule(path.join(dir, 'vendor-feed'), vendor.feedDir);
    const feed = await serveFeed(vendor.feedDir);
    say('vendor', 'publish 1.1.0 in a signed feed', `serving ${feed.url} (package ${vendor.packages['1.1.0']!.name}; module reports 1.0.0 for <1.1.0, 1.1.0 for >=1.1.0)`);
    const open = async (id: string, admin: boolean, version: string | null): Promise<Workstation> => {
      const config = simConfig(dir, id, admin, { url: feed.url, publicKey: vendor.publicKey });
      if (version) {
        writeVersionFile(config.installDir, version);
        // Both workstations run module "reports" 1.0.0, installed earlier.
        fs.mkdirSync(path.join(config.installDir, 'modules', 'reports'), { recursive: true });
        fs.copyFileSync(reports, path.join(config.installDir, 'modules', 'reports', path.basename(reports)));
        fs.writeFileSync(path.join(config.installDir, 'lockstep-modules.json'), JSON.stringify({ reports: '1.0.0' }));
      }
      return openWorkstation(config, { host: { ...ctx.host, defaultLogDir: path.join(dir, 'logs') }, migrate: true, logger: new MemoryLogger() });
    };

    let a: Workstation | null = null;
    let b: Workstation | null = null;
    try {
      a = await open('admin-pc', true, '1.0.0');
      b = await open('front-desk', false, '1.0.0');
      say('admin-pc', 'start (new site, nothing released yet)', describeDecision((await a.gate.run()).decision));
      say('admin-pc', 'answer "release for all workstations?" with Yes', describeDecision((await a.gate.answer('yes')).decision));
      say('front-desk', 'start', describeDecision((await b.gate.run()).decision));

      const got = await installFromFeed(a.config, '1.1.0', { host: ctx.host, log: a.log });
      say('admin-pc', 'Extras → Update…: download 1.1.0 (and module reports 1.1.0) from the feed and install it', `installed ${got.to} (was ${got.from}); feed package downloads so far: ${feed.packageDownloads()}; modules ${modulesOf(a)}`);
      say('admin-pc', 'start after the update', describeDecision((await a.gate.run()).decision));
      // "Yes — at …" a few seconds ahead: the release and its package go into the database now, the pointer moves then.
      const at = new Date(Date.parse(await a.fleet.schedules.serverNow()) + SCHEDULE_AHEAD_MS).toISOString();
      const yes = await a.gate.answer('yes', at);
      const releaseId = (await a.fleet.releases.find(a.ledger.ref('1.1.0')))!.id;
      const pkg = await a.fleetParts.packages.info(releaseId);
      const carried = (await a.fleet.releaseModules.carried(releaseId)).map((m) => `${m.moduleId} ${m.moduleVersion}`).join(', ');
      say('admin-pc', `answer "Yes — at ${new Date(at).toLocaleTimeString()}": 1.1.0 and its package go into the shared database now`, `${describeDecision(yes.decision)}; package ${pkg?.fileName} ${pkg?.size} bytes in ${pkg?.chunkCount} chunks (${pkg?.state}); modules travelling with it: ${carried || 'none'}`);
      say('front-desk', 'start before the release time', describeDecision((await b.gate.run()).decision));
      await untilServerPasses(a, at);

      const before = feed.packageDownloads();
      const up = await b.gate.run();
      say('front-desk', 'start after the release time', `${describeDecision(up.decision)}${up.restartInto ? `; installed from the shared database, restart into ${up.restartInto}` : ''}; feed downloads during this start: ${feed.packageDownloads() - before}`);
      await b.close();
      b = await open('front-desk', false, null); // the app restarted into what the installer put there
      say('front-desk', 'start after the restart', `${describeDecision((await b.gate.run()).decision)}; modules ${modulesOf(b)} (module packages fetched from the feed: ${feed.moduleDownloads()})`);
      await b.gate.settled(); // its heartbeat lands after the decision: the registry below shows this start
      const registry = await a.fleet.workstations.list();
      say('admin-pc', 'workstation registry', registry.map((w) => `${w.hostName} ${w.installedVersion} (${w.ring})`).join(', '));
      say('vendor', 'feed package downloads for the whole site', String(feed.packageDownloads()));
    } finally {
      await a?.close();
      await b?.close();
      await feed.close();
    }
    return {
      json: { dir, steps, feedPackageDownloads: feed.packageDownloads() },
      text: `Demo finished. Shared database: ${path.join(dir, 'shared.db')} — try: node bin/lockstep.js releases --config ${path.join(dir, 'admin-pc', 'lockstep.machine.json')}`,
    };
  },
};
