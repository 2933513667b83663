/**
 * Writes a download's bytes to its part file and computes their SHA-512 on a worker thread
 * (hashingWriterWorker.ts), so the thread that reads the socket (or the share) only copies bytes into slabs. Measured
 * in bench/download: with SHA-512 inline the receiving thread spent ≈ 0.35–0.45 CPU-s per 200 MB, with the worker
 * ≈ 0.15–0.25 — in Electron that thread is the app's main process, so the hash no longer competes with the UI.
 *
 * Bytes are copied (memcpy) into 2 MiB slabs whose ArrayBuffers are *transferred* to the worker and back — no second
 * copy, and no SharedArrayBuffer, whose element-wise copies V8 makes slower. A few slabs circulate; when all of them
 * are with the worker the caller is told to pause its source (`backlogged`), so memory stays bounded whatever the
 * server's pace. A partly filled slab is handed over after 250 ms anyway, so a crash or a kill of a slow
 * transfer loses little of what arrived.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import { LockstepError } from '../../contract/errors';
import { asarUnpackedPath } from '../../kernel/asarUnpacked';
import type { FromWorker, ToWorker, WorkerInit } from './hashingWriterWorker';

/** 2 MiB × 4 in flight (+1 filling): ≈ 10 MiB of slabs; 4 MiB slabs measured the same speed but up to 65 MB RSS growth. */
const SLAB = 2 * 1024 * 1024;
const SLABS = 4;
const FLUSH_AFTER_MS = 250;

export function diskError(code: string, message: string, dir: string): LockstepError {
  if (code === 'ENOSPC') return new LockstepError('E_DISK_FULL', `The disk holding ${dir} is full.`, { path: dir });
  return new LockstepError('E_INTERNAL', `Writing to ${dir} failed: ${message}`, { path: dir });
}

export class HashingWriter {
  private readonly free: ArrayBuffer[] = [];
  private current: Buffer | null = null;
  private filled = 0;
  private nextId = 0;
  private nextSeq = 0;
  private readonly pending = new Map<number, { resolve: (m: FromWorker & { type: 'done' }) => void; reject: (e: Error) => void }>();
  /** Ids of slabs the worker holds; their ArrayBuffers come back with its answer. */
  private readonly inFlight = new Set<number>();
  private flushTimer: NodeJS.Timeout | null = null;
  private drainListener: (() => void) | null = null;
  /** Set once the worker is gone (closed or crashed): later calls fail at once instead of waiting forever. */
  private gone = false;
  private closing: Promise<void> | null = null;
  /** Bytes accepted so far (kept prefix + appended), whether or not the worker has written them yet. */
  bytes = 0;
  /** The first write failure (E_DISK_FULL …); once set, nothing more is written. */
  error: LockstepError | null = null;

  private constructor(
    private readonly worker: Worker,
    private readonly dir: string,
  ) {
    worker.on('message', (m: FromWorker) => this.onMessage(m));
    worker.on('error', (err) => this.onFailure(new LockstepError('E_INTERNAL', `The download writer stopped: ${err.message}`)));
    worker.on('exit', () => this.onFailure(new LockstepError('E_INTERNAL', 'The download writer ended unexpectedly.')));
  }

  /** Opens `file`, keeping (and hashing) its first `keep` bytes and cutting off anything after them. */
  static async open(file: string, keep: number): Promise<HashingWriter> {
    // In the packaged app this file lies inside app.asar, which a Worker cannot read: the builder unpacks the script.
    const worker = new Worker(asarUnpackedPath(path.join(__dirname, 'hashingWriterWorker.js')), { workerData: { file, keep } satisfies WorkerInit });
    const writer = new HashingWriter(worker, path.dirname(file));
    try {
      await new Promise<void>((resolve, reject) => {
        worker.once('message', (m: FromWorker) => (m.type === 'ready' ? resolve() : reject(writer.error ?? new Error('the download writer did not start'))));
        worker.once('error', reject);
      });
    } catch (err) {
      await writer.close();
      throw err;
    }
    writer.bytes = keep;
    return writer;
  }

