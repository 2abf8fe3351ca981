/**
 * MultipathServer: accepts multipath connections on every address it listens
 * on, like `net.Server`. One UdpEndpoint serves all its addresses (one
 * socket each, all on one port); each accepted connection becomes a
 * MultipathSocket, announced by 'connection' once its handshake completes.
 */
import { EventEmitter } from 'node:events';
import type { Connection } from '../core/connection.js';
import type { ConnectionEvent, SocketAddress } from '../core/types.js';
import { defaultServerAddresses, familyOf, isLinkLocal } from '../io/interfaces.js';
import { UdpEndpoint, type EndpointHandler, type UdpEndpointStats } from '../io/udp-endpoint.js';
import { joinCluster } from '../io/cluster-worker.js';
import { internalClosedEvent } from '../io/fault-capture.js';
import { cidFormatFor, validateScaleOptions, type ValidScaleOptions } from './cluster-options.js';
import { MpudpError } from './errors.js';
import { keyPairFromPrivate } from './keys.js';
import { randomBytes } from 'node:crypto';
import type { Listener, MultipathServerEvents } from './events.js';
import { MultipathSocket } from './socket.js';
import {
  validateListenArgs,
  validateOptionalFunction,
  validateServerOptions,
  type ListenOptions,
  type ServerOptions,
  type ValidServerOptions,
} from './validate.js';

/** One address the server listens on. */
export interface ServerAddress {
  address: string;
  family: 'IPv4' | 'IPv6';
  port: number;
}

type Events = MultipathServerEvents;

export interface MultipathServer {
  on<K extends keyof Events>(event: K, listener: Listener<Events, K>): this;
  once<K extends keyof Events>(event: K, listener: Listener<Events, K>): this;
  off<K extends keyof Events>(event: K, listener: Listener<Events, K>): this;
  addListener<K extends keyof Events>(event: K, listener: Listener<Events, K>): this;
  removeListener<K extends keyof Events>(event: K, listener: Listener<Events, K>): this;
  prependListener<K extends keyof Events>(event: K, listener: Listener<Events, K>): this;
  prependOnceListener<K extends keyof Events>(event: K, listener: Listener<Events, K>): this;
  emit<K extends keyof Events>(event: K, ...args: Events[K]): boolean;
}

export class MultipathServer extends EventEmitter implements EndpointHandler {
  /** Checked createServer() options. */
  private readonly options: ValidServerOptions;
  /** Checked `cluster` and `quicLb` options (cluster-options.ts). */
  private readonly scale: ValidScaleOptions;
  /** Cluster worker: its slot, once listening (null otherwise). */
  private slot: number | null = null;
  /** The io loop, from listen() until the server is closed. */
  private endpoint: UdpEndpoint | null = null;
  /** Sockets bound (listen() finished). */
  private isListening = false;
  /** close() was called; 'close' follows once every connection is over. */
  private closing = false;
  /** Sockets of the connections still open, by core connection. */
  private readonly sockets = new Map<Connection, MultipathSocket>();
  /** Bound addresses with the real port. */
  private bound: SocketAddress[] = [];
  /** unref() was called. */
  private unrefed = false;
  /** The long-term private key every handshake proves (the `key` option, or one drawn here). */
  private readonly staticKey: Uint8Array;
  /** The fingerprint of the server's long-term key: what clients pin (`serverKey`). */
  readonly fingerprint: string;
  /** The server's long-term public key (base64url): also accepted as a client's `serverKey`. */
  readonly publicKey: string;

  constructor(options?: ServerOptions, connectionListener?: (socket: MultipathSocket) => void) {
    super();
    this.options = validateServerOptions(options);
    this.scale = validateScaleOptions((options ?? {}) as Record<string, unknown>);
    this.staticKey = this.options.staticKey ?? new Uint8Array(randomBytes(32));
    const identity = keyPairFromPrivate(this.staticKey);
    this.fingerprint = identity.fingerprint;
    this.publicKey = identity.publicKey;
    validateOptionalFunction(connectionListener, 'connectionListener');
    if (connectionListener) this.on('connection', connectionListener);
  }

