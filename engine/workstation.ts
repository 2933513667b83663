/**
 * Composition for plain Node (CLI, tests, benchmarks): config → identity → secrets → database → stores → gate.
 * The Electron main process composes the same parts in electron/main.ts with its own adapters.
 */
import * as path from 'node:path';
import { LockstepError } from '../contract/errors';
import { Db, openDatabase } from '../db/connection';
import { FleetStore } from '../db/fleetStore';
import { migrateLatest } from '../db/migrate';
import { parseDbUrl, secretAccountFor } from '../kernel/dbUrl';
import { MachineConfig, loadMachineConfig } from '../kernel/config';
import { Identity, OsFacts, realOs, resolveIdentity } from './identity';
import { InstalledVersionSource, VersionFileSource } from '../kernel/installation';
import { AdminSession, Ledger } from './ledger';
import { Logger } from '../kernel/log';
import { SecretStore, requireSecret } from './secrets';
import { StartupGate, Upgrader } from './startupGate';
import { Host, logFor } from './compose/host';
import { FleetComposeDeps, FleetParts, composeFleet } from './fleet/compose';
import { ReleaseWatcher } from './fleet/releaseWatcher';
import { FleetView } from './fleet/fleetView';
import { parseVersion } from '../kernel/version';
import { SchemaSetup } from './schema/setup';
import { HostSchemaOptions, installedSchemaSetup } from './clientSchema/compose';
import { migrationSettings } from './schema/settings';
import { trustedKeys } from '../kernel/trust';
import { schemaLevelBlock } from './gateDecision';

export interface Workstation {
  config: MachineConfig;
  identity: Identity;
  db: Db;
  fleet: FleetStore;
  ledger: Ledger;
  gate: StartupGate;
  log: Logger;
  /** Package store, upgrader and publisher. */
  fleetParts: FleetParts;
  /** Tells a running app when the gate would no longer let it start (a newer release, or its own withdrawn). */
  watcher: ReleaseWatcher;
  /** The installed version's schema claim and migrations: the caller's, else read at open (what the gate and ledger use). */
  schema: SchemaSetup | null;
  /** Convergence, failures, stale and retired workstations (release management, `lockstep fleet`). */
  fleetView: FleetView;
  close(): Promise<void>;
}

export interface WorkstationDeps {
  /** The platform, log folder and keychain the entry point chose (engine/compose/host.ts). */
  host: Host;
  os?: OsFacts;
  installed?: InstalledVersionSource;
  upgrader?: Upgrader;
  logger?: Logger;
  /** Run pending migrations on open (the embedded SQLite default does; shared servers are migrated by IT). */
  migrate?: boolean;
  /** Overrides for the fleet composition (installer, package sources, clock, progress hooks). */
  fleet?: Partial<Pick<FleetComposeDeps, 'installer' | 'sources' | 'clock' | 'onChunk'>>;
  /** The installed version's verified schema claim and its migrations (engine/schema/setup.ts). */
  schema?: SchemaSetup;
  /** Without `schema`: what the host registered (migrations in code, the resources folder); see clientSchema/compose.ts. */
  schemaOptions?: HostSchemaOptions;
}

/** Looks up the database password when the URL names a user and the config does not turn the keychain off. */
export async function databasePassword(config: MachineConfig, secrets: SecretStore): Promise<string | null> {
  const target = parseDbUrl(config.database.url, path.dirname(config.sourceFile));
  const account = secretAccountFor(target);
  if (!account || config.database.passwordFromKeychain === false) return null;
  return requireSecret(secrets, account);
}

/**
 * The shared database as the admin login named by database.adminUser (S31), its password from the keychain of the
 * administrator at this workstation. Null when the configuration names no admin login.
 */
