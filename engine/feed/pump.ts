/**
 * Moves one response body (HTTP) or one file read (a feed folder, S21) into a HashingWriter, never past the signed
 * size: when the limit is reached the source is cut (`stop`) and whatever else it would send is never read. The
 * source is paused while every slab is with the writer's worker, so memory stays bounded. Resolves once every byte
 * taken is hashed and on disk — so a retry after a broken transfer asks for exactly the bytes that are missing.
 */
import type { Readable } from 'node:stream';
import { CancellationToken } from 'builder-util-runtime';
import { LockstepError } from '../../contract/errors';
import { HashingWriter } from './hashingWriter';

export interface PumpSource {
  stream: Readable;
  /** Cuts the source for good (destroys the request and its socket, or closes the file). */
  stop(): void;
}

export function cancelledError(): LockstepError {
  return new LockstepError('E_CANCELLED', 'The download was cancelled; it resumes where it stopped.');
}

/**
 * Watches the transfer's pace (transferPace.ts): called once the source flows, with the function that ends the
 * transfer with an error; returns the function that stops watching.
 */
export type PaceWatch = (fail: (err: Error) => void) => () => void;

export function pumpInto(source: PumpSource, writer: HashingWriter, limit: number, onChunk: (bytes: number) => void, token?: CancellationToken, watch?: PaceWatch): Promise<void> {
  const { stream } = source;
  return new Promise((resolve, reject) => {
    let done = false;
    let unwatch: (() => void) | undefined = undefined; // set once the listeners stand, read by finish()
    const finish = (err: Error | null) => {
      if (done) return;
      done = true;
      unwatch?.();
      token?.removeListener('cancel', onCancel);
      writer.onDrain(null);
      stream.removeListener('data', onData);
      // Whatever arrived is kept: the next attempt continues after it. A write failure wins over a network one.
      writer.flush().then(
        () => (err ? reject(err) : resolve()),
        (flushErr: unknown) => reject(flushErr),
      );
    };
    const onCancel = () => {
      finish(cancelledError()); // first, for the same reason as in onData: stop() reports an abort synchronously
      source.stop();
    };
    const onData = (chunk: Buffer) => {
      const room = limit - writer.bytes;
      const take = chunk.length > room ? chunk.subarray(0, room) : chunk;
      if (take.length > 0) {
        writer.append(take);
        onChunk(take.length);
      }
      // finish() before stop(): destroying the response emits 'aborted' synchronously (the last body chunk arrives
      // before llhttp marks the message complete), and that would otherwise turn every finished download into a
      // "closed mid-transfer" failure — a retry after retryDelayMs (1 s by default), or E_CONNECT with retries: 0.
      if (writer.error) {
        finish(writer.error);
        source.stop();
      } else if (writer.bytes >= limit) {
        finish(null);
        source.stop(); // hard stop at the signed size
      } else if (writer.backlogged) {
        stream.pause();
      }
    };
    writer.onDrain(() => {
      if (!done && stream.isPaused()) stream.resume();
    });
    token?.once('cancel', onCancel);
    stream.on('data', onData);
    stream.once('end', () => finish(null));
    stream.once('aborted', () => finish(new Error('the server closed the connection mid-transfer')));
    stream.on('error', (err) => finish(err)); // `on`: a second error after the first must not go unhandled
    stream.once('close', () => finish((stream as { complete?: boolean }).complete ? null : new Error('the transfer closed before its end')));
    unwatch = watch?.((err) => {
      finish(err); // first, as in onCancel: stop() reports an abort synchronously
      source.stop();
    });
  });
}
