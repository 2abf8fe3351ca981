/**
 * MultipathSocket: one multipath connection as a `stream.Duplex`, made to
 * behave like `net.Socket` (members, events and close semantics).
 *
 * - Writing: `_write`/`_writev` hand bytes to `connection.write()`, which
 *   takes only what the core's send buffer has room for; the rest is kept and
 *   the stream's callback waits for the core's 'writable' event. Memory is
 *   therefore bounded by the core's `sendBufferSize` plus the stream's
 *   highWaterMark plus one chunk, and `write()` returns false past it.
 * - Reading: pull-based. `_read` (or a 'readable' event while the stream
 *   wants data) moves `connection.read()` into `push()` until push refuses;
 *   bytes not read stay in the core and close its receive window, which
 *   stops the sender.
 * - `_final` is the half-close (FIN), after 'connect' if still connecting.
 * - `_destroy` is close(2) on a TCP socket: without an error, and with every
 *   written byte handed to the connection, the connection goes on in the
 *   background (the socket is "orphaned") until the peer has every byte and
 *   our FIN, and the peer sees a graceful end; 'close' is emitted at once.
 *   With an error (or bytes that never reached the connection, or
 *   resetAndDestroy()), the connection is aborted and the peer gets
 *   ECONNRESET.
 * - 'close' carries `hadError`, as net.Socket's does. Byte counters survive
 *   destroy().
 */
import { Duplex } from 'node:stream';
import type { Connection } from '../core/connection.js';
import { DEFAULT_OPTIONS, type ConnectionOptions } from '../core/options.js';
import type { ConnectionStats } from '../core/stats.js';
import type { ConnectionEvent, PathInfo } from '../core/types.js';
import type { ClientLease } from '../io/client-endpoints.js';
import type { EndpointHandler, UdpEndpoint } from '../io/udp-endpoint.js';
import { FAULT, internalClosedEvent, type Fault } from '../io/fault-capture.js';
import { familyOf } from '../io/interfaces.js';
import {
  applicationErrorCode,
  closeError,
  isLocalOnly,
  streamDestroyed,
  ERROR_CODE_DESTROYED,
  ERROR_CODE_FAILED,
  type ClosedEvent,
} from './close-errors.js';
import { MpudpError } from './errors.js';
import type { Listener, MultipathSocketEvents } from './events.js';
import { validateBoolean, validateIpAddress, validateNumber, validateOptionalFunction } from './validate.js';

export { ERROR_CODE_DESTROYED, ERROR_CODE_FAILED, MAX_APPLICATION_ERROR_CODE } from './close-errors.js';

/**
 * How long an orphaned connection (destroyed without an error, still
 * delivering its bytes and FIN) may wait for the peer's FIN before it is
 * aborted; Linux's tcp_fin_timeout for orphaned sockets is 60 s.
 */
export const ORPHAN_LINGER_MS = 60_000;

/**
 * Bytes a socket hands to its stream in one turn of the event loop before
 * it yields (setImmediate) and goes on: at 1 MiB a turn costs a few
 * milliseconds, so no reader blocks the loop for long, and goodput pays
 * one more turn per MiB.
 */
export const READ_TURN_BUDGET = 1024 * 1024;

/** What `socket.stats()` returns: the core's counters and the socket's own. */
export interface SocketStats extends ConnectionStats {
  /** Bytes handed to the application ('data'). */
  bytesRead: number;
  /** Bytes accepted by the connection from `write()`. */
  bytesWritten: number;
  /** Bytes held by the core's send buffer (written, not yet acknowledged). */
  sendBufferBytes: number;
  /** Capacity of that buffer (the `sendBufferSize` option). */
  sendBufferSize: number;
  /** Bytes waiting in the stream above the core (`writableLength`). */
  writableLength: number;
}

/** Options of the socket object itself (the connection options go to the core). */
export interface MultipathSocketOptions {
  /** Keep the writable side open after the peer ended its side. Default false. */
  allowHalfOpen?: boolean;
  /** The connection options in effect (for `stats().sendBufferSize`). */
  connectionOptions?: Partial<ConnectionOptions>;
}

