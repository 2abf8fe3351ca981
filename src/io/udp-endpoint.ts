/**
 * UdpEndpoint: the io loop around one EndpointCore. It owns one `node:dgram`
 * socket per local address, the real clock and one timer, and does nothing
 * but move datagrams and time between the sockets and the core:
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
 * never runs inside another one.
 */
import { RandomPool } from './random-pool.js';
import type { Socket as DgramSocket } from 'node:dgram';
import type { Connection } from '../core/connection.js';
import { EndpointCore, type EndpointStats } from '../core/endpoint.js';
import type { ClientConfig } from '../core/options.js';
import { countDrop, tally } from '../core/stats.js';
import type { SocketAddress, Transmit } from '../core/types.js';
import { systemClock, type Clock } from './clock.js';
import { bindSocket, freePort } from './bind-socket.js';
import { linkMtu, type LinkMtuSource } from './link-mtu.js';
import type { EndpointHandler, UdpEndpointOptions, UdpEndpointStats } from './endpoint-types.js';
import type { ClusterHost, ClusterRouter } from './cluster-router.js';
import { InterfaceWatch, type AddressSource } from './interface-watch.js';
import { PeerSockets, type PeerHooks } from './peer-sockets.js';
import { FAULT, asError, type Fault } from './fault-capture.js';
import { KeyPairPool } from './key-pool.js';

export type { EndpointHandler, UdpEndpointOptions, UdpEndpointStats } from './endpoint-types.js';

/** A connected socket one connection counts on (connectPeers). */
export interface PeerPair {
  peers: PeerSockets;
  remote: SocketAddress;
}

/** One bound socket. */
interface BoundSocket {
  /** The dgram socket. */
  socket: DgramSocket;
  /** Its address and real port (shared object handed to the core on every datagram). */
  local: SocketAddress;
  /** Client: the sockets connected to each remote, sharing this address and port; null for a server. */
  peers: PeerSockets | null;
}

/** Most datagrams sent in one flush before yielding to the event loop. */
const TRANSMIT_BUDGET = 256;
/** Most attempts to find a port free on every address when the server's port is 0. */
const BIND_ATTEMPTS = 8;
const DEFAULT_SOCKET_BUFFER = 4 * 1024 * 1024;

export class UdpEndpoint implements ClusterHost {
  /** The sans-IO endpoint this loop drives. */
  readonly core: EndpointCore;
  /** Handshake key pairs made ahead of time (src/io/key-pool.ts). */
  private readonly keyPool = new KeyPairPool();
  /** Where events go. */
  private readonly handler: EndpointHandler;
  /** Time source. */
  readonly clock: Clock;
  /** Requested kernel buffer size. */
  private readonly socketBufferSize: number;
  /** Reads a local address's interface MTU (link-mtu.ts). */
  private readonly linkMtu: LinkMtuSource;
  /** Bound sockets by local IP text. */
  private readonly sockets = new Map<string, BoundSocket>();
  /** Client: binds in progress by local IP text (ensureBound()). */
  private readonly binding = new Map<string, Promise<void>>();
  /**
   * Cluster worker: the shared port's sockets by local IP text (the
   * primary's handles, shared by every worker; bindShared()). Their
   * datagrams go through the router; they are never advertised.
   */
  private readonly shared = new Map<string, BoundSocket>();
  /** Cluster worker: routes what reaches the shared port (attachRouter()). */
  private router: ClusterRouter | null = null;
  /** The one timer (setTimeout or setImmediate), if armed. */
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  /** The timer is a setImmediate (deadline already due), not a setTimeout. */
  private timerIsImmediate = false;
  /** The deadline the timer is armed for. */
  private timerDeadline: number | null = null;
  /** A flush is scheduled with setImmediate. */
  private flushScheduled = false;
  /** A flush is running (re-entrancy guard). */
  private flushing = false;
  /** The running flush is dispatching events and has not polled transmits yet. */
  private beforeTransmits = false;
  /** close() was called: no more flushes, timers or sends. */
  private closed = false;
  /** The endpoint core threw (fault-capture.ts): no call goes into it any more. */
  private failure: Error | null = null;
  /** The application wants this endpoint to keep the process alive. */
  private refed = true;
  /** Follows the host's addresses, once watchAddresses() was called. */
  private watch: InterfaceWatch | null = null;
  /** Open connected sockets per remote beside each local socket (client). */
  private readonly connectedSockets: boolean;
  /** What connected sockets report to this endpoint. */
  private readonly peerHooks: PeerHooks;
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
  private readonly counters: Omit<UdpEndpointStats, 'core'> = {
    datagramsReceived: 0,
    bytesReceived: 0,
    datagramsSent: 0,
    bytesSent: 0,
    sendErrors: {},
    pathErrors: {},
    connectedSockets: 0,
    drops: {},
    bufferSizeCapped: 0,
    addressesLost: 0,
    addressesGained: 0,
    socketErrors: 0,
    coreExceptions: 0,
    flushes: 0,
    timeouts: 0,
  };

