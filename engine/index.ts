/**
 * The `lockstep` entry point: the engine for Node. Everything a vendor's service, script or test needs to open a
 * workstation and run the gate, check, download, install, the ledger and the fleet; nothing Electron. The Electron
 * main process uses `lockstep/electron`, the packaging `lockstep/builder`.
 */
export { openLockstep } from './api/openLockstep';
export type { Lockstep, OpenOptions } from './api/openLockstep';
export type { InstallOutcome } from './installDownloaded';
export { LockstepError, isLockstepError } from '../contract/errors';
export type { ErrorCode, ErrorInfo } from '../contract/errors';
export { mayUseDatabase } from '../contract/gate';
export type { GateDecision, OutdatedPolicy } from '../contract/gate';
export type { CheckResult, DownloadedStep, OfferedVersion, UpdateState } from '../contract/update';
export type { MachineConfig } from '../kernel/config';
export type { Logger } from '../kernel/log';
export type { SecretStore } from './secrets';
export type { GateResult, Evaluation } from './startupGate';
export type { ClientMigration, SchemaClaim } from '../kernel/schemaClaim';
