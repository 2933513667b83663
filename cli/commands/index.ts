/** Every CLI command, in the order `lockstep --help` lists them. Add a command: its file plus one entry here. */
import { Command } from '../command';
import { dbMigrate } from './dbMigrate';
import { demo } from './demo';
import { gate } from './gate';
import { install, installConfirm, installRecover } from './install';
import { events, workstations } from './workstations';
import { markTest, release, releases, withdraw } from './ledger';
import { setDbPassword } from './secret';
import { status } from './status';

export const COMMANDS: readonly Command[] = [status, gate, release, markTest, withdraw, releases, workstations, events, dbMigrate, setDbPassword, demo, installRecover, installConfirm, install];
