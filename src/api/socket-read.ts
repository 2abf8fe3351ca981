/**
 * ReadPump: the reading side of a socket. Pull-based: the stream's `_read`
 * (or the core's 'readable' while the stream wants data) moves
 * `connection.read()` into `push()` until push refuses; bytes not read stay
 * in the core and close its receive window, which stops the sender. At most
 * READ_TURN_BUDGET bytes go up per turn of the event loop.
 */
import type { Connection } from '../core/connection.js';
import { FAULT } from '../io/fault-capture.js';
import { readChunk, type ConnectionLink } from './socket-link.js';

/**
 * Bytes a socket hands to its stream in one turn of the event loop before
 * it yields (setImmediate) and goes on: at 1 MiB a turn costs a few
 * milliseconds, so no reader blocks the loop for long, and goodput pays
 * one more turn per MiB. A turn is counted from one flush of the endpoint
 * to the next (each flush runs from its own setImmediate or timer), so a
 * reader that stays under the budget costs no setImmediate: before, every
 * batch read queued one, two per request/response round trip.
 */
export const READ_TURN_BUDGET = 1024 * 1024;

/** The part of the Readable the pump feeds. */
export interface ReadTarget {
  push(chunk: Buffer | null): boolean;
  readonly readableHighWaterMark: number;
  readonly readableLength: number;
}

export class ReadPump {
  /** The stream asked for data and push() has not refused since. */
  wantRead = false;
  /** The core reported the peer's FIN ('end'). */
  remoteEnded = false;
  /** push(null) was called. */
  pushedEof = false;
  /** Bytes pushed to the application. */
  bytesRead = 0;
  /** Inside pull() (re-entrancy guard). */
  private pulling = false;
  /** Bytes handed to the stream in this turn of the event loop (see READ_TURN_BUDGET). */
  private turnBytes = 0;
  /** The setImmediate that opens the next turn's budget is queued. */
  private turnQueued = false;
  /** The endpoint's flush count when turnBytes started counting. */
  private turnFlush = -1;
  /** Bytes readRestCall may still take in this batch. */
  private batchRoom = 0;
  /** connection.read(this.batchRoom), made once: no closure per batch. */
  private readonly readRestCall = (c: Connection): Uint8Array | null => c.read(this.batchRoom);

  /** `activity` is called for every batch read (it restarts the idle timer). */
  constructor(
    private readonly link: ConnectionLink,
    private readonly stream: ReadTarget,
    private readonly activity: () => void,
  ) {}

  /** The stream's `_read`: it wants data. */
  want(): void {
    this.wantRead = true;
    this.pull();
  }

  /** The core reported the peer's FIN. */
  peerEnded(): void {
    this.remoteEnded = true;
    this.pull();
  }

  /**
   * Moves bytes from the core into the stream while it wants them, up to
   * READ_TURN_BUDGET per turn of the event loop; the rest goes up in the
   * next turn.
   */
  pull(): void {
    const link = this.link;
    const connection = link.connection;
    if (connection === null || this.pulling || this.pushedEof || link.faulted) return;
    const flush = link.endpoint?.flushCount ?? -1;
    if (flush !== this.turnFlush && !this.turnQueued) {
      // A flush ran since the last count: a new turn of the event loop.
      this.turnFlush = flush;
      this.turnBytes = 0;
    }
    if (this.turnBytes >= READ_TURN_BUDGET) return; // the queued turn goes on
    this.pulling = true;
    let delivered = 0;
    const endBefore = connection.endEmitted;
    try {
      while (this.wantRead && this.turnBytes < READ_TURN_BUDGET) {
        const chunk = link.run(readChunk);
        // A fault is never a clean EOF: the connection's 'error' follows.
        if (chunk === FAULT) break;
        if (chunk === null) {
          if (this.remoteEnded) {
            this.pushedEof = true;
            this.stream.push(null);
          }
          break;
        }
        // What else the core holds, up to what the stream takes before it
        // says stop, goes up in the same push: one push and one 'data' per
        // batch of datagrams instead of one per datagram. The pieces are
        // copied once, into the one buffer.
        const room = this.stream.readableHighWaterMark - this.stream.readableLength;
        let total = chunk.length;
        let pieces: Uint8Array[] | null = null;
        let faulted = false;
        while (total < room) {
          this.batchRoom = room - total;
          const next = link.run(this.readRestCall);
          if (next === FAULT) {
            // What was read is the application's; nothing more (the 'error' follows).
            faulted = true;
            break;
          }
          if (next === null) break;
          (pieces ??= [chunk]).push(next);
          total += next.length;
        }
        if (faulted) this.wantRead = false; // and pull() reads no more (link.faulted)
        this.bytesRead += total;
        delivered += total;
        this.spendTurn(total);
        this.activity();
        const out = pieces === null ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : Buffer.concat(pieces, total);
        if (!this.stream.push(out)) this.wantRead = false;
      }
    } finally {
      this.pulling = false;
    }
    // Reading opened the receive window, or reached the peer's FIN and closed
    // the connection gracefully (read() returning null can be what reaches
    // the FIN): either way the core has news to send, so poll it. A pull
    // that found nothing and changed nothing (the stream asking for more
    // right after a push) asks for no flush: that was one more turn of the
    // event loop per datagram received.
    if (delivered > 0 || connection.endEmitted !== endBefore) link.touch();
  }

  /**
   * Counts bytes against this turn's read budget. A flowing stream reads
   * again from inside push() ('data', then _read), so one 'readable' could
   * hand the whole receive window (64 MiB at most) to the application in
   * one turn: 91–181 ms of CPU at 64 MiB (bench/reassembly-stall.ts), every
   * timer and every other connection waiting behind it.
   */
  private spendTurn(bytes: number): void {
    this.turnBytes += bytes;
    if (this.turnQueued || this.turnBytes < READ_TURN_BUDGET) return;
    this.turnQueued = true;
    setImmediate(() => {
      this.turnQueued = false;
      this.turnBytes = 0;
      if (this.wantRead) this.pull();
    });
  }

  /** Orphaned: reads and drops everything the core holds (opening the window, reaching the FIN). */
  discard(): void {
    if (this.link.connection === null) return;
    for (let chunk = this.link.run(readChunk); chunk !== null && chunk !== FAULT; chunk = this.link.run(readChunk));
    this.link.touch();
  }

  /** After a graceful close: every byte the core still holds, then EOF; false if reading them failed (no EOF then). */
  drainAll(): boolean {
    if (this.link.connection === null || this.pushedEof) return true;
    for (let chunk = this.link.run(readChunk); chunk !== null; chunk = this.link.run(readChunk)) {
      if (chunk === FAULT) return false;
      this.bytesRead += chunk.length;
      this.stream.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    }
    this.pushedEof = true;
    this.stream.push(null);
    return true;
  }
}
