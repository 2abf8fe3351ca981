/**
 * MultipathSocket: one multipath connection as a `stream.Duplex`, made to
 * behave like `net.Socket` (members, events and close semantics). It wires
 * the stream to its parts, one module each:
 *
 * - socket-link.ts: the hold on the core connection (every call goes
 *   through its fault capture) and what is known of the connection's life;
 * - socket-read.ts: reading, pull-based, with the per-turn read budget;
 * - socket-write.ts: writing into the core's send buffer, and the FIN;
 * - socket-close.ts: destroy() as close(2) or an RST, the orphan's linger,
 *   and the error a closed connection ends the socket with
 *   (close-errors.ts maps the core's codes);
 * - socket-views.ts: stats(), paths and addresses;
 * - socket-idle.ts: setTimeout()'s idle timer;
 * - events.ts: the typed events.
 *
 * 'close' carries `hadError`, as net.Socket's does. Byte counters survive
 * destroy().
 */
import { Duplex } from 'node:stream';
import type { Connection } from '../core/connection.js';
import { DEFAULT_OPTIONS, type ConnectionOptions } from '../core/options.js';
import type { ConnectionEvent, PathInfo } from '../core/types.js';
import type { ClientLease } from '../io/client-endpoints.js';
import type { EndpointHandler, UdpEndpoint } from '../io/udp-endpoint.js';
import { FAULT, internalClosedEvent } from '../io/fault-capture.js';
import { applicationErrorCode, streamDestroyed, ERROR_CODE_DESTROYED, ERROR_CODE_FAILED, type ClosedEvent } from './close-errors.js';
import './events.js'; // the typed events, merged into the class
import { ConnectionLink, endConnection } from './socket-link.js';
import { ReadPump } from './socket-read.js';
import { WritePump } from './socket-write.js';
import { closedSocketError, destroysGracefully, ORPHAN_LINGER_MS } from './socket-close.js';
import { IdleTimer } from './socket-idle.js';
import { FirstPath, addressOf, familyOrUndefined, pathsOf, socketStats, type SocketStats } from './socket-views.js';
import { validateBoolean, validateIpAddress, validateNumber, validateOptionalFunction } from './validate.js';

export { ERROR_CODE_DESTROYED, ERROR_CODE_FAILED, MAX_APPLICATION_ERROR_CODE } from './close-errors.js';
export { ORPHAN_LINGER_MS } from './socket-close.js';
export { READ_TURN_BUDGET } from './socket-read.js';
export type { SocketStats } from './socket-views.js';

/** Options of the socket object itself (the connection options go to the core). */
export interface MultipathSocketOptions {
  /** Keep the writable side open after the peer ended its side. Default false. */
  allowHalfOpen?: boolean;
  /** The connection options in effect (for `stats().sendBufferSize`). */
  connectionOptions?: Partial<ConnectionOptions>;
}

export class MultipathSocket extends Duplex implements EndpointHandler {
  /** True until the handshake completes (or the socket is destroyed), like net.Socket. */
  connecting = true;
  /** The core connection, the endpoint driving it, and what is known of its life. */
  private readonly link = new ConnectionLink();
  /** Moves the core's bytes into the stream. */
  private readonly reader: ReadPump;
  /** Moves the stream's bytes into the core. */
  private readonly writer: WritePump;
  /** Destroyed without an error: the connection finishes in the background; what arrives is discarded. */
  private orphaned = false;
  /** Bounds an orphaned connection's wait for the peer's FIN. */
  private orphanTimer: NodeJS.Timeout | null = null;
  /** resetAndDestroy() was called: destroy() aborts. */
  private resetRequested = false;
  /** The first path seen (addresses stay readable after close). */
  private readonly firstPath: FirstPath;
  /** `sendBufferSize` in effect. */
  private readonly sendBufferSize: number;
  /** The configured keepAliveInterval (setKeepAlive(false) returns to it). */
  private readonly keepAliveInterval: number;
  /** Interval asked for by setKeepAlive() before the connection existed. */
  private keepAliveWanted: number | null = null;
  /** setTimeout()'s interval and timer. */
  private readonly idle = new IdleTimer(() => {
    if (!this.destroyed) this.emit('timeout');
  });