export function adminDatabaseOpener(config: MachineConfig, secrets: SecretStore): (() => Promise<Db>) | null {
  const adminUser = config.database.adminUser;
  if (!adminUser) return null;
  const target = parseDbUrl(config.database.url, path.dirname(config.sourceFile));
  if (target.dialect === 'sqlite') throw new LockstepError('E_CONFIG_INVALID', `database.adminUser needs a PostgreSQL or SQL Server database; ${config.sourceFile} names SQLite, which has no logins.`, { file: config.sourceFile });
  const adminTarget = { ...target, user: adminUser };
  return async () => {
    const account = secretAccountFor(adminTarget);
    const password = account && config.database.passwordFromKeychain !== false ? await requireSecret(secrets, account) : null;
    return openDatabase(adminTarget, { password, connectTimeoutMs: config.database.connectTimeoutMs, caFile: config.database.caFile });
  };
}

export async function openWorkstation(configOrFile: MachineConfig | string, deps: WorkstationDeps): Promise<Workstation> {
  const config = typeof configOrFile === 'string' ? loadMachineConfig(configOrFile) : configOrFile;
  const identity = resolveIdentity(config, deps.os ?? realOs);
  const log = deps.logger ?? logFor(config, deps.host);
  const target = parseDbUrl(config.database.url, path.dirname(config.sourceFile));
  const password = await databasePassword(config, deps.host.secrets);
  const db = await openDatabase(target, { password, connectTimeoutMs: config.database.connectTimeoutMs, caFile: config.database.caFile });
  try {
    if (deps.migrate) await migrateLatest(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  const fleet = new FleetStore(db);
  const installed = deps.installed ?? new VersionFileSource(config.installDir);
  const fleetParts = composeFleet({ config, fleet, identity, log, host: deps.host, installed, ...deps.fleet });
  const floor = config.fleet?.securityFloor ? parseVersion(config.fleet.securityFloor) : null;
  const openAdmin = adminDatabaseOpener(config, deps.host.secrets);
  const admin = openAdmin
    ? async (): Promise<AdminSession> => {
        const adminDb = await openAdmin();
        const adminFleet = new FleetStore(adminDb);
        // The package is uploaded through the admin login too: the workstation login cannot write packages.
        const publisher = composeFleet({ config, fleet: adminFleet, identity, log, host: deps.host, installed, ...deps.fleet }).publisher;
        return { fleet: adminFleet, packages: publisher, close: () => adminDb.close() };
      }
    : undefined;
  let schemaSetup: SchemaSetup;
  try {
    // The installed version's claim from its signed manifest and its verified migrations, unless the caller passed them.
    schemaSetup = deps.schema ?? (await installedSchemaSetup({ config, host: deps.host, fleet, installed, log, options: deps.schemaOptions ?? {} }));
  } catch (err) {
    await db.close();
    throw err;
  }
  const schema = { schema: schemaSetup };
  const ledger = new Ledger(fleet, identity, log, {
    channel: config.channel, securityFloor: floor, packages: fleetParts.publisher, ...(admin ? { admin } : {}),
    ...schema, installed, trustedKeys: trustedKeys(config), migration: migrationSettings(config),
  });
  const gate = new StartupGate(
    fleet,
    identity,
    installed,
    ledger,
    log,
    { channel: config.channel, policy: config.outdatedPolicy, ring: config.workstation.ring, ...schema },
    deps.upgrader ?? fleetParts.upgrader,
  );
  const watcher = new ReleaseWatcher(() => gate.evaluate(), log, {
    policy: config.outdatedPolicy,
    checkIntervalMs: fleetParts.settings.checkIntervalMs,
    schemaBlock: (installedVersion, snapshot) => schemaLevelBlock(installedVersion, schemaSetup.claim, snapshot.schemaLevel ?? null),
  });
  // The start's heartbeat is written after the gate decided: closing lets it land first.
  const close = async () => {
    await gate.settled();
    await db.close();
  };
  const fleetView = new FleetView(fleet, identity, log, { channel: config.channel, policy: config.outdatedPolicy, ...(admin ? { admin } : {}) });
  return { config, identity, db, fleet, ledger, gate, log, fleetParts, watcher, schema: schemaSetup, fleetView, close };
}
