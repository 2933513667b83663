/** Every CLI command, in the order `lockstep --help` lists them. Add a command: its file plus one entry here. */
import { Command } from '../command';
import { dbGrants } from './dbGrants';
import { dbMigrate } from './dbMigrate';
import { demo } from './demo';
import { gate } from './gate';
import { install, installConfirm, installRecover } from './install';
import { events, workstations } from './workstations';
import { fleet, fleetRetire } from './fleet';
import { markTest, release, releases, releasesPrune, withdraw } from './ledger';
import { setDbPassword } from './secret';
import { status } from './status';
import { check } from './check';
import { download } from './download';
import { installUpdate } from './installUpdate';
import { feedAdd } from './feedAdd';
import { feedAddModule } from './feedAddModule';
import { feedDemo } from './feedDemo';
import { feedRefresh } from './feedRefresh';
import { feedServe } from './feedServe';
import { keygen } from './keygen';
import { licenseIssue } from './licenseIssue';
import { setProxyPassword } from './proxySecret';
import { schemaRestoreBackup, schemaStatus } from './schema';

export const COMMANDS: readonly Command[] = [status, gate, release, markTest, withdraw, releasesPrune, releases, workstations, fleetRetire, fleet, events, dbMigrate, dbGrants, setDbPassword, demo, installRecover, installConfirm, install, check, download, installUpdate, keygen, feedAdd, feedAddModule, feedRefresh, feedServe, feedDemo, licenseIssue, setProxyPassword, schemaStatus, schemaRestoreBackup];