/** A `write()`/`writev()` the core has not fully taken yet. */
interface PendingWrite {
  /** The chunks of this call. */
  chunks: Uint8Array[];
  /** Index of the first chunk not fully taken. */
  index: number;
  /** Bytes of that chunk already taken. */
  offset: number;
  /** The stream's callback: called once every byte was taken. */
  callback: (err?: Error | null) => void;
}

type Events = MultipathSocketEvents;

/** Typed events (events.ts); a 'data' listener may also take strings, for a socket after setEncoding(). */
export interface MultipathSocket {
  on(event: 'data', listener: (chunk: Buffer) => void): this;
  on(event: 'data', listener: (chunk: string) => void): this;
  on<K extends keyof Events>(event: K, listener: Listener<Events, K>): this;
  once(event: 'data', listener: (chunk: Buffer) => void): this;
  once(event: 'data', listener: (chunk: string) => void): this;
  once<K extends keyof Events>(event: K, listener: Listener<Events, K>): this;
  off(event: 'data', listener: (chunk: Buffer) => void): this;
  off(event: 'data', listener: (chunk: string) => void): this;
  off<K extends keyof Events>(event: K, listener: Listener<Events, K>): this;
  addListener(event: 'data', listener: (chunk: Buffer) => void): this;
  addListener(event: 'data', listener: (chunk: string) => void): this;
  addListener<K extends keyof Events>(event: K, listener: Listener<Events, K>): this;
  removeListener(event: 'data', listener: (chunk: Buffer) => void): this;
  removeListener(event: 'data', listener: (chunk: string) => void): this;
  removeListener<K extends keyof Events>(event: K, listener: Listener<Events, K>): this;
  prependListener(event: 'data', listener: (chunk: Buffer) => void): this;
  prependListener(event: 'data', listener: (chunk: string) => void): this;
  prependListener<K extends keyof Events>(event: K, listener: Listener<Events, K>): this;
  prependOnceListener(event: 'data', listener: (chunk: Buffer) => void): this;
  prependOnceListener(event: 'data', listener: (chunk: string) => void): this;
  prependOnceListener<K extends keyof Events>(event: K, listener: Listener<Events, K>): this;
  emit<K extends keyof Events>(event: K, ...args: Events[K]): boolean;
}

export class MultipathSocket extends Duplex implements EndpointHandler {
  /** True until the handshake completes (or the socket is destroyed), like net.Socket. */
  connecting = true;
  /** The core connection, once the local sockets are bound. */
  private connection: Connection | null = null;
  /** The io loop that drives the connection. */
  private endpoint: UdpEndpoint | null = null;
  /** Client: this connection's share of the process's client endpoint, given back when the connection ends. */
  private lease: ClientLease | null = null;
  /** The handshake completed. */
  private established = false;
  /** A write the core has not fully taken. */
  private pendingWrite: PendingWrite | null = null;
  /** `_final`'s callback, waiting for 'connect'. */
  private pendingFinal: ((err?: Error | null) => void) | null = null;
  /** Our FIN was handed to the core. */
  private finSent = false;
  /** The stream asked for data and push() has not refused since. */
  private wantRead = false;
  /** A call into the connection threw: its 'error' is on the way, and nothing more is read (never a clean EOF). */
  private coreFaulted = false;
  /** Inside pull() (re-entrancy guard). */
  private pulling = false;
  /** Bytes handed to the stream in this turn of the event loop (see READ_TURN_BUDGET). */
  private turnBytes = 0;
  /** The setImmediate that opens the next turn's budget is queued. */
  private turnQueued = false;
  /** The core reported the peer's FIN ('end'). */
  private remoteEnded = false;
  /** push(null) was called. */
  private pushedEof = false;
  /** Destroyed without an error: the connection finishes in the background; what arrives is discarded. */
  private orphaned = false;
  /** Bounds an orphaned connection's wait for the peer's FIN. */
  private orphanTimer: NodeJS.Timeout | null = null;
  /** resetAndDestroy() was called: destroy() aborts. */
  private resetRequested = false;
  /** The core's 'closed' event, once seen. */
  private closeEvent: ClosedEvent | null = null;
  /** The error derived from closeEvent, if any. */
  private closeError: Error | null = null;
  /** Bytes pushed to the application. */
  private bytesReadCount = 0;
  /** Bytes accepted by the connection. */
  private bytesWrittenCount = 0;
  /** The first path seen (addresses stay readable after close). */
  private firstPath: PathInfo | null = null;
  /** `sendBufferSize` in effect. */
  private readonly sendBufferSize: number;
  /** The configured keepAliveInterval (setKeepAlive(false) returns to it). */
  private readonly keepAliveInterval: number;
  /** Interval asked for by setKeepAlive() before the connection existed. */
  private keepAliveWanted: number | null = null;
  /** setTimeout()'s interval (0: off) and its timer. */
  private idleMs = 0;
  private idleTimer: NodeJS.Timeout | null = null;

