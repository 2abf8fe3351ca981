/**
 * Client connections of one process share their endpoint: one EndpointCore
 * routing by connection ID, one socket per local address (on an ephemeral
 * port), one socket connected to each server address beside it, one timer
 * and one address watch. A process holding 10,000 connections to one
 * server holds about two sockets per local address, not two per
 * connection (which ran the bench's hold client out of file descriptors,
 * issue #11), and opening a connection binds nothing once the first one
 * has.
 *
 * Each connection leases the endpoint (lease()); the last lease to end
 * closes it, and the next connection opens a new one. What one connection
 * does never closes a socket another uses: its connected sockets are
 * counted per user (peer-sockets.ts), and ref()/unref() count too (the
 * sockets keep the process alive while any connection wants them to).
 * Closing a local address (an interface gone) is the host's business and
 * reaches every connection on it.
 *
 * Connections whose address watch reads its own source (tests inject one)
 * get an endpoint of their own.
 */
import type { Connection } from '../core/connection.js';
import type { ClientConfig } from '../core/options.js';
import type { ConnectionEvent, SocketAddress } from '../core/types.js';
import type { EndpointHandler } from './endpoint-types.js';
import type { AddressSource } from './interface-watch.js';
import { UdpEndpoint } from './udp-endpoint.js';
import type { PeerPair } from './local-sockets.js';

/** What one connection asks of its endpoint. */
export interface LeaseRequest {
  /** Receives the connection's events. */
  handler: EndpointHandler;
  /** Local addresses to use; bound if no connection has yet. */
  locals: readonly string[];
  /** Use those of `locals` that bind (defaults); false: every one must. */
  tolerant: boolean;
  /** The server addresses (a connected socket is opened to each). */
  remotes: readonly SocketAddress[];
  /** The rest of the connection's configuration. */
  config: Omit<ClientConfig, 'localAddresses' | 'remoteAddresses'>;
  /** The address watch: its poll interval and, in tests, its source. */
  watch: { interval: number; source?: AddressSource | undefined };
  /** Whether this connection opens paths from an address that appears. */
  wanted: (address: string) => boolean;
  /** True once the application gave up on the connection (then nothing is started). */
  cancelled: () => boolean;
}

/** One connection's share of a client endpoint. */
export interface ClientLease {
  readonly endpoint: UdpEndpoint;
  readonly connection: Connection;
  /** Whether this connection keeps the process alive (default true). */
  ref(): void;
  unref(): void;
  /** The connection ended: its share is given back (the last one closes the endpoint). */
  release(): void;
}

interface Member {
  connection: Connection;
  handler: EndpointHandler;
  wanted: (address: string) => boolean;
  refed: boolean;
  pairs: PeerPair[];
}

/** One endpoint and the connections that lease it. */
class SharedClientEndpoint implements EndpointHandler {
  readonly endpoint: UdpEndpoint;
  private readonly members = new Map<Connection, Member>();
  /** Leases being set up (binding, connecting sockets). */
  private pending = 0;
  private refedCount = 0;
  /** Whether the endpoint was last told ref() (true: a new UdpEndpoint starts refed). */
  private endpointRefed = true;
  /** Connections that ended but may still send (their CLOSE) and drain: their connected sockets are released once the core forgets them. */
  private leaving: Member[] = [];
  /** The core's forgottenCount when `leaving` was last looked at. */
  private forgottenSeen = 0;
  private closed = false;

