/**
 * CPU time of the local PostgreSQL server the benchmark talks to: its postmaster plus every backend, including the
 * backends that already exited (their time is added to the postmaster's children's time once reaped). Linux /proc
 * only; null elsewhere or when the server is not on this machine. Lets the fleet figure say where the CPU went.
 */
import * as fs from 'node:fs';
import { Db } from '../../db/connection';

/** Clock ticks per second of /proc/<pid>/stat times (USER_HZ, 100 on Linux). */
const TICKS = 100;

function statOf(pid: number): { ppid: number; ticks: number } | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at its closing parenthesis.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) };
  } catch {
    return null;
  }
}

/** A reader of the server's CPU milliseconds so far, or null when its processes are not visible here. */
export async function serverCpu(db: Db): Promise<(() => number) | null> {
  if (!fs.existsSync('/proc/self/stat')) return null;
  const row = (await db.knex.raw('select pg_backend_pid() as pid')) as { rows?: Array<{ pid: number }> };
  const backend = row.rows?.[0]?.pid;
  const postmaster = backend ? statOf(backend)?.ppid : undefined;
  if (!postmaster || !statOf(postmaster)) return null;
  return () => {
    let ticks = statOf(postmaster)?.ticks ?? 0;
    for (const name of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(name)) continue;
      const s = statOf(Number(name));
      if (s && s.ppid === postmaster) ticks += s.ticks;
    }
    return (ticks * 1000) / TICKS;
  };
}