  constructor(options: MultipathSocketOptions = {}) {
    super({
      allowHalfOpen: options.allowHalfOpen ?? false,
      readableHighWaterMark: 64 * 1024,
      writableHighWaterMark: 64 * 1024,
      // 'close' is emitted by _destroy with hadError, as net.Socket does.
      emitClose: false,
    });
    this.sendBufferSize = options.connectionOptions?.sendBufferSize ?? DEFAULT_OPTIONS.sendBufferSize;
    this.keepAliveInterval = options.connectionOptions?.keepAliveInterval ?? DEFAULT_OPTIONS.keepAliveInterval;
  }

  // ---- wiring (used by connect() and the server) ----

  /** @internal Binds this socket to its connection and the loop that drives it. */
  _attach(endpoint: UdpEndpoint, connection: Connection, lease: ClientLease | null): void {
    this.endpoint = endpoint;
    this.connection = connection;
    this.lease = lease;
    const interval = this.keepAliveWanted;
    if (interval !== null) this.run((c) => c.setKeepAliveInterval(interval));
    this.noteFirstPath();
  }

  /**
   * Every call into the connection goes through here: if the core throws,
   * the connection alone ends with ERR_MPUDP_INTERNAL (its 'error' follows
   * on the next flush) and FAULT comes back (src/io/fault-capture.ts).
   */
  private run<T>(fn: (connection: Connection) => T): T | Fault {
    const connection = this.connection;
    const endpoint = this.endpoint;
    if (connection === null || endpoint === null) return FAULT;
    const result = endpoint.run(connection, fn);
    if (result === FAULT) this.coreFaulted = true;
    return result;
  }

  /** @internal The io loop behind this socket (tests use it to close one local address). */
  _endpoint(): UdpEndpoint | null {
    return this.endpoint;
  }

  /** EndpointHandler: a client endpoint never accepts. */
  accepted(connection: Connection): void {
    const refuse = (c: Connection): void => c.close(ERROR_CODE_FAILED, 'client endpoint');
    if (this.endpoint !== null) this.endpoint.run(connection, refuse);
    else refuse(connection);
  }

  /** EndpointHandler: this socket's endpoint core threw; it is closed, and so is the connection. */
  endpointFailed(err: Error): void {
    if (this.closeEvent === null) this.onClosed(internalClosedEvent(err));
  }

  /** EndpointHandler: an event of this socket's connection. */
  connectionEvent(_connection: Connection, event: ConnectionEvent): void {
    this._handleEvent(event);
  }

