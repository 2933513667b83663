/** Child-process entry for the fleet tests: `node feedInstallMain.js CONFIG VERSION` installs VERSION from the feed. */
import * as path from 'node:path';
import { loadMachineConfig } from '../../../kernel/config';
import { installFromFeed } from '../../../engine/fleet/feedInstall';
import { MemoryLogger } from '../../../kernel/log';
import { SecretStore } from '../../../engine/secrets';

/** Simulated workstations keep no secrets: trust-auth database, feed without proxy. */
const noSecrets: SecretStore = { get: async () => null, set: async () => undefined, delete: async () => false };

async function main(): Promise<void> {
  const [configFile, version] = process.argv.slice(2);
  const out = await installFromFeed(loadMachineConfig(configFile!), version!, { host: { platform: process.platform, defaultLogDir: path.join(path.dirname(configFile!), 'logs'), secrets: noSecrets }, log: new MemoryLogger() });
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
