/**
 * One start-up gate run as the OS user this process runs as (the real unprivileged user of the elevation suites),
 * through the host's real installer and elevation: the credentials prompt is answered with the password read from
 * standard input, never from a command line. Prints one JSON line: the decision, or {error}.
 *
 *   runuser -u USER -- node gateAsUser.js MACHINE.json   (password on standard input)
 */
import { toLockstepError } from '../../../contract/errors';
import { installerFor, logFor } from '../../../engine/compose/host';
import { openWorkstation } from '../../../engine/workstation';
import { loadMachineConfig } from '../../../kernel/config';

const noSecrets = { get: async () => null, set: async () => undefined, delete: async () => false };

async function main(configFile: string): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const password = Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
  const config = loadMachineConfig(configFile);
  const host = { platform: process.platform, defaultLogDir: '/nonexistent', secrets: noSecrets };
  const log = logFor(config, host);
  const installer = installerFor(config, host, log, { prompt: async ({ account }) => ({ account, password: Buffer.from(password, 'utf8') }) });
  const ws = await openWorkstation(config, { host, logger: log, fleet: { installer } });
  try {
    const r = await ws.gate.run();
    const reason = r.decision.type === 'outdated' ? (r.decision.reason?.code ?? null) : null;
    return { decision: r.decision.type, reason, restartInto: r.restartInto ?? null };
  } finally {
    await ws.close();
  }
}

if (require.main === module) {
  main(process.argv[2] ?? '').then(
    (out) => process.stdout.write(JSON.stringify(out) + '\n'),
    (err: unknown) => {
      process.stdout.write(JSON.stringify({ error: toLockstepError(err).toInfo() }) + '\n');
      process.exitCode = 2;
    },
  );
}
