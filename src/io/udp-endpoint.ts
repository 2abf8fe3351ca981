/**
 * UdpEndpoint: the io loop around one EndpointCore. It owns one `node:dgram`
 * socket per local address (local-sockets.ts, bound by socket-binder.ts),
 * the real clock and one timer (core-timer.ts), and, in a cluster worker,
 * the shared port's sockets (shared-port.ts). It does nothing but move
 * datagrams and time between the sockets and the core:
 *
 *   'message'  → core.handleDatagram(bytes, local, remote, now), then flush
 *   flush      → pollEvent* (dispatch), pollTransmit* (socket.send), pollEvent*,
 *                then one timer at pollTimeout()
 *   timer      → core.handleTimeout(now), then flush (from the check phase
 *                of the turn it expires in, after the sockets were read)
 *
 * A client endpoint also opens, beside each local address's socket, one
 * socket connected to each server address it talks to (peer-sockets.ts),
 * so that an ICMP port unreachable reaches the core as a path error.
 *
 * Flushes are coalesced: any number of requests in one turn of the event loop
 * (many datagrams read in one poll phase, many writes) run one flush from
 * `setImmediate`, which also batches the core's acknowledgements. A flush
 * never runs inside another one. A scheduled flush hands out its events one
 * setImmediate callback ahead of its transmits, so what the application
 * does in the microtasks between (after an `await` of an event) leaves in
 * the same datagrams. A turn after one that read a single datagram
 * (request/response) flushes its first datagram inside its read instead
 * (read-turns.ts): events at once, transmits after the read's microtasks.
 */
import { RandomPool } from './random-pool.js';
import type { Connection } from '../core/connection.js';
import { EndpointCore, type EndpointStats } from '../core/endpoint.js';
import type { ClientConfig } from '../core/options.js';
import { countDrop, tally } from '../core/stats.js';
import type { SocketAddress, Transmit } from '../core/types.js';
import { systemClock, type Clock } from './clock.js';
import { linkMtu } from './link-mtu.js';
import { SocketBinder, type BoundSocket } from './socket-binder.js';
import { LocalSockets, type PeerPair } from './local-sockets.js';
import { newIoCounters, type EndpointHandler, type IoCounters, type UdpEndpointOptions, type UdpEndpointStats } from './endpoint-types.js';
import type { ClusterRouter } from './cluster-router.js';
import { SharedPort } from './shared-port.js';
import { InterfaceWatch, type AddressSource } from './interface-watch.js';
import type { PeerHooks } from './peer-sockets.js';
import { FAULT, asError, type Fault } from './fault-capture.js';
import { KeyPairPool } from './key-pool.js';
import { CoreTimer } from './core-timer.js';
import { ReadTurns } from './read-turns.js';

export type { EndpointHandler, UdpEndpointOptions, UdpEndpointStats } from './endpoint-types.js';

/** Most datagrams sent in one flush before yielding to the event loop. */
const TRANSMIT_BUDGET = 256;
const DEFAULT_SOCKET_BUFFER = 4 * 1024 * 1024;

/** Runs a callback after the running code's microtasks (UdpEndpoint.onDatagram). */
const RESOLVED = Promise.resolve();
const rethrow = (err: unknown): never => {
  throw err;
};

