/**
 * MultipathSocket: one multipath connection as a `stream.Duplex`, made to
 * feel like `net.Socket`.
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
 *   `_destroy` aborts (CLOSE with an error code) unless both directions are
 *   done, in which case 'close' waits for the core's graceful close.
 * - Byte counters survive destroy().
 */
import { Duplex } from 'node:stream';
import type { Connection } from '../core/connection.js';
import { DEFAULT_OPTIONS, type ConnectionOptions } from '../core/options.js';
import type { ConnectionStats } from '../core/stats.js';
import type { ConnectionEvent, PathInfo } from '../core/types.js';
import type { EndpointHandler, UdpEndpoint } from '../io/udp-endpoint.js';
import { familyOf } from '../io/interfaces.js';
import { validateBoolean, validateIpAddress } from './validate.js';
import { MpudpError, type MpudpErrorCode } from './errors.js';

type ClosedEvent = Extract<ConnectionEvent, { type: 'closed' }>;

/** Application error code sent by `destroy()` without an error. */
export const ERROR_CODE_DESTROYED = 1;
/** Application error code sent by `destroy(err)` when `err.errorCode` is not set. */
export const ERROR_CODE_FAILED = 2;
/** Largest application error code (`err.errorCode` of `destroy(err)`). */
export const MAX_APPLICATION_ERROR_CODE = 0xffff_ffff;

/** The core's close codes (src/core/errors.ts) and what the application sees. */
const CLOSE_CODE_ERRORS: Record<string, MpudpErrorCode | null> = {
  NO_ERROR: null,
  ERR_MPUDP_ABORTED: null,
  ERR_MPUDP_PEER_ABORTED: 'ERR_MPUDP_PEER_ABORTED',
  ERR_MPUDP_IDLE_TIMEOUT: 'ERR_MPUDP_IDLE_TIMEOUT',
  ERR_MPUDP_NO_WORKING_PATH: 'ERR_MPUDP_NO_WORKING_PATH',
  ERR_MPUDP_HANDSHAKE_TIMEOUT: 'ERR_MPUDP_CONNECT_TIMEOUT',
  ERR_MPUDP_PROTOCOL_VIOLATION: 'ERR_MPUDP_PROTOCOL_VIOLATION',
};

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

export class MultipathSocket extends Duplex implements EndpointHandler {
  /** True until the handshake completes (or the socket is destroyed), like net.Socket. */
  connecting = true;
  /** The core connection, once the local sockets are bound. */
  private connection: Connection | null = null;
  /** The io loop that drives the connection. */
  private endpoint: UdpEndpoint | null = null;
  /** This socket owns its endpoint (client) and closes it when the connection ends. */
  private ownsEndpoint = false;
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
  /** Inside pull() (re-entrancy guard). */
  private pulling = false;
  /** The core reported the peer's FIN ('end'). */
  private remoteEnded = false;
  /** push(null) was called. */
  private pushedEof = false;
  /** `_destroy`'s callback, waiting for the core's graceful close. */
  private destroyCallback: ((err: Error | null) => void) | null = null;
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

  constructor(options: MultipathSocketOptions = {}) {
    super({
      allowHalfOpen: options.allowHalfOpen ?? false,
      readableHighWaterMark: 64 * 1024,
      writableHighWaterMark: 64 * 1024,
    });
    this.sendBufferSize = options.connectionOptions?.sendBufferSize ?? DEFAULT_OPTIONS.sendBufferSize;
  }

  // ---- wiring (used by connect() and the server) ----

  /** @internal Binds this socket to its connection and the loop that drives it. */
  _attach(endpoint: UdpEndpoint, connection: Connection, ownsEndpoint: boolean): void {
    this.endpoint = endpoint;
    this.connection = connection;
    this.ownsEndpoint = ownsEndpoint;
    this.noteFirstPath();
  }

  /** @internal The io loop behind this socket (tests use it to close one local address). */
  _endpoint(): UdpEndpoint | null {
    return this.endpoint;
  }

  /** EndpointHandler: a client endpoint never accepts. */
  accepted(connection: Connection): void {
    connection.close(ERROR_CODE_FAILED, 'client endpoint');
  }