  constructor(options: UdpEndpointOptions) {
    this.handler = options.handler;
    this.clock = options.clock ?? systemClock;
    this.socketBufferSize = options.socketBufferSize ?? DEFAULT_SOCKET_BUFFER;
    this.linkMtu = options.linkMtu ?? linkMtu;
    this.connectedSockets = options.connectedSockets ?? !options.server;
    this.peerHooks = {
      message: (msg, local, remote) => this.onDatagram(msg, local, remote),
      pathError: (local, remote, code) => {
        tally(this.counters.pathErrors, code);
        if (this.closed) return;
        this.call(() => this.core.handlePathError(local, remote, code, this.clock.now()));
        this.requestFlush();
      },
      sendFailed: (err) => this.onSent(err),
      refed: () => this.refed,
      configure: (socket) => this.sizeBuffers(socket),
    };
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
   * Binds one socket per address, all on `port`; with port 0 the first bind
   * picks an ephemeral port and the others share it (`sharePort`), or each
   * gets its own (client). Unless `tolerant`, one failed bind fails them all
   * (every socket bound so far is closed); if `tolerant`, addresses that do
   * not bind are skipped and only a total failure throws.
   */
  async bind(addresses: readonly string[], port: number, sharePort: boolean, tolerant = false): Promise<SocketAddress[]> {
    for (let attempt = 1; ; attempt++) {
      const bound: BoundSocket[] = [];
      let firstError: unknown = null;
      try {
        let nextPort = port;
        for (const address of addresses) {
          let b: BoundSocket;
          try {
            b = await this.bindOne(address, nextPort);
          } catch (err) {
            firstError ??= err;
            if (tolerant) continue;
            throw err;
          }
          bound.push(b);
          if (sharePort) nextPort = b.local.port;
        }
        if (bound.length === 0) throw firstError ?? new Error('no address to bind');
      } catch (err) {
        for (const b of bound) b.socket.close();
        const inUse = (err as NodeJS.ErrnoException).code === 'EADDRINUSE';
        if (port === 0 && sharePort && inUse && bound.length > 0 && attempt < BIND_ATTEMPTS) continue;
        throw err;
      }
      if (this.closed) {
        for (const b of bound) b.socket.close();
        return [];
      }
      for (const b of bound) this.adopt(b);
      return bound.map((b) => ({ ...b.local }));
    }
  }

  /**
   * Binds one socket; resolves once it listens. A client's sockets share
   * their port with connected ones (SO_REUSEADDR), and the kernel may hand
   * an ephemeral port that another SO_REUSEADDR socket already holds to a
   * new one: so the port is first taken without SO_REUSEADDR, which the
   * kernel only gives when nobody holds it, then rebound with it.
   */
  private async bindOne(address: string, port: number): Promise<BoundSocket> {
    const reuse = this.connectedSockets;
    for (let attempt = 1; ; attempt++) {
      const wanted = reuse && port === 0 ? await freePort(address) : port;
      try {
        const socket = await bindSocket(address, wanted, reuse, true);
        const local = this.localOf(address, socket.address().port);
        return { socket, local, peers: reuse ? new PeerSockets(local, this.peerHooks) : null };
      } catch (err) {
        // Someone took the free port in between: try another.
        if (!(reuse && port === 0 && (err as NodeJS.ErrnoException).code === 'EADDRINUSE' && attempt < BIND_ATTEMPTS)) throw err;
      }
    }
  }

  /**
   * Cluster worker: binds the shared port on each address (non-exclusive:
   * the primary's handle, which every worker shares; with port 0 the
   * primary picks one port for all). Its datagrams go to the router; the
   * core never advertises these addresses. Tolerant: addresses that do
   * not bind are skipped; only a total failure throws.
   */
  async bindShared(addresses: readonly string[], port: number): Promise<SocketAddress[]> {
    const bound: SocketAddress[] = [];
    let nextPort = port;
    let firstError: unknown = null;
    for (const address of addresses) {
      let socket: DgramSocket;
      try {
        socket = await bindSocket(address, nextPort, false, false);
      } catch (err) {
        firstError ??= err;
        continue;
      }
      if (this.closed) {
        socket.close();
        return [];
      }
      const local = this.localOf(address, socket.address().port);
      nextPort = local.port;
      this.adoptShared({ socket, local, peers: null });
      bound.push({ ...local });
    }
    if (bound.length === 0) throw firstError ?? new Error('no address to bind');
    return bound;
  }

  /** A bound socket's address as the core sees it: with its interface's MTU where it is known. */
  private localOf(address: string, port: number): SocketAddress {
    const mtu = this.linkMtu(address);
    return mtu === undefined ? { address, port } : { address, port, mtu };
  }

  /** Cluster worker: what reaches the shared port goes through `router` from now on. */
  attachRouter(router: ClusterRouter): void {
    this.router = router;
    for (const b of this.shared.values()) router.addAddress(b.local.address);
    router.start(this);
  }

  /** The shared port's sockets (cluster worker). */
  sharedAddresses(): SocketAddress[] {
    return [...this.shared.values()].map((b) => ({ ...b.local }));
  }

  private adoptShared(bound: BoundSocket): void {
    const { socket, local } = bound;
    this.shared.set(local.address, bound);
    this.sizeBuffers(socket);
    if (!this.refed) socket.unref();
    this.router?.addAddress(local.address);
    socket.on('message', (msg, rinfo) => {
      const remote = { address: rinfo.address, port: rinfo.port };
      // Before the worker has its slot and CID format, nothing is taken (the client repeats its Initial).
      if (this.router !== null) this.router.fromShared(msg, local, remote);
      else countDrop(this.counters.drops, 'cluster-not-ready');
    });
    socket.on('error', () => {
      this.counters.socketErrors++;
      this.closeShared(local.address);
    });
    socket.on('close', () => {
      if (this.shared.get(local.address) === bound) this.closeShared(local.address);
    });
  }

  private closeShared(address: string): void {
    const bound = this.shared.get(address);
    if (bound === undefined) return;
    this.shared.delete(address);
    this.router?.removeAddress(address);
    try {
      bound.socket.close();
    } catch {
      // Already closed.
    }
  }

  /** ClusterHost: a datagram for this worker's core (the router kept it, or it came in an envelope). */
  deliver(msg: Uint8Array, local: SocketAddress, remote: SocketAddress): void {
    this.onDatagram(msg, local, remote);
  }

  /** ClusterHost: sends from the shared port's socket on `from`. */
  sendShared(data: Uint8Array, from: string, to: SocketAddress): boolean {
    const bound = this.shared.get(from);
    if (bound === undefined || this.closed) return false;
    try {
      bound.socket.send(data, to.port, to.address, this.onSent);
    } catch (err) {
      this.onSent(err as Error);
      return false;
    }
    return true;
  }

  /**
   * Client: binds each of `addresses` that has no socket yet (on an
   * ephemeral port; concurrent calls for one address share one bind) and
   * returns those of `addresses` that are bound, with their ports. Unless
   * `tolerant`, one failed bind throws; if `tolerant`, only a total failure does.
   */
  async ensureBound(addresses: readonly string[], tolerant: boolean): Promise<SocketAddress[]> {
    let firstError: unknown = null;
    await Promise.all(
      addresses.map(async (address) => {
        if (this.sockets.has(address)) return;
        let binding = this.binding.get(address);
        if (binding === undefined) {
          binding = this.bindOne(address, 0).then((bound) => {
            if (this.closed) bound.socket.close();
            else this.adopt(bound);
          });
          binding.then(
            () => this.binding.delete(address),
            () => this.binding.delete(address),
          );
          this.binding.set(address, binding);
        }
        try {
          await binding;
        } catch (err) {
          firstError ??= err;
        }
      }),
    );
    if (this.closed) return [];
    const bound = addresses.flatMap((a) => {
      const b = this.sockets.get(a);
      return b === undefined ? [] : [{ ...b.local }];
    });
    if (firstError !== null && (!tolerant || bound.length === 0)) throw firstError;
    if (bound.length === 0) throw new Error('no address to bind');
    return bound;
  }

  /**
   * Client: opens a socket connected to each of `remotes` from each of
   * `locals` (every bound address by default) of its family, so that ICMP
   * errors of first contact are heard, and counts one more user of each
   * (releasePeers() undoes it). Resolves when they are ready (failures
   * leave the unconnected socket in charge) with the pairs it counted.
   */
  async connectPeers(remotes: readonly SocketAddress[], locals?: readonly SocketAddress[]): Promise<PeerPair[]> {
    const opening: Promise<void>[] = [];
    const pairs: PeerPair[] = [];
    for (const bound of this.sockets.values()) {
      if (bound.peers === null || (locals !== undefined && !locals.some((l) => l.address === bound.local.address && l.port === bound.local.port))) continue;
      for (const remote of remotes) {
        opening.push(bound.peers.retain(remote));
        pairs.push({ peers: bound.peers, remote: { address: remote.address, port: remote.port } });
      }
    }
    await Promise.all(opening);
    return pairs;
  }

  /** A connection that counted on these pairs ended: a connected socket nobody counts on closes. */
  releasePeers(pairs: readonly PeerPair[]): void {
    for (const { peers, remote } of pairs) peers.release(remote);
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
    this.requestFlush();
  }

  /** Asks the kernel for socketBufferSize in each direction; counts a refusal or a cap. */
  private sizeBuffers(socket: DgramSocket): void {
    try {
      socket.setRecvBufferSize(this.socketBufferSize);
      socket.setSendBufferSize(this.socketBufferSize);
      // Linux reports twice the size it granted.
      if (socket.getRecvBufferSize() < this.socketBufferSize || socket.getSendBufferSize() < this.socketBufferSize) {
        this.counters.bufferSizeCapped++;
      }
    } catch {
      this.counters.bufferSizeCapped++;
    }
  }

  /** Starts reading a bound socket and sizes its kernel buffers. */
  private adopt(bound: BoundSocket): void {
    const { socket, local } = bound;
    this.sockets.set(local.address, bound);
    this.sizeBuffers(socket);
    if (!this.refed) socket.unref();
    socket.on('message', (msg, rinfo) => {
      const remote = { address: rinfo.address, port: rinfo.port };
      // Another worker of the cluster: an envelope from the shared port.
      if (this.router !== null && rinfo.port === this.router.sharedPort && this.router.fromHost(msg, remote)) return;
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
          this.bindOne(address, options.port)
            .catch(() => this.bindOne(address, 0))
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
    return [...this.sockets.values()].map((b) => ({ ...b.local }));
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
    setImmediate(this.runScheduledFlush);
  }

  private readonly runScheduledFlush = (): void => {
    this.flushScheduled = false;
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
      this.beforeTransmits = true;
      try {
        this.drainEvents();
      } finally {
        this.beforeTransmits = false;
      }
      const more = this.drainTransmits(this.clock.now());
      this.drainEvents();
      if (more) this.requestFlush();
    } finally {
      this.flushing = false;
      this.armTimer();
    }
    this.handler.flushed?.();
  }

  /** Hands every event to the handler (which may run application code). */
  private drainEvents(): void {
    while (!this.closed) {
      const event = this.call(this.pollEventCall);
      if (!event) return;
      if (event.type === 'accepted') this.handler.accepted(event.connection);
      else this.handler.connectionEvent(event.connection, event.event);
    }
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
    const bound =
      (this.router !== null && transmit.local.port === this.router.sharedPort ? this.shared.get(transmit.local.address) : undefined) ??
      this.sockets.get(transmit.local.address);
    if (!bound) {
      countDrop(this.counters.drops, 'no-socket');
      return;
    }
    try {
      // The endpoint's own datagrams (a stateless reset to a connection we forgot) open no socket.
      const peer = bound.peers?.lookup(transmit.remote, !this.core.lastTransmitStateless) ?? null;
      if (peer !== null) peer.socket.send(transmit.data, peer.onSent);
      else bound.socket.send(transmit.data, transmit.remote.port, transmit.remote.address, this.onSent);
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

  /**
   * Arms the one timer at the core's next deadline (or clears it). A
   * deadline already due runs on the next turn of the event loop; any
   * later one, however close, waits for a setTimeout of at least 1 ms
   * (Node's granularity). Running a deadline less than 1 ms away on the
   * next turn instead spins the event loop until it comes: a sender
   * waiting for its pacer (next packet due in a few hundred µs) ran its
   * timer 138,412 times for 21,297 datagrams in a 4 s upload through a
   * 50 Mbit/s relay, and 1,386 times with the wait (docs/bench.md). The
   * pacer makes up for the wait: its bucket holds 2 ms of the rate, and a
   * late call sends what the rate earned since the packet was due
   * (path/pacer.ts).
   */
  private armTimer(): void {
    if (this.closed) return;
    const deadline = this.call(this.pollTimeoutCall);
    if (deadline === null || deadline === undefined) {
      this.clearTimer();
      return;
    }
    // A timer armed for an earlier deadline is kept: firing early is
    // harmless (handleTimeout acts only on what is due, and the flush after
    // it re-arms), and cheaper than clearing and setting a timer on every
    // flush while the deadline moves later with each acknowledgement.
    if (this.timer === null || this.timerDeadline === null || deadline < this.timerDeadline) {
      this.clearTimer();
      const delay = deadline - this.clock.now();
      this.timerIsImmediate = delay <= 0;
      this.timer = delay <= 0 ? setImmediate(this.onTimer) : setTimeout(this.onTimerExpired, Math.max(1, Math.ceil(delay)));
      this.timerDeadline = deadline;
    }
    // Keep the process alive while a connection needs the timer.
    if (this.refed && this.call(this.connectionCountCall) > 0) this.timer.ref();
    else this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer === null) return;
    if (this.timerIsImmediate) clearImmediate(this.timer as NodeJS.Immediate);
    else clearTimeout(this.timer as NodeJS.Timeout);
    this.timer = null;
    this.timerDeadline = null;
  }

  /**
   * A setTimeout expired. It runs in the timers phase, before this turn's
   * poll phase reads the sockets: after a stall (the process descheduled on
   * a loaded machine, a long GC, an application blocking the loop), an ACK
   * that arrived in time waits there unread, and handling the timeout first
   * fires a spurious PTO (a retransmission, and path MTU discovery falling
   * back to 1200 and probing again). So the timeout is handled in the check
   * phase of the same turn, after the poll phase has handed every waiting
   * datagram to the core.
   */
  private readonly onTimerExpired = (): void => {
    this.timer = null;
    if (this.closed) {
      this.timerDeadline = null;
      return;
    }
    this.timer = setImmediate(this.onTimer);
    this.timerIsImmediate = true;
  };

  private readonly onTimer = (): void => {
    this.timer = null;
    this.timerDeadline = null;
    if (this.closed) return;
    this.counters.timeouts++;
    this.call(() => this.core.handleTimeout(this.clock.now()));
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
    for (const b of this.shared.values()) b.socket.unref();
    for (const b of this.sockets.values()) {
      b.socket.unref();
      b.peers?.unref();
    }
    this.timer?.unref();
  }

  /** Undoes unref(). */
  ref(): void {
    this.refed = true;
    for (const b of this.shared.values()) b.socket.ref();
    for (const b of this.sockets.values()) {
      b.socket.ref();
      b.peers?.ref();
    }
    if (this.timer && this.call(this.connectionCountCall) > 0) this.timer.ref();
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
    this.clearTimer();
    this.router?.stop();
    const sockets = [...this.sockets.values(), ...this.shared.values()];
    this.sockets.clear();
    this.shared.clear();
    return Promise.all(
      sockets.map((b) => new Promise<void>((resolve) => {
        void b.peers?.close();
        try {
          b.socket.close(() => resolve());
        } catch {
          resolve();
        }
      })),
    ).then(() => undefined);
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
    let connectedSockets = 0;
    for (const b of this.sockets.values()) connectedSockets += b.peers?.size ?? 0;
    return {
      ...c,
      sendErrors: { ...c.sendErrors },
      pathErrors: { ...c.pathErrors },
      connectedSockets,
      drops: { ...c.drops },
      core: this.coreStats() ?? { connections: 0, accepted: 0, halfOpen: 0, retriesSent: 0, statelessResetsSent: 0, refusalsSent: 0, internalErrors: 0, cidCollisions: 0, drops: {} },
      ...(this.router !== null ? { cluster: this.router.stats() } : {}),
    };
  }
}