export class UdpEndpoint {
  /** The sans-IO endpoint this loop drives. */
  readonly core: EndpointCore;
  /** Handshake key pairs made ahead of time (src/io/key-pool.ts). */
  private readonly keyPool = new KeyPairPool();
  /** Where events go. */
  private readonly handler: EndpointHandler;
  /** Time source. */
  readonly clock: Clock;
  /** Binds and sizes the sockets (socket-binder.ts). */
  private readonly binder: SocketBinder;
  /** Bound sockets by local IP text (local-sockets.ts). */
  private readonly sockets = new LocalSockets();
  /** Cluster worker: the shared port's sockets and their router (shared-port.ts). */
  private readonly sharedPort: SharedPort;
  /** The one timer, at the core's next deadline (core-timer.ts). */
  private readonly timer: CoreTimer;
  /** A flush is scheduled with setImmediate. */
  private flushScheduled = false;
  /** A flush is running (re-entrancy guard). */
  private flushing = false;
  /** The running flush is dispatching events and has not polled transmits yet. */
  private beforeTransmits = false;
  /** Which datagram is flushed inside its read (read-turns.ts). */
  private readonly turns = new ReadTurns();
  /** close() was called: no more flushes, timers or sends. */
  private closed = false;
  /** The endpoint core threw (fault-capture.ts): no call goes into it any more. */
  private failure: Error | null = null;
  /** The application wants this endpoint to keep the process alive. */
  private refed = true;
  /** Follows the host's addresses, once watchAddresses() was called. */
  private watch: InterfaceWatch | null = null;
  /** The `now` of the running drainTransmits (read by pollTransmitCall). */
  private transmitNow = 0;
  /** The connection touch() hands to the core (read by touchCall). */
  private touched: Connection | null = null;
  // The calls into the core made on every flush, each made once: a closure
  // per call was six allocations per request/response round trip.
  private readonly pollEventCall = (): ReturnType<EndpointCore['pollEvent']> => this.core.pollEvent();
  private readonly pollTransmitCall = (): Transmit | null | undefined => this.core.pollTransmit(this.transmitNow);
  private readonly pollTimeoutCall = (): number | null | undefined => this.core.pollTimeout();
  private readonly connectionCountCall = (): number => this.core.connectionCount;
  private readonly touchCall = (): void => this.core.touch(this.touched!);
  /** Counters (the core's are added by stats()). */
  private readonly counters: IoCounters = newIoCounters();

  constructor(options: UdpEndpointOptions) {
    this.handler = options.handler;
    this.clock = options.clock ?? systemClock;
    this.timer = new CoreTimer(this.clock, this.onTimer);
    const peerHooks: PeerHooks = {
      message: (msg, local, remote) => this.onDatagram(msg, local, remote),
      pathError: (local, remote, code) => {
        tally(this.counters.pathErrors, code);
        if (this.closed) return;
        this.call(() => this.core.handlePathError(local, remote, code, this.clock.now()));
        this.requestFlush();
      },
      sendFailed: (err) => this.onSent(err),
      refed: () => this.refed,
      configure: (socket) => this.binder.sizeBuffers(socket),
    };
    this.binder = new SocketBinder({
      socketBufferSize: options.socketBufferSize ?? DEFAULT_SOCKET_BUFFER,
      linkMtu: options.linkMtu ?? linkMtu,
      connectedSockets: options.connectedSockets ?? !options.server,
      peerHooks,
      counters: this.counters,
    });
    this.sharedPort = new SharedPort({
      deliver: (msg, local, remote) => this.onDatagram(msg, local, remote),
      onSent: this.onSent,
      localOf: (address, port) => this.binder.localOf(address, port),
      sizeBuffers: (socket) => this.binder.sizeBuffers(socket),
      refed: () => this.refed,
      closed: () => this.closed,
      counters: this.counters,
    });
    this.core = new EndpointCore({
      random: new RandomPool().take,
      keyPairs: () => this.keyPool.take(),
      server: options.server,
      ...(options.connectionDefaults ? { connectionDefaults: options.connectionDefaults } : {}),
      ...(options.maxConnections !== undefined ? { maxConnections: options.maxConnections } : {}),
      ...(options.staticKey !== undefined ? { staticKey: options.staticKey } : {}),
      ...(options.retry !== undefined ? { retry: options.retry } : {}),
      ...(options.retryThreshold !== undefined ? { retryThreshold: options.retryThreshold } : {}),
    });
  }

  /**
   * Binds one socket per address, all on `port`, and starts reading them
   * (socket-binder.ts says how: `sharePort`, `tolerant`).
   */
  async bind(addresses: readonly string[], port: number, sharePort: boolean, tolerant = false): Promise<SocketAddress[]> {
    const bound = await this.binder.bindAll(addresses, port, sharePort, tolerant);
    if (this.closed) {
      for (const b of bound) b.socket.close();
      return [];
    }
    for (const b of bound) this.adopt(b);
    return bound.map((b) => ({ ...b.local }));
  }

