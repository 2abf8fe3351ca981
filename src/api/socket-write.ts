/**
 * WritePump: the writing side of a socket. `_write`/`_writev` hand bytes to
 * `connection.write()`, which takes only what the core's send buffer has
 * room for; the rest is kept and the stream's callback waits for the core's
 * 'writable' event. Memory is therefore bounded by the core's
 * `sendBufferSize` plus the stream's highWaterMark plus one chunk, and
 * `write()` returns false past it. `_final` is the half-close (FIN), sent
 * once connected.
 */
import type { Connection } from '../core/connection.js';
import { FAULT } from '../io/fault-capture.js';
import { streamDestroyed } from './close-errors.js';
import { endConnection, type ConnectionLink } from './socket-link.js';

const EMPTY = new Uint8Array(0);

export type StreamCallback = (err?: Error | null) => void;

/** A `write()`/`writev()` the core has not fully taken yet. */
interface PendingWrite {
  /** The chunks of this call. */
  chunks: Uint8Array[];
  /** Index of the first chunk not fully taken. */
  index: number;
  /** Bytes of that chunk already taken. */
  offset: number;
  /** The stream's callback: called once every byte was taken. */
  callback: StreamCallback;
}

export class WritePump {
  /** Our FIN was handed to the core. */
  finSent = false;
  /** Bytes accepted by the connection. */
  bytesWritten = 0;
  /** A write the core has not fully taken. */
  private pendingWrite: PendingWrite | null = null;
  /** `_final`'s callback, waiting for 'connect'. */
  private pendingFinal: StreamCallback | null = null;
  /** The bytes writeCall hands to the core. */
  private writing: Uint8Array = EMPTY;
  /** connection.write(this.writing), made once: no closure per write. */
  private readonly writeCall = (c: Connection): number => c.write(this.writing);

  /** `activity` is called when the core took bytes (it restarts the idle timer). */
  constructor(
    private readonly link: ConnectionLink,
    private readonly activity: () => void,
  ) {}

  /** `_write`/`_writev`: one call's chunks. */
  write(chunks: Uint8Array[], callback: StreamCallback): void {
    this.pendingWrite = { chunks, index: 0, offset: 0, callback };
    this.pushWrites();
  }

  /** A write is waiting for room in the core. */
  get hasPending(): boolean {
    return this.pendingWrite !== null;
  }

  /** A write or the FIN is waiting. */
  get waiting(): boolean {
    return this.pendingWrite !== null || this.pendingFinal !== null;
  }

  /** Hands the pending write to the core as far as its send buffer allows. */
  pushWrites(): void {
    const pending = this.pendingWrite;
    const link = this.link;
    if (pending === null || link.connection === null || !link.established || link.closeEvent !== null) return;
    let accepted = 0;
    while (pending.index < pending.chunks.length) {
      const chunk = pending.chunks[pending.index]!;
      const rest = pending.offset === 0 ? chunk : chunk.subarray(pending.offset);
      this.writing = rest;
      const n = link.run(this.writeCall);
      this.writing = EMPTY;
      // The connection failed: the write's callback gets its 'error'.
      if (n === FAULT) return;
      accepted += n;
      if (n < rest.length) {
        pending.offset += n;
        break;
      }
      pending.index++;
      pending.offset = 0;
    }
    if (accepted > 0) {
      this.bytesWritten += accepted;
      this.activity();
      link.touch();
    }
    if (pending.index === pending.chunks.length) {
      this.pendingWrite = null;
      pending.callback();
    }
  }

  /** `_final`: the FIN, once connected. */
  final(callback: StreamCallback): void {
    this.pendingFinal = callback;
    this.runFinal();
  }

  /** Sends our FIN once connected (every write was taken before _final runs). */
  runFinal(): void {
    const callback = this.pendingFinal;
    const link = this.link;
    if (callback === null || link.connection === null || !link.established) return;
    this.pendingFinal = null;
    if (link.closeEvent !== null) {
      callback(link.closeError ?? streamDestroyed());
      return;
    }
    if (link.run(endConnection) === FAULT) {
      // The connection failed: 'finish' never comes, _destroy fails the callback.
      this.pendingFinal = callback;
      return;
    }
    this.finSent = true;
    link.touch();
    callback();
  }

  /** Destroyed: the waiting write's and FIN's callbacks get `failure` (on the next tick). */
  fail(failure: Error | (() => Error)): void {
    const pending = this.pendingWrite;
    const final = this.pendingFinal;
    // Made only when a callback waits: an Error's stack costs a destroyed socket more than the rest of its teardown.
    if (pending === null && final === null) return;
    const error = typeof failure === 'function' ? failure() : failure;
    if (pending !== null) {
      this.pendingWrite = null;
      process.nextTick(pending.callback, error);
    }
    this.pendingFinal = null;
    if (final !== null) process.nextTick(final, error);
  }
}