  /**
   * Starts listening: one socket per address, all on one port (0: the port
   * the first bind picks). Emits 'listening', or 'error' if a bind fails.
   * Takes net.Server's forms: `listen([port[, host[, backlog]]][, callback])`
   * and `listen(options[, callback])`; `backlog` is accepted and unused
   * (there is no accept queue: a connection is announced once its handshake
   * completes).
   */
  listen(port?: number, host?: string, backlog?: number, callback?: () => void): this;
  listen(port: number, host?: string, callback?: () => void): this;
  listen(port: number, callback?: () => void): this;
  listen(options: ListenOptions, callback?: () => void): this;
  listen(callback?: () => void): this;
  listen(...args: unknown[]): this {
    const { port: listenPort, addresses, callback } = validateListenArgs(args);
    if (this.endpoint !== null) {
      throw new MpudpError('ERR_MPUDP_SERVER_RUNNING', 'listen() was already called on this server');
    }
    if (callback) this.once('listening', callback);
    this.closing = false;
    const endpoint = new UdpEndpoint({
      server: true,
      handler: this,
      connectionDefaults: this.options.connection,
      ...(this.options.maxConnections !== undefined ? { maxConnections: this.options.maxConnections } : {}),
      staticKey: this.staticKey,
      ...(this.options.retry !== undefined ? { retry: this.options.retry } : {}),
      ...(this.options.retryThreshold !== undefined ? { retryThreshold: this.options.retryThreshold } : {}),
    });
    if (this.unrefed) endpoint.unref();
    this.endpoint = endpoint;
    const list = addresses ?? defaultServerAddresses();
    if (list.length === 0) {
      this.failListen(endpoint, new MpudpError('ERR_MPUDP_NO_ADDRESS', 'the host has no address to listen on'));
      return this;
    }
    this.bindAll(endpoint, list, listenPort).then(
      ({ bound, servePort }) => {
        if (this.endpoint !== endpoint) return;
        this.bound = bound;
        this.isListening = true;
        // Follow the host's addresses: served ones that vanish are withdrawn,
        // and with the default list new ones are served and advertised.
        const served = new Set(list);
        endpoint.watchAddresses({
          interval: this.options.watch.interval,
          port: servePort,
          ...(this.options.watch.source !== undefined ? { source: this.options.watch.source } : {}),
          wanted: (address) => served.has(address) || (addresses === undefined && !isLinkLocal(address)),
        });
        this.emit('listening');
        if (this.closing) this.maybeFinishClose();
      },
      (err: Error) => this.failListen(endpoint, err),
    );
    return this;
  }

  /**
   * Binds the addresses. A node:cluster worker (docs/api.md, "Cluster")
   * binds the shared public port for first contact and a port of its own,
   * where its connections are served (io/cluster-worker.ts); `bound` is
   * the public one either way.
   */
  private async bindAll(endpoint: UdpEndpoint, list: string[], port: number): Promise<{ bound: SocketAddress[]; servePort: number }> {
    const scale = this.scale;
    if (scale.cluster === null) {
      if (scale.quicLb !== null) endpoint.core.setCidFormat(cidFormatFor(scale, null));
      const bound = await endpoint.bind(list, port, true);
      return { bound, servePort: bound[0]?.port ?? port };
    }
    const joined = await joinCluster(endpoint, list, {
      sharedPort: port,
      ownPort: scale.cluster.ownPort,
      slots: scale.cluster.workers,
      formatFor: (slot) => cidFormatFor(scale, slot),
    });
    this.slot = joined.slot;
    return { bound: joined.shared, servePort: joined.own[0]!.port };
  }

  /** Cluster worker: its slot (0 … cluster.workers − 1) once listening; null outside a cluster. */
  get workerSlot(): number | null {
    return this.slot;
  }

  private failListen(endpoint: UdpEndpoint, err: Error): void {
    if (this.endpoint !== endpoint) return;
    this.endpoint = null;
    void endpoint.close();
    process.nextTick(() => {
      this.emit('error', err);
      if (this.closing) this.emit('close');
    });
  }

  /**
   * Stops accepting connections; 'close' (and `callback`) follow once every
   * open connection has ended, as with net.Server.
   */
  close(callback?: (err?: Error) => void): this {
    validateOptionalFunction(callback, 'callback');
    if (this.endpoint === null) {
      if (callback) this.once('close', () => callback(new MpudpError('ERR_MPUDP_SERVER_NOT_RUNNING', 'the server is not running')));
      process.nextTick(() => this.emit('close'));
      return this;
    }
    if (callback) this.once('close', callback);
    if (this.closing) return this;
    this.closing = true;
    this.isListening = false;
    this.endpoint.core.stopAccepting();
    this.maybeFinishClose();
    return this;
  }