  /** Cluster worker: binds the shared port on each address (shared-port.ts). */
  bindShared(addresses: readonly string[], port: number): Promise<SocketAddress[]> {
    return this.sharedPort.bind(addresses, port);
  }

  /** Cluster worker: what reaches the shared port goes through `router` from now on. */
  attachRouter(router: ClusterRouter): void {
    this.sharedPort.attach(router);
  }

  /** Client: binds each of `addresses` that has no socket yet (local-sockets.ts). */
  async ensureBound(addresses: readonly string[], tolerant: boolean): Promise<SocketAddress[]> {
    try {
      const bound = await this.sockets.ensureBound(addresses, tolerant, (address) =>
        this.binder.bindOne(address, 0).then((b) => {
          if (this.closed) b.socket.close();
          else this.adopt(b);
        }),
      );
      return this.closed ? [] : bound;
    } catch (err) {
      if (this.closed) return [];
      throw err;
    }
  }

  /** Client: connected sockets for a connection's first contact (local-sockets.ts). */
  connectPeers(remotes: readonly SocketAddress[], locals?: readonly SocketAddress[]): Promise<PeerPair[]> {
    return this.sockets.connectPeers(remotes, locals);
  }

  /** A connection that counted on these pairs ended. */
  releasePeers(pairs: readonly PeerPair[]): void {
    this.sockets.releasePeers(pairs);
  }