  /** @internal One event of the core connection. */
  _handleEvent(event: ConnectionEvent): void {
    if (event.type === 'closed') {
      this.onClosed(event);
      return;
    }
    if (this.orphaned) {
      // Nobody reads any more: what arrives is discarded, so the peer's FIN
      // can be reached and the connection can close gracefully.
      if (event.type === 'readable' || event.type === 'end') this.discard();
      // Every byte and our FIN are delivered: waiting for the peer's FIN
      // need not keep the process alive (its exit would cost the peer nothing).
      if (event.type === 'finished') this.lease?.unref();
      return;
    }
    switch (event.type) {
      case 'connected':
        this.established = true;
        this.connecting = false;
        this.noteFirstPath();
        this.touchTimer();
        this.pushWrites();
        this.runFinal();
        this.emit('connect');
        this.emit('ready');
        return;
      case 'readable':
        this.pull();
        return;
      case 'writable':
        this.pushWrites();
        return;
      case 'end':
        this.remoteEnded = true;
        this.pull();
        return;
      case 'finished':
        return;
      case 'path-up':
        this.noteFirstPath();
        if (!this.destroyed) this.emit('path-up', event.path);
        return;
      case 'path-down':
        if (!this.destroyed) this.emit('path-down', event.path, event.reason);
        return;
    }
  }

  // ---- reading ----

  override _read(): void {
    this.wantRead = true;
    this.pull();
  }

  /**
   * Moves bytes from the core into the stream while it wants them, up to
   * READ_TURN_BUDGET per turn of the event loop; the rest goes up in the
   * next turn.
   */
  private pull(): void {
    const connection = this.connection;
    if (connection === null || this.pulling || this.pushedEof || this.coreFaulted) return;
    if (this.turnBytes >= READ_TURN_BUDGET) return; // the queued turn goes on
    this.pulling = true;
    let delivered = 0;
    const endBefore = connection.endEmitted;
    try {
      while (this.wantRead && this.turnBytes < READ_TURN_BUDGET) {
        const chunk = this.run(readChunk);
        // A fault is never a clean EOF: the connection's 'error' follows.
        if (chunk === FAULT) break;
        if (chunk === null) {
          if (this.remoteEnded) {
            this.pushedEof = true;
            this.push(null);
          }
          break;
        }
        // What else the core holds, up to what the stream takes before it
        // says stop, goes up in the same push: one push and one 'data' per
        // batch of datagrams instead of one per datagram. The pieces are
        // copied once, into the one buffer.
        const room = this.readableHighWaterMark - this.readableLength;
        let total = chunk.length;
        let pieces: Uint8Array[] | null = null;
        // One closure per batch, not per piece; through the capture like every read.
        const readRest = (c: Connection): Uint8Array | null => c.read(room - total);
        let faulted = false;
        while (total < room) {
          const next = this.run(readRest);
          if (next === FAULT) {
            // What was read is the application's; nothing more (the 'error' follows).
            faulted = true;
            break;
          }
          if (next === null) break;
          (pieces ??= [chunk]).push(next);
          total += next.length;
        }
        if (faulted) this.wantRead = false; // and pull() reads no more (coreFaulted)
        this.bytesReadCount += total;
        delivered += total;
        this.spendTurn(total);
        this.touchTimer();
        const out = pieces === null ? Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength) : Buffer.concat(pieces, total);
        if (!this.push(out)) this.wantRead = false;
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
    if (delivered > 0 || connection.endEmitted !== endBefore) this.endpoint?.touch(connection);
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
    if (this.turnQueued) return;
    this.turnQueued = true;
    setImmediate(() => {
      this.turnQueued = false;
      this.turnBytes = 0;
      if (this.wantRead) this.pull();
    });
  }

  /** Orphaned: reads and drops everything the core holds (opening the window, reaching the FIN). */
  private discard(): void {
    const connection = this.connection;
    if (connection === null) return;
    for (let chunk = this.run(readChunk); chunk !== null && chunk !== FAULT; chunk = this.run(readChunk));
    this.endpoint?.touch(connection);
  }

  // ---- writing ----

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.pendingWrite = { chunks: [chunk], index: 0, offset: 0, callback };
    this.pushWrites();
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (err?: Error | null) => void): void {
    this.pendingWrite = { chunks: chunks.map((c) => c.chunk), index: 0, offset: 0, callback };
    this.pushWrites();
  }