  constructor(
    watch: LeaseRequest['watch'],
    private readonly onClose: () => void,
  ) {
    this.endpoint = new UdpEndpoint({ server: false, handler: this });
    this.endpoint.watchAddresses({
      interval: watch.interval,
      port: 0,
      ...(watch.source !== undefined ? { source: watch.source } : {}),
      wanted: (address) => {
        for (const m of this.members.values()) if (m.wanted(address)) return true;
        return false;
      },
      wantedBy: (connection, address) => this.members.get(connection)?.wanted(address) ?? false,
    });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  async lease(req: LeaseRequest): Promise<ClientLease | null> {
    this.pending++;
    try {
      const locals = await this.endpoint.ensureBound(req.locals, req.tolerant);
      if (req.cancelled() || this.endpoint.isClosed) return this.refused(req);
      // Sockets connected to each server address, so an ICMP port unreachable
      // (nothing listens there) refuses first contact in one round trip.
      const pairs = await this.endpoint.connectPeers(req.remotes, locals);
      if (req.cancelled() || this.endpoint.isClosed) {
        this.endpoint.releasePeers(pairs);
        return this.refused(req);
      }
      const connection = this.endpoint.connect({ ...req.config, remoteAddresses: [...req.remotes], localAddresses: locals });
      if (connection === null) {
        this.endpoint.releasePeers(pairs);
        return this.refused(req);
      }
      const member: Member = { connection, handler: req.handler, wanted: req.wanted, refed: true, pairs };
      this.members.set(connection, member);
      this.refedCount++;
      this.applyRef();
      return {
        endpoint: this.endpoint,
        connection,
        ref: () => this.setRef(member, true),
        unref: () => this.setRef(member, false),
        release: () => this.release(connection),
      };
    } finally {
      this.pending--;
      this.closeIfUnused();
    }
  }

  /** No lease: if a fault stopped the endpoint meanwhile, the connection's handler hears it (ERR_MPUDP_INTERNAL). */
  private refused(req: LeaseRequest): null {
    const fault = this.endpoint.fault;
    if (fault !== null && !req.cancelled()) process.nextTick(() => req.handler.endpointFailed(fault));
    return null;
  }

  /**
   * EndpointHandler: the shared endpoint's core threw (fault-capture.ts): it
   * is closed, so every connection on it ends with ERR_MPUDP_INTERNAL, and
   * the next connection opens a new endpoint.
   */
  endpointFailed(err: Error): void {
    if (!this.closed) {
      this.closed = true;
      this.onClose();
    }
    const members = [...this.members.values()];
    this.members.clear();
    this.leaving = [];
    for (const m of members) m.handler.endpointFailed(err);
  }

  private setRef(member: Member, refed: boolean): void {
    if (member.refed === refed || this.members.get(member.connection) !== member) return;
    member.refed = refed;
    this.refedCount += refed ? 1 : -1;
    this.applyRef();
  }

  /**
   * The sockets and the timer keep the process alive while any connection
   * wants them to. The endpoint hears only the changes: ref() and unref()
   * walk every socket (one per local address and one per server address
   * beside each: 3–6 µs with the bench's 16 sources), and every lease and
   * every release called one. Sockets and timers the endpoint makes later
   * follow its own flag.
   */
  private applyRef(): void {
    const wanted = this.refedCount > 0;
    if (wanted === this.endpointRefed) return;
    this.endpointRefed = wanted;
    if (wanted) this.endpoint.ref();
    else this.endpoint.unref();
  }

  private release(connection: Connection): void {
    const member = this.members.get(connection);
    if (member === undefined) return;
    this.members.delete(connection);
    if (member.refed) this.refedCount--;
    // Held while it sends its CLOSE and drains; one already forgotten lets go now.
    if (this.endpoint.core.holds(connection)) this.leaving.push(member);
    else this.endpoint.releasePeers(member.pairs);
    this.applyRef();
    this.closeIfUnused();
  }

  /**
   * EndpointHandler: after each flush, the connected sockets of connections
   * the core forgot are given back. Only a flush in which the core forgot a
   * connection looks (every flush used to ask about every draining
   * connection: 1 % of the client's CPU in the handshake bench).
   */
  flushed(): void {
    const forgotten = this.endpoint.core.forgottenCount;
    if (this.leaving.length === 0 || forgotten === this.forgottenSeen) return;
    this.forgottenSeen = forgotten;
    const still: Member[] = [];
    for (const m of this.leaving) {
      if (this.endpoint.core.holds(m.connection)) still.push(m);
      else this.endpoint.releasePeers(m.pairs);
    }
    this.leaving = still;
  }

  private closeIfUnused(): void {
    if (this.closed || this.members.size > 0 || this.pending > 0) return;
    this.closed = true;
    this.onClose();
    void this.endpoint.close();
  }

  /** EndpointHandler: a client endpoint never accepts. */
  accepted(connection: Connection): void {
    connection.close(2, 'client endpoint'); // ERROR_CODE_FAILED
  }

  /** EndpointHandler: to the connection's own handler. */
  connectionEvent(connection: Connection, event: ConnectionEvent): void {
    this.members.get(connection)?.handler.connectionEvent(connection, event);
  }
}

/** Shared endpoints by address-watch interval (and source, which only tests set). */
const shared = new Map<number, SharedClientEndpoint>();

/**
 * Starts a client connection on the process's shared endpoint (opened if
 * there is none): binds what it needs, connects the sockets, starts the
 * handshake. Null if `req.cancelled()` turned true on the way.
 */
export function leaseClientEndpoint(req: LeaseRequest): Promise<ClientLease | null> {
  if (req.watch.source !== undefined) {
    // An injected address source: an endpoint of its own.
    return new SharedClientEndpoint(req.watch, () => undefined).lease(req);
  }
  const key = req.watch.interval;
  let endpoint = shared.get(key);
  if (endpoint === undefined || endpoint.isClosed) {
    const created = new SharedClientEndpoint(req.watch, () => {
      if (shared.get(key) === created) shared.delete(key);
    });
    shared.set(key, created);
    endpoint = created;
  }
  return endpoint.lease(req);
}

/** The process's shared client endpoints open now (tests, diagnostics). */
export function sharedClientEndpoints(): UdpEndpoint[] {
  return [...shared.values()].map((s) => s.endpoint);
}