  /** A datagram from any of our sockets: to the core, then a flush. */
  private onDatagram(msg: Uint8Array, local: SocketAddress, remote: SocketAddress): void {
    this.counters.datagramsReceived++;
    this.counters.bytesReceived += msg.length;
    if (this.failure !== null) return;
    try {
      // A plain Uint8Array view, not the Buffer: the core copies what must
      // outlive the datagram with slice(), which on a Buffer is a view.
      this.core.handleDatagram(new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength), local, remote, this.clock.now());
    } catch (err) {
      this.endpointFault(err);
      return;
    }
    // Request/response traffic: flushed inside the read (read-turns.ts).
    if (this.turns.arrived(!this.flushScheduled && !this.flushing && !this.beforeTransmits)) {
      setImmediate(this.endTurn);
      // The events now; the transmits once Node has run the microtasks that
      // follow this read: an application that answers 'data' at once, or
      // after one `await`, rides in these datagrams. Any other event (a
      // handshake's end, a FIN, a close) may set off a chain of ticks and
      // promises (a stream ending itself, say), and waits for the turn's
      // check phase, as in requestFlush.
      this.beforeTransmits = true;
      let dataOnly = false;
      try {
        dataOnly = this.drainEvents();
      } finally {
        if (dataOnly) void RESOLVED.then(this.runInlineFlush);
        else {
          this.beforeTransmits = false;
          this.requestFlush();
        }
      }
      return;
    }
    this.requestFlush();
  }

  /** The transmits of an inline flush, after the microtasks of its read. */
  private readonly runInlineFlush = (): void => {
    this.beforeTransmits = false;
    try {
      this.flush();
    } catch (err) {
      // An application's handler threw: as from a setImmediate, uncaught (not a rejected promise).
      process.nextTick(rethrow, err);
    }
  };

  /** The check phase of a turn with an inline flush. */
  private readonly endTurn = (): void => this.turns.end();

  /** Starts reading a bound socket and sizes its kernel buffers. */
  private adopt(bound: BoundSocket): void {
    const { socket, local } = bound;
    this.sockets.set(bound);
    this.binder.sizeBuffers(socket);
    if (!this.refed) socket.unref();
    socket.on('message', (msg, rinfo) => {
      const remote = { address: rinfo.address, port: rinfo.port };
      // Another worker of the cluster: an envelope from the shared port.
      const router = this.sharedPort.router;
      if (router !== null && rinfo.port === router.sharedPort && router.fromHost(msg, remote)) return;
      this.onDatagram(msg, local, remote);
    });
    socket.on('error', () => {
      this.counters.socketErrors++;
      this.closeLocalAddress(local.address);
    });
    socket.on('close', () => {
      if (this.sockets.get(local.address) === bound) this.closeLocalAddress(local.address);
    });
    if (this.core.config.server) this.call(() => this.core.addLocalAddress(local, this.clock.now()));
  }

  /**
   * Follows the host's addresses: a watched address that vanishes has its
   * socket closed (the core fails or moves its paths and re-sends their
   * bytes elsewhere); one that appears (again) is bound and handed to the
   * core, which opens paths from it (client) or advertises it (server).
   * `wanted` says which addresses this endpoint should use.
   */
  watchAddresses(options: {
    interval: number;
    port: number;
    wanted: (address: string) => boolean;
    /** Client: which connections open paths from a gained address (default: all). */
    wantedBy?: (connection: Connection, address: string) => boolean;
    source?: AddressSource;
  }): void {
    this.watch?.stop();
    this.watch = new InterfaceWatch({
      interval: options.interval,
      ...(options.source !== undefined ? { source: options.source } : {}),
      onChange: (added, removed) => {
        for (const address of removed) {
          if (this.sockets.has(address)) {
            this.counters.addressesLost++;
            this.closeLocalAddress(address);
          }
        }
        for (const address of added) {
          if (!options.wanted(address) || this.sockets.has(address) || this.closed) continue;
          this.binder.bindOne(address, options.port)
            .catch(() => this.binder.bindOne(address, 0))
            .then((bound) => {
              if (this.closed) {
                bound.socket.close();
                return;
              }
              this.counters.addressesGained++;
              this.adopt(bound);
              const wantedBy = options.wantedBy;
              if (!this.core.config.server) {
                this.call(() => this.core.addLocalAddress(bound.local, this.clock.now(), wantedBy && ((c) => wantedBy(c, address))));
              }
              this.requestFlush();
            })
            .catch(() => {
              this.counters.socketErrors++;
            });
        }
      },
    });
    this.watch.start();
  }

  /** Polls the address watch now (tests; an application that knows its addresses changed). */
  checkAddresses(): boolean {
    return this.watch?.poll() ?? false;
  }

  /** The bound local addresses with their real ports (and interface MTUs, where known). */
  localAddresses(): SocketAddress[] {
    return this.sockets.addresses();
  }

  /**
   * Starts a client connection from `config.localAddresses`, or from every
   * bound address; null if the core threw (the endpoint then stops and the
   * handler hears endpointFailed).
   */
  connect(config: Omit<ClientConfig, 'localAddresses'> & { localAddresses?: SocketAddress[] }): Connection | null {
    const connection = this.call(() => this.core.connect({ ...config, localAddresses: config.localAddresses ?? this.localAddresses() }, this.clock.now()));
    this.requestFlush();
    return connection;
  }

  /**
   * Closes the socket of one local address, as if the interface went away:
   * the core fails the paths that used it and re-sends their bytes elsewhere.
   * Returns false if no socket is bound to that address.
   */
  closeLocalAddress(address: string): boolean {
    const bound = this.sockets.get(address);
    if (!bound) return false;
    this.sockets.delete(address);
    void bound.peers?.close();
    try {
      bound.socket.close();
    } catch {
      // Already closed.
    }
    if (!this.closed) {
      this.call(() => this.core.removeLocalAddress(bound.local, this.clock.now()));
      this.requestFlush();
    }
    return true;
  }

  /**
   * The application acted on `connection` (write, read, end, close): the
   * core may have datagrams for it now. Flushes soon.
   */
  touch(connection: Connection): void {
    this.touched = connection;
    this.call(this.touchCall);
    this.touched = null;
    this.requestFlush();
  }

  /**
   * Runs a call into one connection for the application (write, read, end,
   * close, ...). If it throws, that connection alone ends with
   * ERR_MPUDP_INTERNAL (counted by the core) and FAULT is returned: its
   * 'closed' event follows on the next flush (fault-capture.ts).
   */
  run<T>(connection: Connection, fn: (connection: Connection) => T): T | Fault {
    try {
      return fn(connection);
    } catch (err) {
      if (this.failure === null) {
        this.call(() => this.core.failConnection(connection, err, this.clock.now()));
        this.requestFlush();
      }
      return FAULT;
    }
  }

  /** Asks for one flush soon; many requests in one turn run one flush. */
  requestFlush(): void {
    // Asked while the running flush has yet to poll the core's transmits (an
    // application writing or reading in an event handler): that flush sends
    // it, and a second one would cost a turn of the event loop and a
    // timer re-arm per request and response.
    if (this.closed || this.flushScheduled || this.beforeTransmits) return;
    this.flushScheduled = true;
    // Two callbacks of one check phase: the events first, then the flush.
    // Node runs the microtasks between them, so an application that acts
    // after an `await` of an event ('connect', 'data') has acted before the
    // transmits are polled, and what it wrote rides in the same datagrams
    // (a handshake's FIN in the confirmation: 7.9 → 5.0 datagrams per
    // connect-and-destroy; docs/bench.md, "handshake CPU, third pass").
    setImmediate(this.runScheduledEvents);
    setImmediate(this.runScheduledFlush);
  }

  /** The events of a scheduled flush, one callback ahead of its transmits. */
  private readonly runScheduledEvents = (): void => {
    if (!this.closed && !this.flushing) this.drainEventsBeforeTransmits();
  };

  private readonly runScheduledFlush = (): void => {
    this.flushScheduled = false;
    this.turns.end();
    this.flush();
  };

  /** Dispatches events, sends what the core has to send, re-arms the timer. */
  flush(): void {
    if (this.closed) return;
    if (this.flushing) {
      this.requestFlush();
      return;
    }
    this.flushing = true;
    this.counters.flushes++;
    try {
      this.drainEventsBeforeTransmits();
      const more = this.drainTransmits(this.clock.now());
      this.drainEvents();
      if (more) this.requestFlush();
    } finally {
      this.flushing = false;
      this.armTimer();
    }
    this.handler.flushed?.();
  }

  /** drainEvents() while a request for a flush is left to the transmits that follow. */
  private drainEventsBeforeTransmits(): void {
    this.beforeTransmits = true;
    try {
      this.drainEvents();
    } finally {
      this.beforeTransmits = false;
    }
  }

  /**
   * Hands every event to the handler (which may run application code);
   * true if they were all about the flow of bytes ('readable', 'writable').
   */
  private drainEvents(): boolean {
    let dataOnly = true;
    while (!this.closed) {
      const event = this.call(this.pollEventCall);
      if (!event) break;
      if (event.type === 'accepted') {
        dataOnly = false;
        this.handler.accepted(event.connection);
      } else {
        const type = event.event.type;
        if (type !== 'readable' && type !== 'writable') dataOnly = false;
        this.handler.connectionEvent(event.connection, event.event);
      }
    }
    return dataOnly && !this.closed;
  }

  /** Sends up to TRANSMIT_BUDGET datagrams; true if the core may have more. */
  private drainTransmits(now: number): boolean {
    this.transmitNow = now;
    for (let i = 0; i < TRANSMIT_BUDGET; i++) {
      if (this.closed) return false;
      const transmit = this.call(this.pollTransmitCall);
      if (!transmit) return false;
      this.send(transmit);
    }
    return true;
  }

  /**
   * Sends one datagram from the socket of `transmit.local` (a client: from
   * the one connected to `transmit.remote` once it is ready); failures are
   * counted, never thrown.
   */
  private send(transmit: Transmit): void {
    const shared = this.sharedPort.socketFor(transmit.local);
    const bound = shared === undefined ? this.sockets.get(transmit.local.address) : undefined;
    if (shared === undefined && bound === undefined) {
      countDrop(this.counters.drops, 'no-socket');
      return;
    }
    try {
      // The endpoint's own datagrams (a stateless reset to a connection we forgot) open no socket.
      const peer = bound?.peers?.lookup(transmit.remote, !this.core.lastTransmitStateless) ?? null;
      if (peer !== null) peer.socket.send(transmit.data, peer.onSent);
      else (shared ?? bound!.socket).send(transmit.data, transmit.remote.port, transmit.remote.address, this.onSent);
      this.counters.datagramsSent++;
      this.counters.bytesSent += transmit.data.length;
    } catch (err) {
      this.onSent(err as Error);
    }
  }

  /** Completion of one send (shared by all sends: no closure per datagram). */
  private readonly onSent = (err: Error | null): void => {
    if (err) tally(this.counters.sendErrors, (err as NodeJS.ErrnoException).code ?? err.name);
  };

  /** Arms the one timer at the core's next deadline, or clears it. */
  private armTimer(): void {
    if (this.closed) return;
    const deadline = this.call(this.pollTimeoutCall) ?? null;
    // Keep the process alive while a connection needs the timer.
    this.timer.arm(deadline, deadline !== null && this.refed && this.call(this.connectionCountCall) > 0);
  }

  /** The core's deadline came (core-timer.ts: after the sockets were read in that turn). */
  private readonly onTimer = (): void => {
    if (this.closed) return;
    this.counters.timeouts++;
    this.call(() => this.core.handleTimeout(this.clock.now()));
    // A flush is queued in this check phase already (a datagram came in the
    // poll phase): it runs next, events first, and sends for both.
    if (this.flushScheduled) return;
    this.flush();
  };

  /**
   * Runs a call into the endpoint core. An exception there belongs to no
   * one connection: the endpoint stops (endpointFault) and null is
   * returned; after it, nothing calls into the core any more.
   */
  private call<T>(fn: () => T): T {
    if (this.failure !== null) return null as T;
    try {
      return fn();
    } catch (err) {
      this.endpointFault(err);
      return null as T;
    }
  }

  /**
   * The endpoint core threw: counted; every connection ends with
   * ERR_MPUDP_INTERNAL, the sockets and the timer close at once (nothing
   * the half-updated core still holds is sent), and the handler hears of
   * it on the next tick (fault-capture.ts).
   */
  private endpointFault(thrown: unknown): void {
    if (this.failure !== null) return;
    const err = asError(thrown);
    this.failure = err;
    this.counters.coreExceptions++;
    try {
      this.core.failAll(err, this.clock.now());
    } catch {
      // Abandoned either way.
    }
    void this.close();
    process.nextTick(() => this.handler.endpointFailed(err));
  }

  /** The fault that stopped the endpoint core, or null. */
  get fault(): Error | null {
    return this.failure;
  }

  /** Lets the process exit while only this endpoint is open (like net's unref). */
  unref(): void {
    this.refed = false;
    this.sharedPort.setRef(false);
    this.sockets.setRef(false);
    this.timer.setRef(false);
  }

  /** Undoes unref(). */
  ref(): void {
    this.refed = true;
    this.sharedPort.setRef(true);
    this.sockets.setRef(true);
    this.timer.setRef(this.call(this.connectionCountCall) > 0);
  }

  /** Flushes run so far: a socket's read budget starts afresh in each (socket-read.ts). */
  get flushCount(): number {
    return this.counters.flushes;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends what is pending, then closes every socket and the timer. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    // The last datagrams (a CLOSE, a final ACK) still leave (not after a fault: the core is not trusted).
    const now = this.clock.now();
    for (let i = 0; i < 64 && this.failure === null && this.drainTransmits(now); i++);
    this.closed = true;
    this.keyPool.close();
    this.watch?.stop();
    this.timer.stop();
    return this.sockets.closeAll(this.sharedPort.close());
  }

  /** The core's counters; still read after a fault stopped it (reading them changes nothing). */
  private coreStats(): EndpointStats | null {
    if (this.failure === null) return this.call(() => this.core.stats());
    try {
      return this.core.stats();
    } catch {
      return null;
    }
  }

  /** Counters of this loop and of the core. */
  stats(): UdpEndpointStats {
    const c = this.counters;
    return {
      ...c,
      sendErrors: { ...c.sendErrors },
      pathErrors: { ...c.pathErrors },
      connectedSockets: this.sockets.connectedCount(),
      drops: { ...c.drops },
      core: this.coreStats() ?? { connections: 0, accepted: 0, halfOpen: 0, retriesSent: 0, statelessResetsSent: 0, refusalsSent: 0, internalErrors: 0, cidCollisions: 0, drops: {} },
      ...(this.sharedPort.router !== null ? { cluster: this.sharedPort.router.stats() } : {}),
    };
  }
}