  constructor(options: MultipathSocketOptions = {}) {
    super({
      allowHalfOpen: options.allowHalfOpen ?? false,
      readableHighWaterMark: 64 * 1024,
      writableHighWaterMark: 64 * 1024,
      // 'close' is emitted by _destroy with hadError, as net.Socket does.
      emitClose: false,
    });
    const activity = (): void => this.idle.touch();
    this.reader = new ReadPump(this.link, this, activity);
    this.writer = new WritePump(this.link, activity);
    this.firstPath = new FirstPath(this.link);
    this.sendBufferSize = options.connectionOptions?.sendBufferSize ?? DEFAULT_OPTIONS.sendBufferSize;
    this.keepAliveInterval = options.connectionOptions?.keepAliveInterval ?? DEFAULT_OPTIONS.keepAliveInterval;
  }

  /** The core connection (tests reach it to inject faults). */
  private get connection(): Connection | null {
    return this.link.connection;
  }

  // ---- wiring (used by connect() and the server) ----

  /** @internal Binds this socket to its connection and the loop that drives it. */
  _attach(endpoint: UdpEndpoint, connection: Connection, lease: ClientLease | null): void {
    this.link.attach(endpoint, connection, lease);
    const interval = this.keepAliveWanted;
    if (interval !== null) this.link.run((c) => c.setKeepAliveInterval(interval));
    this.firstPath.note();
  }

  /** @internal The io loop behind this socket (tests use it to close one local address). */
  _endpoint(): UdpEndpoint | null {
    return this.link.endpoint;
  }

  /** EndpointHandler: a client endpoint never accepts. */
  accepted(connection: Connection): void {
    const refuse = (c: Connection): void => c.close(ERROR_CODE_FAILED, 'client endpoint');
    if (this.link.endpoint !== null) this.link.endpoint.run(connection, refuse);
    else refuse(connection);
  }