  /** EndpointHandler: an event of this socket's connection. */
  connectionEvent(_connection: Connection, event: ConnectionEvent): void {
    this._handleEvent(event);
  }

  /** @internal One event of the core connection. */
  _handleEvent(event: ConnectionEvent): void {
    switch (event.type) {
      case 'connected':
        this.established = true;
        this.connecting = false;
        this.noteFirstPath();
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
        this.emit('path-up', event.path);
        return;
      case 'path-down':
        this.emit('path-down', event.path, event.reason);
        return;
      case 'closed':
        this.onClosed(event);
        return;
    }
  }

  // ---- reading ----

  override _read(): void {
    this.wantRead = true;
    this.pull();
  }

  /** Moves bytes from the core into the stream while it wants them. */
  private pull(): void {
    const connection = this.connection;
    if (connection === null || this.pulling || this.pushedEof) return;
    this.pulling = true;
    try {
      while (this.wantRead) {
        const chunk = connection.read();
        if (chunk === null) {
          if (this.remoteEnded) {
            this.pushedEof = true;
            this.push(null);
          }
          break;
        }
        this.bytesReadCount += chunk.length;
        if (!this.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength))) this.wantRead = false;
      }
    } finally {
      this.pulling = false;
    }
    // Reading opened the receive window, or reached the peer's FIN and closed
    // the connection gracefully: either way the core has news to send
    // (read() returning null can be what reaches the FIN), so always poll it.
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
      const n = connection.write(rest);
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
    connection.end();
    this.finSent = true;
    this.endpoint?.touch(connection);
    callback();
  }

  // ---- closing ----

  override _destroy(err: Error | null, callback: (err: Error | null) => void): void {
    this.connecting = false;
    const failure = err ?? this.closeError ?? streamDestroyed();
    const pending = this.pendingWrite;
    if (pending !== null) {
      this.pendingWrite = null;
      process.nextTick(pending.callback, failure);
    }
    const final = this.pendingFinal;
    if (final !== null) {
      this.pendingFinal = null;
      process.nextTick(final, failure);
    }
    const connection = this.connection;
    if (connection === null || this.closeEvent !== null) {
      // Not started yet (connect() sees `destroyed`), or already over.
      callback(err);
      return;
    }
    if (err === null && this.finSent && this.remoteEnded) {
      // Both directions done: the core closes gracefully once our FIN is acknowledged.
      this.destroyCallback = callback;
      return;
    }
    connection.close(applicationErrorCode(err), err?.message ?? 'destroyed');
    this.endpoint?.touch(connection);
    callback(err);
  }

  /** The core closed the connection: no more events follow. */
  private onClosed(event: ClosedEvent): void {
    this.closeEvent = event;
    this.connecting = false;
    let error = closeError(event, this.established);
    if (event.code === 'NO_ERROR' && event.remote) {
      // The peer's graceful close: every byte it sent (and its FIN) is ours already.
      this.drainAll();
      if (!this.finSent || this.pendingWrite !== null) {
        error = new MpudpError('ERR_MPUDP_PEER_ABORTED', 'the peer closed the connection while this side was still writing', {
          errorCode: 0,
          closeCode: event.code,
        });
      }
    }
    this.closeError = error;
    const callback = this.destroyCallback;
    if (callback !== null) {
      this.destroyCallback = null;
      callback(error);
    } else if (error !== null && !this.destroyed) {
      this.destroy(error);
    } else if (this.pendingWrite !== null || this.pendingFinal !== null) {
      // A write or an end can no longer complete.
      this.destroy(streamDestroyed());
    }
    if (this.ownsEndpoint) void this.endpoint?.close();
  }

  /** After a graceful close: every byte the core still holds, then EOF. */
  private drainAll(): void {
    const connection = this.connection;
    if (connection === null || this.pushedEof) return;
    for (let chunk = connection.read(); chunk !== null; chunk = connection.read()) {
      this.bytesReadCount += chunk.length;
      this.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    }
    this.pushedEof = true;
    this.push(null);
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

  /** Every path of the connection, in any state (empty before the connection exists). */
  get paths(): PathInfo[] {
    return this.connection?.paths() ?? [];
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
    connection.setLocalBackup(localAddress, backup);
    this.endpoint?.touch(connection);
    return true;
  }

  /** The core's counters and this socket's, or null before the connection exists. */
  stats(): SocketStats | null {
    const connection = this.connection;
    if (connection === null) return null;
    const writable = connection.isClosed ? this.sendBufferSize : connection.writableBytes;
    return {
      ...connection.stats(),
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

  /** The local address of the first path, as net.Socket's address(). */
  address(): { address: string; family: string; port: number } | Record<string, never> {
    const path = this.currentFirstPath();
    if (path === null) return {};
    return { address: path.localAddress, family: familyOf(path.localAddress) ?? 'IPv4', port: path.localPort };
  }

  /** No-op (there is no Nagle here); for net.Socket compatibility. */
  setNoDelay(_noDelay?: boolean): this {
    return this;
  }

  /** No-op (paths are probed by `keepAliveInterval`); for net.Socket compatibility. */
  setKeepAlive(_enable?: boolean, _initialDelay?: number): this {
    return this;
  }

  /** Lets the process exit while this (client) socket is open. */
  unref(): this {
    if (this.ownsEndpoint) this.endpoint?.unref();
    return this;
  }

  /** Undoes unref(). */
  ref(): this {
    if (this.ownsEndpoint) this.endpoint?.ref();
    return this;
  }

  private noteFirstPath(): void {
    const first = this.connection?.paths()[0];
    if (first !== undefined) this.firstPath = first;
  }

  private currentFirstPath(): PathInfo | null {
    if (this.connection !== null && this.closeEvent === null) this.noteFirstPath();
    return this.firstPath;
  }
}

/** The error an application sees for a close, or null for a graceful or local one. */
function closeError(event: ClosedEvent, established: boolean): Error | null {
  let mapped = event.code in CLOSE_CODE_ERRORS ? CLOSE_CODE_ERRORS[event.code]! : 'ERR_MPUDP_CLOSED';
  // A timeout before the handshake completed is a connect timeout, whichever timer fired.
  if (!established && mapped === 'ERR_MPUDP_IDLE_TIMEOUT') mapped = 'ERR_MPUDP_CONNECT_TIMEOUT';
  if (mapped === null) return null;
  const extra = { errorCode: event.errorCode, closeCode: event.code };
  switch (mapped) {
    case 'ERR_MPUDP_PEER_ABORTED':
      return new MpudpError(mapped, `the peer aborted the connection (error code ${event.errorCode}${event.reason ? `: ${event.reason}` : ''})`, extra);
    case 'ERR_MPUDP_IDLE_TIMEOUT':
      return new MpudpError(mapped, 'the peer was silent for longer than the idle timeout', extra);
    case 'ERR_MPUDP_NO_WORKING_PATH':
      return new MpudpError(mapped, 'no path carried our packets to the peer for longer than the idle timeout (the peer was still heard)', extra);
    case 'ERR_MPUDP_CONNECT_TIMEOUT':
      return new MpudpError(mapped, 'no server answered the handshake in time', extra);
    case 'ERR_MPUDP_PROTOCOL_VIOLATION':
      return new MpudpError(mapped, `protocol violation${event.remote ? ' reported by the peer' : ''}${event.reason ? `: ${event.reason}` : ''}`, extra);
    default:
      return new MpudpError('ERR_MPUDP_CLOSED', `connection closed: ${event.code}${event.reason ? ` (${event.reason})` : ''}`, extra);
  }
}

/** The application error code `destroy(err)` sends: err.errorCode, or 1 / 2. */
function applicationErrorCode(err: Error | null): number {
  if (err === null) return ERROR_CODE_DESTROYED;
  const code = (err as { errorCode?: unknown }).errorCode;
  if (typeof code === 'number' && Number.isInteger(code) && code >= 1 && code <= MAX_APPLICATION_ERROR_CODE) return code;
  return ERROR_CODE_FAILED;
}

function streamDestroyed(): MpudpError {
  return new MpudpError('ERR_STREAM_DESTROYED', 'the connection is closed');
}
