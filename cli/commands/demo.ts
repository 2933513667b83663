/**
 * `lockstep demo`: the main job where no display exists — the whole fleet loop on the embedded SQLite default. A
 * vendor feed of installable packages is generated (fresh key pair) and served on 127.0.0.1; two simulated
 * workstations share ./.lockstep-dev/shared.db (or --dir). admin-pc updates from the feed and releases for all, which
 * carries the package into the shared database; front-desk then upgrades from the database without touching the feed.
 * The versions carry the example client's schema claims and migrations (examples/customer-list): 1.0.0 and 1.1.0 work
 * on level 1, 2.0.0 on level 2 — its release moves the database from 1 to 2, and front-desk follows.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { userInfo } from 'node:os';
import { MachineConfigSchema, MachineConfig } from '../../kernel/config';
import { DemoVersion, createDemoFeed, payloadFor } from '../../authoring/demoFeed';
import { exampleMigrationsDir } from '../../authoring/demoSchema';
import { addModule } from '../../authoring/feedWriter';
import { signerFromPem } from '../../kernel/signing';
import { defaultModulesFile, readInstalledModules } from '../../engine/modules';
import { installFromFeed } from '../../engine/fleet/feedInstall';
import { installerFor } from '../../engine/compose/host';
import { writeVersionFile } from '../../kernel/installation';
import { MemoryLogger } from '../../kernel/log';
import { serveFeedFile } from '../../authoring/feedServer';
import { openWorkstation, Workstation } from '../../engine/workstation';
import type { SchemaMoveDone } from '../../engine/schema/schemaRelease';
import { Command, CommandContext } from '../command';
import { describeDecision } from '../describe';
import { schemaStatus } from './schema';

const SCHEDULE_AHEAD_MS = 4_000;
/** The example client's table (examples/customer-list/migrations). */
const CUSTOMERS = 'customer_list_customers';

/** Waits until the database server's clock has passed `iso` (bounded: the time is seconds ahead). */
async function untilServerPasses(ws: Workstation, iso: string): Promise<void> {
  for (let i = 0; i < 600 && Date.parse(await ws.fleet.schedules.serverNow()) <= Date.parse(iso); i++) await new Promise((r) => setTimeout(r, 100));
}

interface Step {
  step: string;
  workstation: string;
  result: string;
}