  /** EndpointHandler: this socket's endpoint core threw; it is closed, and so is the connection. */
  endpointFailed(err: Error): void {
    if (this.link.closeEvent === null) this.onClosed(internalClosedEvent(err));
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
      if (event.type === 'readable' || event.type === 'end') this.reader.discard();
      // Every byte and our FIN are delivered: waiting for the peer's FIN
      // need not keep the process alive (its exit would cost the peer nothing).
      if (event.type === 'finished') this.link.lease?.unref();
      return;
    }
    switch (event.type) {
      case 'connected':
        this.link.established = true;
        this.connecting = false;
        this.firstPath.note();
        this.idle.touch();
        this.writer.pushWrites();
        this.writer.runFinal();
        this.emit('connect');
        this.emit('ready');
        return;
      case 'readable':
        this.reader.pull();
        return;
      case 'writable':
        this.writer.pushWrites();
        return;
      case 'end':
        this.reader.peerEnded();
        return;
      case 'finished':
        return;
      case 'path-up':
        this.firstPath.note();
        if (!this.destroyed) this.emit('path-up', event.path);
        return;
      case 'path-down':
        if (!this.destroyed) this.emit('path-down', event.path, event.reason);
        return;
    }
  }

  // ---- the stream ----

  override _read(): void {
    this.reader.want();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error | null) => void): void {
    this.writer.write([chunk], callback);
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (err?: Error | null) => void): void {
    this.writer.write(
      chunks.map((c) => c.chunk),
      callback,
    );
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.writer.final(callback);
  }

  // ---- closing ----

  override _destroy(err: Error | null, callback: (err: Error | null) => void): void {
    this.connecting = false;
    this.idle.clear();
    const link = this.link;
    // Bytes the stream holds that never reached the connection (they are
    // dropped now): ending gracefully would let the peer take a truncated
    // stream for a whole one.
    const unsent = this.writableLength > 0 || this.writer.hasPending;
    this.writer.fail(err ?? link.closeError ?? streamDestroyed);
    if (link.connection !== null && link.closeEvent === null) {
      if (destroysGracefully(err, { unsent, resetRequested: this.resetRequested, established: link.established })) {
        // close(2) on a TCP socket: our FIN follows every byte written, and
        // the connection finishes in the background.
        if (!this.writer.finSent) {
          link.run(endConnection);
          this.writer.finSent = true;
        }
        this.orphaned = true;
        this.orphanTimer = setTimeout(this.abortOrphan, ORPHAN_LINGER_MS).unref();
        this.reader.discard();
      } else {
        const code = applicationErrorCode(err);
        const reason = err?.message ?? 'destroyed';
        link.run((c) => c.close(code, reason));
        link.touch();
      }
    }
    callback(err);
    // After the stream's own 'error' (queued by callback()): 'close' with hadError.
    process.nextTick(() => this.emit('close', err !== null));
  }

  /** An orphaned connection whose peer never finished: abort it. */
  private readonly abortOrphan = (): void => {
    this.orphanTimer = null;
    if (this.link.connection === null || this.link.closeEvent !== null) return;
    this.link.run((c) => c.close(ERROR_CODE_DESTROYED, 'the peer did not finish within the linger time'));
    this.link.touch();
  };

  /** The core closed the connection: no more events follow. */
  private onClosed(event: ClosedEvent): void {
    const link = this.link;
    link.closeEvent = event;
    this.connecting = false;
    if (this.orphanTimer !== null) clearTimeout(this.orphanTimer);
    this.orphanTimer = null;
    const error = closedSocketError(event, {
      established: link.established,
      orphaned: this.orphaned,
      drainAll: () => this.reader.drainAll(),
      stillWriting: () => !this.writer.finSent || this.writer.hasPending,
    });
    link.closeError = error;
    link.lease?.release();
    if (this.destroyed) return;
    if (error !== null) this.destroy(error);
    else if (this.writer.waiting) this.destroy(streamDestroyed());
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
    this.idle.set(timeout, !this.destroyed);
    return this;
  }

  /** The setTimeout() interval, or undefined when off (net.Socket's `timeout`). */
  get timeout(): number | undefined {
    return this.idle.ms > 0 ? this.idle.ms : undefined;
  }

  // ---- what net.Socket offers ----

  /** Bytes delivered to the application. Survives destroy(). */
  get bytesRead(): number {
    return this.reader.bytesRead;
  }

  /** Bytes accepted by the connection from write(). Survives destroy(). */
  get bytesWritten(): number {
    return this.writer.bytesWritten;
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
    return pathsOf(this.link);
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
    if (this.link.run((c) => c.setLocalBackup(localAddress, backup)) === FAULT) return false;
    this.link.touch();
    return true;
  }

  /**
   * The core's counters and this socket's, or null before the connection
   * exists. `state` reads 'closed' once the socket is closed, even while an
   * orphaned connection still delivers its last bytes in the background.
   */
  stats(): SocketStats | null {
    return socketStats(this.link, {
      closed: this.closed,
      bytesRead: this.reader.bytesRead,
      bytesWritten: this.writer.bytesWritten,
      sendBufferSize: this.sendBufferSize,
      writableLength: this.writableLength,
    });
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
    return this.firstPath.current()?.remoteAddress;
  }

  get remotePort(): number | undefined {
    return this.firstPath.current()?.remotePort;
  }

  get remoteFamily(): string | undefined {
    return familyOrUndefined(this.remoteAddress);
  }

  get localAddress(): string | undefined {
    return this.firstPath.current()?.localAddress;
  }

  get localPort(): number | undefined {
    return this.firstPath.current()?.localPort;
  }

  get localFamily(): string | undefined {
    return familyOrUndefined(this.localAddress);
  }

  /** The local address of the first path, as net.Socket's address(). */
  address(): { address: string; family: string; port: number } | Record<string, never> {
    return addressOf(this.firstPath.current());
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
    this.link.run((c) => c.setKeepAliveInterval(interval));
    return this;
  }

  /** Lets the process exit while this (client) socket is open. */
  unref(): this {
    this.link.lease?.unref();
    return this;
  }

  /** Undoes unref(). */
  ref(): this {
    this.link.lease?.ref();
    return this;
  }
}