  /** Hands the pending write to the core as far as its send buffer allows. */
  private pushWrites(): void {
    const pending = this.pendingWrite;
    const connection = this.connection;
    if (pending === null || connection === null || !this.established || this.closeEvent !== null) return;
    let accepted = 0;
    while (pending.index < pending.chunks.length) {
      const chunk = pending.chunks[pending.index]!;
      const rest = pending.offset === 0 ? chunk : chunk.subarray(pending.offset);
      const n = this.run((c) => c.write(rest));
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
      this.bytesWrittenCount += accepted;
      this.touchTimer();
      this.endpoint?.touch(connection);
    }
    if (pending.index === pending.chunks.length) {
      this.pendingWrite = null;
      pending.callback();
    }
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.pendingFinal = callback;
    this.runFinal();
  }

  /** Sends our FIN once connected (every write was taken before _final runs). */
  private runFinal(): void {
    const callback = this.pendingFinal;
    const connection = this.connection;
    if (callback === null || connection === null || !this.established) return;
    this.pendingFinal = null;
    if (this.closeEvent !== null) {
      callback(this.closeError ?? streamDestroyed());
      return;
    }
    if (this.run(endConnection) === FAULT) {
      // The connection failed: 'finish' never comes, _destroy fails the callback.
      this.pendingFinal = callback;
      return;
    }
    this.finSent = true;
    this.endpoint?.touch(connection);
    callback();
  }

  // ---- closing ----

  override _destroy(err: Error | null, callback: (err: Error | null) => void): void {
    this.connecting = false;
    this.clearTimer();
    // Bytes the stream holds that never reached the connection (they are
    // dropped now): ending gracefully would let the peer take a truncated
    // stream for a whole one.
    const unsent = this.writableLength > 0 || this.pendingWrite !== null;
    const failure = err ?? this.closeError ?? streamDestroyed();
    const pending = this.pendingWrite;
    if (pending !== null) {
      this.pendingWrite = null;
      process.nextTick(pending.callback, failure);
    }
    const final = this.pendingFinal;
    this.pendingFinal = null;
    const connection = this.connection;
    if (connection !== null && this.closeEvent === null) {
      const graceful = (err === null || isLocalOnly(err)) && !unsent && !this.resetRequested && this.established;
      if (graceful) {
        // close(2) on a TCP socket: our FIN follows every byte written, and
        // the connection finishes in the background.
        if (!this.finSent) {
          this.run(endConnection);
          this.finSent = true;
        }
        this.orphaned = true;
        this.orphanTimer = setTimeout(this.abortOrphan, ORPHAN_LINGER_MS).unref();
        this.discard();
      } else {
        const code = applicationErrorCode(err);
        const reason = err?.message ?? 'destroyed';
        this.run((c) => c.close(code, reason));
        this.endpoint?.touch(connection);
      }
    }
    if (final !== null) process.nextTick(final, failure);
    callback(err);
    // After the stream's own 'error' (queued by callback()): 'close' with hadError.
    process.nextTick(() => this.emit('close', err !== null));
  }

  /** An orphaned connection whose peer never finished: abort it. */
  private readonly abortOrphan = (): void => {
    this.orphanTimer = null;
    const connection = this.connection;
    if (connection === null || this.closeEvent !== null) return;
    this.run((c) => c.close(ERROR_CODE_DESTROYED, 'the peer did not finish within the linger time'));
    this.endpoint?.touch(connection);
  };

  /** The core closed the connection: no more events follow. */
  private onClosed(event: ClosedEvent): void {
    this.closeEvent = event;
    this.connecting = false;
    if (this.orphanTimer !== null) clearTimeout(this.orphanTimer);
    this.orphanTimer = null;
    let error: Error | null = closeError(event, this.established);
    if (event.code === 'NO_ERROR' && event.remote && !this.orphaned) {
      // The peer's graceful close: every byte it sent (and its FIN) is ours already.
      if (!this.drainAll()) {
        // Reading them failed: never a clean EOF.
        error = closeError(internalClosedEvent(new Error('reading the last bytes failed')), true);
      } else if (!this.finSent || this.pendingWrite !== null) {
        error = new MpudpError('ECONNRESET', 'read ECONNRESET: the peer closed the connection while this side was still writing', {
          errorCode: 0,
          closeCode: event.code,
        });
      }
    }
    this.closeError = error;
    this.lease?.release();
    if (this.destroyed) return;
    if (error !== null) this.destroy(error);
    else if (this.pendingWrite !== null || this.pendingFinal !== null) this.destroy(streamDestroyed());
  }