function simConfig(dir: string, id: string, admin: boolean, feed: { url: string; publicKey: string }, outdatedPolicy: 'block' | 'warn' = 'block'): MachineConfig {
  const wsDir = path.join(dir, id);
  fs.mkdirSync(path.join(wsDir, 'app'), { recursive: true });
  const raw = {
    installDir: path.join(wsDir, 'app'),
    database: { url: `sqlite:${path.join(dir, 'shared.db')}` },
    administrators: admin ? [userInfo().username] : [],
    outdatedPolicy,
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

/** The demo's versions: the example client's schema levels and the migrations each package carries. */
function demoVersions(): DemoVersion[] {
  const migrationsDir = exampleMigrationsDir();
  return [
    { version: '1.0.0', schema: { works: '1', brings: 1, migrationsDir } },
    { version: '1.1.0', schema: { works: '1', brings: 1, migrationsDir } },
    { version: '2.0.0', schema: { works: '2', brings: 2, migrationsDir } },
  ];
}

/** "1.0.0 works on level 1, brings 1 (0001_create_customers.js)" for each version, from what the vendor signs. */
function describeSchemas(versions: DemoVersion[]): string {
  return versions.map((v) => `${v.version} works on level ${v.schema!.works}, brings ${v.schema!.brings}`).join('; ');
}

/** The example client's table as the migrations left it: its columns, and its rows as "name (city)". */
async function customersTable(ws: Workstation): Promise<string> {
  if (!(await ws.db.knex.schema.hasTable(CUSTOMERS))) return `no table ${CUSTOMERS}`;
  const columns = Object.keys(await ws.db.knex(CUSTOMERS).columnInfo());
  const rows = (await ws.db.knex(CUSTOMERS).select('*').orderBy('id')) as Array<Record<string, unknown>>;
  return `table ${CUSTOMERS} (${columns.join(', ')}): ${rows.map((r) => `${String(r['name'])} (${String(r['city'])}${r['email'] !== undefined ? `, e-mail ${String(r['email'] ?? '—')}` : ''})`).join(', ') || 'no rows'}`;
}

function describeMove(move: SchemaMoveDone | undefined): string {
  if (!move) return 'the database schema did not move';
  return `the database moved from schema level ${move.from} to ${move.to} in the release's one transaction (${move.migrations.join(', ')})${move.backup?.file ? `; backup before it: ${path.basename(move.backup.file)}` : ''}`;
}

export const demo: Command = {
  name: 'demo',
  summary: 'run the whole fleet loop headless on the embedded SQLite default: feed → release for all → upgrade from the database → a release that migrates the database',
  usage: 'lockstep demo [--dir DIR] [--json]',
  options: { dir: { type: 'string' } },
  async run(ctx: CommandContext) {
    const dir = path.resolve(String(ctx.values['dir'] ?? '.lockstep-dev'));
    fs.rmSync(path.join(dir, 'shared.db'), { force: true });
    for (const old of ['vendor-feed', 'admin-pc', 'front-desk']) fs.rmSync(path.join(dir, old), { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    // The backups an earlier run's migrating releases left beside the database.
    for (const name of fs.readdirSync(dir)) if (/^shared\.db\.before-.*\.backup$/.test(name)) fs.rmSync(path.join(dir, name), { force: true });
    const steps: Step[] = [];
    const say = (workstation: string, step: string, result: string) => {
      steps.push({ step, workstation, result });
      ctx.progress(`[${workstation}] ${step}: ${result}`);
    };

    const versions = demoVersions();
    const vendor = await createDemoFeed(path.join(dir, 'vendor-feed'), { versions, payloadBytes: 1024 * 1024 });
    const reports = await demoModule(path.join(dir, 'vendor-feed'), vendor.feedDir);
    const feed = await serveFeed(vendor.feedDir);
    say(
      'vendor',
      'publish 1.0.0, 1.1.0 and 2.0.0 in a signed feed, each with its schema claim and migrations',
      `serving ${feed.url} (packages ${versions.map((v) => vendor.packages[v.version]!.name).join(', ')}; schema: ${describeSchemas(versions)}; module reports 1.0.0 for <1.1.0, 1.1.0 for >=1.1.0)`,
    );
    const configure = (id: string, admin: boolean, version: string | null, policy?: 'warn'): MachineConfig => {
      const config = simConfig(dir, id, admin, { url: feed.url, publicKey: vendor.publicKey }, policy);
      if (version) writeVersionFile(config.installDir, version);
      // Both workstations run module "reports" 1.0.0, installed earlier.
      fs.mkdirSync(path.join(config.installDir, 'modules', 'reports'), { recursive: true });
      fs.copyFileSync(reports, path.join(config.installDir, 'modules', 'reports', path.basename(reports)));
      fs.writeFileSync(path.join(config.installDir, 'lockstep-modules.json'), JSON.stringify({ reports: '1.0.0' }));
      return config;
    };
    // Opening is the app's start: the installed version's schema claim and migrations are read then (engine/workstation.ts).
    const open = (config: MachineConfig): Promise<Workstation> =>
      openWorkstation(config, { host: { ...ctx.host, defaultLogDir: path.join(dir, 'logs') }, migrate: true, logger: new MemoryLogger() });

    let a: Workstation | null = null;
    let b: Workstation | null = null;
    let schemaStatusJson: unknown = null;
    try {
      const adminConfig = configure('admin-pc', true, null);
      const first = await installFromFeed(adminConfig, '1.0.0', { host: ctx.host, log: new MemoryLogger() });
      say('admin-pc', 'IT installs 1.0.0 from the feed (its package carries the migration to schema level 1)', `installed ${first.to}; feed package downloads so far: ${feed.packageDownloads()}`);
      a = await open(adminConfig);
      say('admin-pc', 'start (new site, nothing released yet)', describeDecision((await a.gate.run()).decision));
      say('admin-pc', 'answer "release for all workstations?" with Yes', describeDecision((await a.gate.answer('yes')).decision));
      const level1 = (await a.fleet.schema.history())[0];
      say('admin-pc', 'the client database after the release', `schema level ${(await a.fleet.schema.level())?.level}; ${level1 ? `moved ${level1.fromLevel} → ${level1.toLevel} by ${level1.migrations.join(', ')}` : 'no migration ran'}; ${await customersTable(a)}`);

      // front-desk may keep working on an outdated version (warn) — but never on a schema level its version does not know.
      b = await open(configure('front-desk', false, '1.0.0', 'warn'));
      say('front-desk', 'start', describeDecision((await b.gate.run()).decision));
      // The example client's own data, entered at level 1: it must survive every release below.
      await b.db.knex(CUSTOMERS).insert({ name: 'Müller GmbH', city: 'Bremen', created_at: await b.fleet.schedules.serverNow() });
      say('front-desk', 'the example client enters a customer', await customersTable(b));

      const got = await installFromFeed(a.config, '1.1.0', { host: ctx.host, log: a.log });
      await a.close();
      a = await open(adminConfig); // the app restarted into what the installer put there
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
      b = await open(b.config); // the app restarted into what the installer put there
      say('front-desk', 'start after the restart', `${describeDecision((await b.gate.run()).decision)}; modules ${modulesOf(b)} (module packages fetched from the feed: ${feed.moduleDownloads()})`);
      // The app's window showed: the new version started healthily (what lockstep.confirmHealthy() records).
      installerFor(b.config, ctx.host, b.log).confirmHealthy();

      // 2.0.0 works on level 2 only: releasing it migrates the client's database, from the workstation where it is installed.
      const got2 = await installFromFeed(a.config, '2.0.0', { host: ctx.host, log: a.log });
      await a.close();
      a = await open(adminConfig);
      say('admin-pc', 'Extras → Update…: download 2.0.0 from the feed and install it', `installed ${got2.to} (was ${got2.from}); feed package downloads so far: ${feed.packageDownloads()}`);
      say('admin-pc', 'start after the update', describeDecision((await a.gate.run()).decision));
      const released = await a.ledger.release('2.0.0');
      say('admin-pc', 'release 2.0.0 for all (lockstep release 2.0.0): migration lease, backup, then one transaction', `${released.version} is the released version; ${describeMove(released.schemaMove)}; ${await customersTable(a)}`);
      say('admin-pc', 'start after the release', describeDecision((await a.gate.run()).decision));

      // front-desk still runs 1.1.0 (works on level 1 only): its next database access tells it to stop.
      const notice = await b.watcher.noteDatabaseAccess();
      say('front-desk', 'still running 1.1.0: its next database access', notice ? describeDecision(notice) : 'no notice');
      const follow = await b.gate.run();
      say('front-desk', 'start (the app restarts)', `${describeDecision(follow.decision)}${follow.restartInto ? `; installed from the shared database, restart into ${follow.restartInto}` : ''}`);
      await b.close();
      b = await open(b.config);
      say('front-desk', 'start after the restart', `${describeDecision((await b.gate.run()).decision)}; ${await customersTable(b)}`);

      // What `lockstep schema status --json` prints at front-desk.
      const status = await schemaStatus.run({ ...ctx, values: {}, positionals: [], json: true, workstation: async () => b! });
      schemaStatusJson = status.json;
      const { level, history } = status.json as { level: unknown; history: unknown };
      say('front-desk', 'lockstep schema status --json (level, history)', JSON.stringify({ level, history }));

      // The starts' heartbeats land after their decisions: wait for them before reading the registry.
      await Promise.all([a.gate.settled(), b.gate.settled()]);
      const registry = await a.fleet.workstations.list();
      say('admin-pc', 'workstation registry', registry.map((w) => `${w.hostName} ${w.installedVersion} (${w.ring})`).join(', '));
      say('vendor', 'feed package downloads for the whole site', String(feed.packageDownloads()));
    } finally {
      await a?.close();
      await b?.close();
      await feed.close();
    }
    return {
      json: { dir, steps, feedPackageDownloads: feed.packageDownloads(), schemaStatus: schemaStatusJson },
      text: `Demo finished. Shared database: ${path.join(dir, 'shared.db')} — try: node bin/lockstep.js schema status --config ${path.join(dir, 'front-desk', 'lockstep.machine.json')}`,
    };
  },
};
