/**
 * The worker half of HashingWriter (hashingWriter.ts): appends slabs to the part file and feeds every byte, in order,
 * to one SHA-512. It runs on its own thread so the thread that reads the socket never waits for the hash — SHA-512 is
 * the most expensive step of a download (≈ 0.5–0.8 GB/s per core, against ≈ 1 GB/s for receiving on loopback), and on
 * a busy machine a second thread also gets its own share of the CPU. Messages are handled strictly in order, so a
 * reply to `sync` means every slab sent before it is hashed and on disk.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

export interface WorkerInit {
  file: string;
  /** Bytes of the existing part file to keep (and hash); anything after them is cut off. */
  keep: number;
}

export type ToWorker = { type: 'slab'; id: number; slab: ArrayBuffer; len: number } | { type: 'restart'; seq: number } | { type: 'sync'; seq: number } | { type: 'digest'; seq: number } | { type: 'close'; seq: number };

export type FromWorker =
  | { type: 'ready'; bytes: number }
  | { type: 'written'; id: number; bytes: number; slab: ArrayBuffer }
  | { type: 'done'; seq: number; bytes: number; digest?: string }
  | { type: 'failed'; id?: number; seq?: number; code: string; message: string; slab?: ArrayBuffer };

const READ_BLOCK = 4 * 1024 * 1024;

function start(port: NonNullable<typeof parentPort>, init: WorkerInit): void {
  let fd = -1;
  let hash = createHash('sha512');
  /** Bytes accepted: hashed, and written or queued for writing (the disk trails by at most a few slabs). */
  let position = 0;
  /** After a failed write nothing more is written: the part file must stay a prefix of what was received. */
  let broken: { code: string; message: string } | null = null;
  /**
   * Writes go to the thread pool one at a time, in order (so the part file is always a prefix, even after a kill),
   * while this thread already hashes the next slab. Control messages wait for the writes before them.
   */
  let writes: Promise<void> = Promise.resolve();

  const fail = (err: unknown, ref: { id?: number; seq?: number; slab?: ArrayBuffer }) => {
    const e = err as NodeJS.ErrnoException;
    broken ??= { code: e.code ?? 'EIO', message: e.message };
    refuse(ref);
  };
  /** Answers 'failed' after a write failure; a slab goes back to the main thread either way. */
  const refuse = (ref: { id?: number; seq?: number; slab?: ArrayBuffer }) => port.postMessage({ type: 'failed', ...ref, ...broken! } satisfies FromWorker, ref.slab ? [ref.slab] : []);

  const writeAll = (bytes: Uint8Array, at: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const step = (off: number) => {
        if (off === bytes.length) return resolve();
        fs.write(fd, bytes, off, bytes.length - off, at + off, (err, n) => (err ? reject(err) : step(off + n)));
      };
      step(0);
    });

  try {
    fd = fs.openSync(init.file, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o600);
    // Only cut when there is something to cut: on ext4 a truncate to 0 marks the file "replace via truncate"
    // (auto_da_alloc), and close() then starts writeback of the whole file — 40–80 ms for 200 MB measured in
    // bench/download, on every fresh download, for a file that was empty anyway.
    if (fs.fstatSync(fd).size !== init.keep) fs.ftruncateSync(fd, init.keep);
    // Resuming in a new process: the bytes already on disk are hashed once, here, off the receiving thread.
    const block = Buffer.allocUnsafe(Math.min(READ_BLOCK, Math.max(init.keep, 1)));
    while (position < init.keep) {
      const n = fs.readSync(fd, block, 0, Math.min(block.length, init.keep - position), position);
      if (n === 0) throw Object.assign(new Error(`${init.file} is shorter than ${init.keep} bytes`), { code: 'EIO' });
      hash.update(block.subarray(0, n));
      position += n;
    }
    port.postMessage({ type: 'ready', bytes: position } satisfies FromWorker);
  } catch (err) {
    fail(err, {});
  }

  const onSlab = (msg: ToWorker & { type: 'slab' }) => {
    const ref = { id: msg.id, slab: msg.slab };
    if (broken) return refuse(ref);
    const bytes = new Uint8Array(msg.slab, 0, msg.len);
    const at = position;
    position += msg.len;
    writes = writes.then(
      () =>
        broken
          ? refuse(ref)
          : writeAll(bytes, at).then(
              () => port.postMessage({ type: 'written', id: msg.id, bytes: at + msg.len, slab: msg.slab } satisfies FromWorker, [msg.slab]),
              (err: unknown) => fail(err, ref),
            ),
    );
    // Hashed before any write callback can run, so the slab can go back as soon as its write is done.
    hash.update(bytes);
  };

  /**
   * Control messages change the logical state (position, hash) at once — slabs after them count from there — and
   * answer once every write before them is on disk.
   */
  const onControl = (msg: Exclude<ToWorker, { type: 'slab' }>) => {
    let digest: string | undefined;
    if (msg.type === 'restart') {
      hash = createHash('sha512');
      position = 0;
    } else if (msg.type === 'digest') {
      digest = hash.copy().digest('base64');
    }
    const bytes = position;
    writes = writes.then(() => {
      if (broken && msg.type !== 'close') return refuse({ seq: msg.seq });
      try {
        if (msg.type === 'restart' && fs.fstatSync(fd).size > 0) fs.ftruncateSync(fd, 0);
        if (msg.type === 'close' && fd >= 0) {
          fs.closeSync(fd);
          fd = -1;
        }
        port.postMessage({ type: 'done', seq: msg.seq, bytes, ...(digest ? { digest } : {}) } satisfies FromWorker);
        if (msg.type === 'close') port.close();
      } catch (err) {
        fail(err, { seq: msg.seq });
      }
    });
  };

  port.on('message', (msg: ToWorker) => (msg.type === 'slab' ? onSlab(msg) : onControl(msg)));
}

if (parentPort) start(parentPort, workerData as WorkerInit);