  /** After a graceful close: every byte the core still holds, then EOF; false if reading them failed (no EOF then). */
  private drainAll(): boolean {
    const connection = this.connection;
    if (connection === null || this.pushedEof) return true;
    for (let chunk = this.run(readChunk); chunk !== null; chunk = this.run(readChunk)) {
      if (chunk === FAULT) return false;
      this.bytesReadCount += chunk.length;
      this.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    }
    this.pushedEof = true;
    this.push(null);
    return true;
  }

  /**
   * Ends our side, then destroys the socket once every written byte was
   * handed to the connection (net.Socket's destroySoon()).
   */
  destroySoon(): void {
    if (this.writable) this.end();
    if (this.writableFinished) this.destroy();
    else this.once('finish', () => this.destroy());
  }

  /**
   * Aborts the connection: the peer gets ECONNRESET at once, whatever was
   * written and not yet delivered is dropped (net.Socket's
   * resetAndDestroy(), an RST). This side closes without an error.
   */
  resetAndDestroy(): this {
    this.resetRequested = true;
    this.destroy();
    return this;
  }

  // ---- timers ----

  /**
   * Emits 'timeout' after `timeout` ms without a byte read or written, as
   * net.Socket does; the socket stays open (call destroy() in the listener
   * to close it). 0 turns it off. `callback` is added to 'timeout'.
   */
  setTimeout(timeout: number, callback?: () => void): this {
    validateNumber(timeout, 'timeout', 0, 2 ** 31 - 1);
    validateOptionalFunction(callback, 'callback');
    if (callback !== undefined) {
      if (timeout === 0) this.removeListener('timeout', callback);
      else this.once('timeout', callback);
    }
    this.idleMs = timeout;
    this.clearTimer();
    if (timeout > 0 && !this.destroyed) this.idleTimer = setTimeout(this.onIdle, timeout).unref();
    return this;
  }

  /** The setTimeout() interval, or undefined when off (net.Socket's `timeout`). */
  get timeout(): number | undefined {
    return this.idleMs > 0 ? this.idleMs : undefined;
  }

  private readonly onIdle = (): void => {
    if (!this.destroyed) this.emit('timeout');
  };

  /** Activity restarts the setTimeout() interval (and re-arms it after a 'timeout', as in net). */
  private touchTimer(): void {
    this.idleTimer?.refresh();
  }