  /** Closes the sockets once no connection is left. */
  private maybeFinishClose(): void {
    const endpoint = this.endpoint;
    if (!this.closing || endpoint === null || this.bound.length === 0) return;
    if (this.sockets.size > 0 || endpoint.core.connectionCount > 0) return;
    this.endpoint = null;
    this.bound = [];
    void endpoint.close().then(() => this.emit('close'));
  }

  /** The addresses listened on, with their port ([] before 'listening'). */
  addresses(): ServerAddress[] {
    return this.bound.map((b) => ({ address: b.address, family: familyOf(b.address) ?? 'IPv4', port: b.port }));
  }

  /** The first listening address (net.Server compatibility), or null. */
  address(): ServerAddress | null {
    return this.addresses()[0] ?? null;
  }

  /** True between 'listening' and close(). */
  get listening(): boolean {
    return this.isListening;
  }

  /** Number of open connections (net.Server compatibility; a socket destroyed and still finishing in the background is not counted). */
  getConnections(callback: (err: Error | null, count: number) => void): this {
    validateOptionalFunction(callback, 'callback');
    let count = 0;
    for (const socket of this.sockets.values()) if (!socket.destroyed) count++;
    process.nextTick(() => callback(null, count));
    return this;
  }

  /** Counters of the io loop and the endpoint core, or null when not listening. */
  stats(): UdpEndpointStats | null {
    return this.endpoint?.stats() ?? null;
  }

  /** Lets the process exit while only this server is open. */
  unref(): this {
    this.unrefed = true;
    this.endpoint?.unref();
    return this;
  }

  /** Undoes unref(). */
  ref(): this {
    this.unrefed = false;
    this.endpoint?.ref();
    return this;
  }

  /** @internal The io loop (tests use it). */
  _endpoint(): UdpEndpoint | null {
    return this.endpoint;
  }

  /** EndpointHandler: a new connection; announced by 'connection' once established. */
  accepted(connection: Connection): void {
    const endpoint = this.endpoint;
    if (endpoint === null) return;
    const socket = new MultipathSocket({
      allowHalfOpen: this.options.allowHalfOpen,
      connectionOptions: this.options.connection,
    });
    socket._attach(endpoint, connection, null);
    this.sockets.set(connection, socket);
  }

  /** EndpointHandler: the core forgets closed connections during a flush; check again after it. */
  flushed(): void {
    if (this.closing) this.maybeFinishClose();
  }

  /**
   * EndpointHandler: the endpoint core itself threw (src/io/fault-capture.ts).
   * Its state is not trusted, so the endpoint already ended every
   * connection and closed its sockets: each open socket emits 'error'
   * (ERR_MPUDP_INTERNAL), then the server emits 'error' with the same code
   * and 'close', as net.Server does when its handle fails. The
   * application may listen() again on a new server.
   */
  endpointFailed(err: Error): void {
    const endpoint = this.endpoint;
    if (endpoint === null) return;
    const event = internalClosedEvent(err);
    const sockets = [...this.sockets.values()];
    this.sockets.clear();
    for (const socket of sockets) socket._handleEvent(event);
    this.endpoint = null;
    this.bound = [];
    this.isListening = false;
    this.closing = true;
    this.emit('error', new MpudpError('ERR_MPUDP_INTERNAL', `internal error in the server's endpoint: ${err.message}`, { cause: err }));
    void endpoint.close().then(() => this.emit('close'));
  }

  /** EndpointHandler: an event of one accepted connection. */
  connectionEvent(connection: Connection, event: ConnectionEvent): void {
    const socket = this.sockets.get(connection);
    if (socket === undefined) return;
    socket._handleEvent(event);
    if (event.type === 'connected' && !socket.destroyed) this.emit('connection', socket);
    if (event.type === 'closed') {
      this.sockets.delete(connection);
      this.maybeFinishClose();
    }
  }
}

/** Creates a server; `connectionListener` is added to 'connection'. */
export function createServer(
  options?: ServerOptions | ((socket: MultipathSocket) => void),
  connectionListener?: (socket: MultipathSocket) => void,
): MultipathServer {
  if (typeof options === 'function') return new MultipathServer(undefined, options);
  return new MultipathServer(options, connectionListener);
}
