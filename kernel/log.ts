/**
 * The rotating update log (S24): JSON lines, rotated by size, the last N files kept. Secrets never reach it: fields
 * whose names look like secrets are replaced before writing, whatever a caller passes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  log(level: LogLevel, event: string, fields?: Record<string, unknown>): void;
  info(event: string, fields?: Record<string, unknown>): void;
  warn(event: string, fields?: Record<string, unknown>): void;
  error(event: string, fields?: Record<string, unknown>): void;
}

const SECRET_FIELD = /pass(word)?|secret|token|credential|private.?key/i;

function redact(value: unknown, depth = 0): unknown {
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_FIELD.test(k) ? '[redacted]' : redact(v, depth + 1);
  return out;
}

/** The level shortcuts, written once; a logger only says how an entry is recorded. */
abstract class BaseLogger implements Logger {
  abstract log(level: LogLevel, event: string, fields?: Record<string, unknown>): void;
  info(event: string, fields?: Record<string, unknown>): void {
    this.log('info', event, fields);
  }
  warn(event: string, fields?: Record<string, unknown>): void {
    this.log('warn', event, fields);
  }
  error(event: string, fields?: Record<string, unknown>): void {
    this.log('error', event, fields);
  }
}

export class RotatingFileLogger extends BaseLogger {
  private size = -1;

  constructor(
    private readonly file: string,
    private readonly maxBytes = 5 * 1024 * 1024,
    private readonly keep = 5,
  ) {
    super();
    fs.mkdirSync(path.dirname(file), { recursive: true });
  }

  log(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
    const line = JSON.stringify({ at: new Date().toISOString(), level, event, ...(redact(fields) as object) }) + '\n';
    try {
      if (this.size < 0) this.size = fs.existsSync(this.file) ? fs.statSync(this.file).size : 0;
      if (this.size + line.length > this.maxBytes && this.size > 0) this.rotate();
      // appendFileSync: each line lands whole before the call returns, so a crash loses at most the line being written.
      fs.appendFileSync(this.file, line, { mode: 0o640 });
      this.size += Buffer.byteLength(line);
    } catch {
      // Logging must never break an update; the audit table still records the action.
    }
  }


  /** file → file.1 → … → file.<keep>; the oldest beyond that is dropped. */
  private rotate(): void {
    const oldest = `${this.file}.${this.keep}`;
    if (fs.existsSync(oldest)) fs.rmSync(oldest);
    for (let i = this.keep - 1; i >= 1; i--) {
      const from = `${this.file}.${i}`;
      if (fs.existsSync(from)) fs.renameSync(from, `${this.file}.${i + 1}`);
    }
    fs.renameSync(this.file, `${this.file}.1`);
    this.size = 0;
  }
}

/** Collects entries in memory (tests inspect what would have been logged). */
export class MemoryLogger extends BaseLogger {
  readonly entries: Array<{ level: LogLevel; event: string; fields: Record<string, unknown> }> = [];
  log(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
    this.entries.push({ level, event, fields: redact(fields) as Record<string, unknown> });
  }
}