  private clearTimer(): void {
    if (this.idleTimer !== null) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  // ---- what net.Socket offers ----

  /** Bytes delivered to the application. Survives destroy(). */
  get bytesRead(): number {
    return this.bytesReadCount;
  }

  /** Bytes accepted by the connection from write(). Survives destroy(). */
  get bytesWritten(): number {
    return this.bytesWrittenCount;
  }

  /** Bytes written and not yet handed to the connection (net.Socket's deprecated alias of writableLength). */
  get bufferSize(): number {
    return this.writableLength;
  }

  /** True while not connected: before the handshake completed, and after destroy (as net.Socket). */
  get pending(): boolean {
    return this.connecting || this.destroyed || this.connection === null;
  }

  /** Every path of the connection, in any state (empty before the connection exists). */
  get paths(): PathInfo[] {
    const paths = this.run(listPaths);
    return paths === FAULT ? [] : paths;
  }

  /**
   * Makes the paths from one of this socket's local addresses backups (they
   * carry data only while no active path works) or active again; the peer is
   * told. Returns false before the connection exists or after it closed.
   */
  setBackup(localAddress: string, backup = true): boolean {
    validateIpAddress(localAddress, 'localAddress');
    validateBoolean(backup, 'backup');
    const connection = this.connection;
    if (connection === null || connection.isClosed) return false;
    if (this.run((c) => c.setLocalBackup(localAddress, backup)) === FAULT) return false;
    this.endpoint?.touch(connection);
    return true;
  }

  /**
   * The core's counters and this socket's, or null before the connection
   * exists. `state` reads 'closed' once the socket is closed, even while an
   * orphaned connection still delivers its last bytes in the background.
   */
  stats(): SocketStats | null {
    const connection = this.connection;
    if (connection === null) return null;
    const writable = connection.isClosed ? this.sendBufferSize : connection.writableBytes;
    const core = this.run(connectionStats);
    if (core === FAULT) return null;
    return {
      ...core,
      state: this.closed ? 'closed' : core.state,
      bytesRead: this.bytesReadCount,
      bytesWritten: this.bytesWrittenCount,
      sendBufferBytes: Math.max(0, this.sendBufferSize - writable),
      sendBufferSize: this.sendBufferSize,
      writableLength: this.writableLength,
    };
  }

  /** net.Socket's `readyState`. */
  get readyState(): 'opening' | 'open' | 'readOnly' | 'writeOnly' | 'closed' {
    if (this.connecting) return 'opening';
    if (this.readable && this.writable) return 'open';
    if (this.readable) return 'readOnly';
    if (this.writable) return 'writeOnly';
    return 'closed';
  }

  get remoteAddress(): string | undefined {
    return this.currentFirstPath()?.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.currentFirstPath()?.remotePort;
  }

  get remoteFamily(): string | undefined {
    const address = this.remoteAddress;
    return address === undefined ? undefined : (familyOf(address) ?? undefined);
  }

  get localAddress(): string | undefined {
    return this.currentFirstPath()?.localAddress;
  }

  get localPort(): number | undefined {
    return this.currentFirstPath()?.localPort;
  }

  get localFamily(): string | undefined {
    const address = this.localAddress;
    return address === undefined ? undefined : (familyOf(address) ?? undefined);
  }

  /** The local address of the first path, as net.Socket's address(). */
  address(): { address: string; family: string; port: number } | Record<string, never> {
    const path = this.currentFirstPath();
    if (path === null) return {};
    return { address: path.localAddress, family: familyOf(path.localAddress) ?? 'IPv4', port: path.localPort };
  }

  /**
   * For net.Socket compatibility. There is no Nagle algorithm to turn off:
   * a write is sent as soon as congestion control and pacing allow.
   */
  setNoDelay(_noDelay = true): this {
    return this;
  }

  /**
   * net.Socket's keep-alive, mapped onto path probing: every path that
   * carries no data is probed every `keepAliveInterval` ms anyway (that is
   * how a dead path is found). `setKeepAlive(true, delay)` probes at least
   * every `delay` ms (it can make probing more frequent, never less);
   * `setKeepAlive(false)` returns to the configured `keepAliveInterval`.
   */
  setKeepAlive(enable = false, initialDelay = 0): this {
    validateNumber(initialDelay, 'initialDelay', 0, 2 ** 31 - 1);
    let interval = this.keepAliveInterval;
    if (enable && initialDelay > 0) interval = Math.min(interval, Math.max(10, initialDelay));
    this.keepAliveWanted = interval;
    this.run((c) => c.setKeepAliveInterval(interval));
    return this;
  }

  /** Lets the process exit while this (client) socket is open. */
  unref(): this {
    this.lease?.unref();
    return this;
  }

  /** Undoes unref(). */
  ref(): this {
    this.lease?.ref();
    return this;
  }

  private noteFirstPath(): void {
    const paths = this.run(listPaths);
    const first = paths === FAULT ? undefined : paths[0];
    if (first !== undefined) this.firstPath = first;
  }

  private currentFirstPath(): PathInfo | null {
    if (this.connection !== null && this.closeEvent === null) this.noteFirstPath();
    return this.firstPath;
  }
}

// The calls into the connection that need no argument (no closure per call).
const readChunk = (c: Connection): Uint8Array | null => c.read();
const endConnection = (c: Connection): void => c.end();
const listPaths = (c: Connection): PathInfo[] => c.paths();
const connectionStats = (c: Connection): ConnectionStats => c.stats();
