/**
 * The ONE handler table: channel → async function over the session, each with its arguments validated (zod, strict)
 * and the caller checked against the pages the app itself loads. Electron registers every entry with ipcMain.handle
 * (adapters/ipcMain.ts); the browser tests expose this same table to Chromium. Every answer is a Result envelope so a
 * coded error reaches the window with its code (Electron would flatten a thrown error into a string).
 */
import { z } from 'zod';
import { LockstepError, toLockstepError } from '../contract/errors';
import { ArgsOf, Channel, IpcContract, Result, WINDOW_KINDS } from '../contract/ipc';
import type { ShellSession } from './shell/shellSession';

/** Who is calling: the URL of the frame that sent the message (Electron: event.senderFrame.url). */
export interface SenderInfo {
  url: string;
}

export interface SenderPolicy {
  /** The origin the app's pages are served from (Electron: "lockstep://app"; tests: the loopback server). */
  origin: string;
}

/** A page of ours: our origin and one of the known window pages, nothing else (no remote content, no devtools page). */
export function isTrustedSender(policy: SenderPolicy, sender: SenderInfo): boolean {
  let url: URL;
  try {
    url = new URL(sender.url);
  } catch {
    return false;
  }
  const origin = url.protocol === 'lockstep:' ? `${url.protocol}//${url.host}` : url.origin;
  return origin === policy.origin && WINDOW_KINDS.some((k) => url.pathname === `/renderer/${k}.html`);
}

const version = z.string().trim().min(1).max(64);
const none = z.tuple([]);
const staleDays = z.number().int().min(1).max(3650);

/** One schema per channel: the argument tuple exactly as the contract declares it. */
const SCHEMAS: { [C in Channel]: z.ZodType<ArgsOf<C>> } = {
  'lockstep:snapshot': none,
  'lockstep:check': none,
  'lockstep:set-check-at-start': z.tuple([z.boolean()]),
  'lockstep:download': z.tuple([
    z
      .object({
        version,
        when: z.discriminatedUnion('type', [
          z.object({ type: z.literal('now') }).strict(),
          z.object({ type: z.literal('background') }).strict(),
          z.object({ type: z.literal('at'), time: z.string().regex(/^([01]?\d|2[0-3]):[0-5]\d$/) }).strict(),
        ]),
        modules: z.array(z.string().max(64)).max(200),
        confirmIncompatible: z.boolean(),
      })
      .strict(),
  ]),
  'lockstep:cancel-download': none,
  'lockstep:install': none,
  'lockstep:answer-release': z.union([z.tuple([z.enum(['yes', 'no'])]), z.tuple([z.literal('yes'), z.string().trim().min(1).max(40)])]),
  'lockstep:continue': none,
  'lockstep:credentials': z.tuple([z.object({ account: z.string().trim().min(1).max(256), password: z.string().min(1).max(1024) }).strict().nullable()]),
  'lockstep:admin-overview': none,
  'lockstep:withdraw': z.tuple([version]),
  'lockstep:rerelease': z.tuple([version]),
  'lockstep:open-window': z.tuple([z.enum(WINDOW_KINDS)]),
  'lockstep:fleet': z.tuple([staleDays]),
  'lockstep:fleet-csv': z.tuple([staleDays]),
  'lockstep:retire-workstation': z.tuple([z.string().min(1).max(191), staleDays]),
};

type Handlers = { [C in Channel]: (...args: ArgsOf<C>) => Promise<IpcContract[C][1]> };

function handlersFor(s: ShellSession): Handlers {
  return {
    'lockstep:snapshot': async () => s.snapshot(),
    'lockstep:check': async () => s.check(),
    'lockstep:set-check-at-start': async (enabled) => s.setCheckAtStart(enabled),
    'lockstep:download': async (request) => s.download(request),
    'lockstep:cancel-download': async () => s.cancelDownload(),
    'lockstep:install': async () => {
      // The install runs on; its phases arrive as snapshots (a refusal before it starts is answered here).
      const running = s.installDownloaded();
      running.catch(() => undefined);
      await Promise.race([running, new Promise((r) => setImmediate(r))]);
    },
    'lockstep:answer-release': async (answer, at) => s.answerRelease(answer, at),
    'lockstep:continue': async () => s.continueStart(),
    'lockstep:credentials': async (answer) => s.answerCredentials(answer),
    'lockstep:admin-overview': async () => s.adminOverview(),
    'lockstep:withdraw': async (v) => s.withdraw(v),
    'lockstep:rerelease': async (v) => s.rerelease(v),
    'lockstep:open-window': async (kind) => s.openWindow(kind),
    'lockstep:fleet': async (days) => s.fleet(days),
    'lockstep:fleet-csv': async (days) => s.fleetCsv(days),
    'lockstep:retire-workstation': async (id, days) => s.retireWorkstation(id, days),
  };
}

export interface HandlerTable {
  readonly channels: readonly Channel[];
  /** Validates sender and arguments, runs the handler, answers with a Result; never throws. */
  invoke(channel: string, sender: SenderInfo, args: unknown[]): Promise<Result<unknown>>;
}

export function createHandlerTable(session: ShellSession, policy: SenderPolicy): HandlerTable {
  const handlers = handlersFor(session);
  const channels = Object.keys(SCHEMAS) as Channel[];
  return {
    channels,
    async invoke(channel, sender, args) {
      try {
        if (!(channels as readonly string[]).includes(channel)) throw new LockstepError('E_USAGE', `Unknown IPC channel "${channel}".`, { channel });
        if (!isTrustedSender(policy, sender)) {
          throw new LockstepError('E_NOT_PERMITTED', `The caller ${JSON.stringify(sender.url)} is not a Lockstep window; the call was refused.`, { channel });
        }
        const c = channel as Channel;
        const parsed = SCHEMAS[c].safeParse(args);
        if (!parsed.success) {
          const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(arguments)'}: ${i.message}`).join('; ');
          throw new LockstepError('E_USAGE', `Invalid arguments for ${channel}: ${issues}`, { channel });
        }
        const fn = handlers[c] as (...a: unknown[]) => Promise<unknown>;
        return { ok: true, value: await fn(...(parsed.data as unknown[])) };
      } catch (err) {
        return { ok: false, error: toLockstepError(err).toInfo() };
      }
    },
  };
}