  /** True when every slab is with the worker: the caller should pause its source until `onDrain` fires. */
  get backlogged(): boolean {
    return this.inFlight.size >= SLABS;
  }

  onDrain(listener: (() => void) | null): void {
    this.drainListener = listener;
  }

  /** Copies `chunk` into the current slab; full slabs go to the worker at once. */
  append(chunk: Buffer): void {
    if (this.error) return;
    let off = 0;
    while (off < chunk.length) {
      if (!this.current) {
        // Normally a free slab; if the source delivered once more after being paused, one more joins the pool.
        this.current = Buffer.from(this.free.pop() ?? new ArrayBuffer(SLAB));
        this.flushTimer = setTimeout(() => this.submit(), FLUSH_AFTER_MS);
      }
      const n = Math.min(chunk.length - off, SLAB - this.filled);
      chunk.copy(this.current, this.filled, off, off + n);
      this.filled += n;
      off += n;
      if (this.filled === SLAB) this.submit();
    }
    this.bytes += chunk.length;
  }

  /** Hands the partly filled slab to the worker and waits until every byte accepted so far is hashed and on disk. */
  async flush(): Promise<void> {
    this.submit();
    await this.call('sync');
    if (this.error) throw this.error;
  }

  /** Empties the part file and starts a fresh hash (the server sent the whole file instead of the rest). */
  async restart(): Promise<void> {
    this.submit();
    await this.call('restart');
    this.bytes = 0;
  }

  /** Base64 SHA-512 of every byte accepted so far, once they are all on disk. */
  async digest(): Promise<string> {
    this.submit();
    const done = await this.call('digest');
    if (this.error) throw this.error;
    return done.digest!;
  }

  /** Closes the file and ends the worker; safe to call more than once and after a failure. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.flushTimer) clearTimeout(this.flushTimer);
      this.flushTimer = null;
      try {
        await this.call('close');
      } catch {
        // the worker is gone already; terminate below makes sure
      }
      this.gone = true;
      await this.worker.terminate();
    })();
    return this.closing;
  }

  private submit(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (!this.current || this.filled === 0) return;
    const slab = this.current.buffer as ArrayBuffer;
    const id = this.nextId++;
    this.inFlight.add(id);
    this.worker.postMessage({ type: 'slab', id, slab, len: this.filled } satisfies ToWorker, [slab]);
    this.current = null;
    this.filled = 0;
  }

  private call(type: 'sync' | 'restart' | 'digest' | 'close'): Promise<FromWorker & { type: 'done' }> {
    const seq = this.nextSeq++;
    if (this.gone) return Promise.reject(this.error ?? new LockstepError('E_INTERNAL', 'The download writer is closed.'));
    return new Promise((resolve, reject) => {
      this.pending.set(seq, { resolve, reject });
      this.worker.postMessage({ type, seq } satisfies ToWorker);
    });
  }

  private onMessage(m: FromWorker): void {
    if (m.type === 'written' || (m.type === 'failed' && m.id !== undefined)) {
      this.inFlight.delete(m.id!);
      // Slabs are reused, never dropped: allocating fresh slabs keeps the garbage collector busy.
      if (m.slab) this.free.push(m.slab);
    }
    if (m.type === 'failed') {
      this.error ??= diskError(m.code, m.message, this.dir);
      if (m.seq !== undefined) this.settle(m.seq, null);
    } else if (m.type === 'done') {
      this.settle(m.seq, m);
    }
    if (!this.backlogged) this.drainListener?.();
  }

  private settle(seq: number, m: (FromWorker & { type: 'done' }) | null): void {
    const p = this.pending.get(seq);
    this.pending.delete(seq);
    if (!p) return;
    if (m) p.resolve(m);
    else p.reject(this.error!);
  }

  private onFailure(err: LockstepError): void {
    if (this.gone) return;
    this.gone = true;
    if (!this.closing) this.error ??= err; // an exit during close() is the normal end

    for (const p of this.pending.values()) p.reject(err);
    this.pending.clear();
    this.drainListener?.();
  }
}

