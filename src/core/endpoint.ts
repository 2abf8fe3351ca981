/**
 * EndpointCore: the sans-IO demultiplexer in front of many connections, in
 * the manner of quinn-proto's Endpoint. Datagrams are routed by destination
 * connection ID (never by address, so a connection survives any address
 * change).
 *
 * A server commits nothing to a new Initial before checking it
 * (validate-before-commit): the datagram is decoded and its HELLO checked
 * first, junk only bumps a counter (which counts toward the retry
 * threshold), and a flood is answered with stateless Retry cookies. The
 * connection it then creates stays half-open, invisible to the application,
 * until the client's first protected packet confirms the handshake from the
 * Initial's address; only then is it announced ('accepted'). A half-open
 * connection that is never confirmed ends silently after connectTimeout.
 *
 * The endpoint also answers packets for connections it does not know with a
 * stateless reset, and recognizes the peers' resets by their tokens.
 *
 * In sibling modules: what becomes of an Initial (admission.ts), the
 * resets sent (stateless-reset.ts), the connections by CID (cid-table.ts).
 */
import { peekDcid, peekPacketType } from '../wire/header.js';
import { PacketType } from '../wire/types.js';
import { BusyList, type BusyMember } from './busy-list.js';
import { CidTable } from './cid-table.js';
import { CidFormat } from './cid/format.js';
import { DeadlineHeap, type HeapItem } from './deadline-heap.js';
import { Connection } from './connection.js';
import { fingerprint, x25519KeyPair, type X25519KeyPair } from './crypto/keys.js';
import { EndpointTokens } from './crypto/tokens.js';
import type { HelloFrame } from './handshake.js';
import { encodeRefusal } from './refusal.js';
import { resolveOptions, type ClientConfig, type ConnectionOptions, type EndpointConfig } from './options.js';
import { countDrop } from './stats.js';
import { bytesKey } from './bytes-key.js';
import type { EndpointStats } from './endpoint-stats.js';
import { Admission } from './admission.js';
import { PeerResetTokens, StatelessResets } from './stateless-reset.js';
import type { ConnectionEvent, SocketAddress, Transmit } from './types.js';

export type EndpointEvent =
  /** A server accepted a new connection: its handshake completed and the client's address is validated. */
  | { type: 'accepted'; connection: Connection }
  /** Something happened on one connection. */
  | { type: 'connection'; connection: Connection; event: ConnectionEvent };

export type { EndpointStats } from './endpoint-stats.js';
/** Default cap on connections. */
export const DEFAULT_MAX_CONNECTIONS = 100_000;

/** One connection as the endpoint tracks it. */
interface Entry extends HeapItem, BusyMember {
  connection: Connection;
  /** Cached pollTimeout() of the connection (valid while heapIndex ≥ 0), refreshed whenever it is touched. */
  deadline: number;
  /** Its place in the deadline heap; -1 while it has no deadline. */
  heapIndex: number;
  /** Counted in connectionCount (announced, 'closed' not emitted yet). */
  live: boolean;
  /** Keys under which it is indexed (its CID, and a server's initial DCID). */
  keys: string[];
  /** Server: the source address it counts against while half-open, or null once confirmed or closed. */
  halfOpenFrom: string | null;
  /** Announced to the application (clients at once, servers once confirmed). */
  announced: boolean;
  /** The peer's stateless reset token under which it is indexed, if any. */
  resetKey: string | null;
  /** Its place in the busy list; -1 while it is not busy. */
  busyIndex: number;
}

/** The per-datagram calls into a connection, for guard(): module functions, not a closure per call. */
const onDatagram = (c: Connection, now: number, data: Uint8Array, local: SocketAddress, remote: SocketAddress): void => c.handleDatagram(data, local, remote, now);
const onTimeout = (c: Connection, now: number): void => c.handleTimeout(now);
const nextTransmit = (c: Connection, now: number): Transmit | null => c.pollTransmit(now);
const nextDeadline = (c: Connection): number | null => c.pollTimeout();

export class EndpointCore {
  /** Connections by CID (cid-table.ts). */
  private readonly byCid = new CidTable<Entry>();
  /** Connections by the peer's stateless reset token. */
  private readonly byResetToken = new PeerResetTokens<Entry>();
  /** Every live connection. */
  private readonly entries = new Map<Connection, Entry>();
  /** Connections that may have datagrams or events to give (their deadline is refreshed before it is read). */
  private readonly busy = new BusyList<Entry>();
  /** Connections by their next deadline, those in `busy` possibly stale. */
  private readonly deadlines = new DeadlineHeap<Entry>();
  /** Announced connections that have not emitted 'closed' (connectionCount). */
  private live = 0;
  /** Connections forgotten (forgottenCount). */
  private forgotten = 0;
  /** Endpoint-level datagrams (retries, stateless resets). */
  private readonly outbox: Transmit[] = [];
  /** Endpoint-level events. */
  private readonly events: EndpointEvent[] = [];
  /** Cookies, the reset key. */
  private readonly tokens: EndpointTokens;
  /** Whether new connections are accepted. */
  private accepting: boolean;
  /** Options every accepted connection gets. */
  private readonly serverOptions: ConnectionOptions;
  private readonly counters = { accepted: 0, retriesSent: 0, statelessResetsSent: 0, refusalsSent: 0, internalErrors: 0, cidCollisions: 0 };
  /**
   * The datagram pollTransmit() returned last is the endpoint's own (a
   * retry, a stateless reset, a refusal), not a connection's: the io layer
   * opens no connected socket for it.
   */
  lastTransmitStateless = false;
  /** The last internal error caught (for diagnostics), or null. */
  lastInternalError: Error | null = null;
  private readonly drops: Record<string, number> = {};
  /** Latest time seen. */
  private now = 0;
  /** Server: the addresses it serves on. */
  private readonly localAddresses: SocketAddress[];
  /** The connection IDs this endpoint issues (src/core/cid/format.ts). */
  private cidFormat: CidFormat;
  /** Server: the long-term key every handshake proves. */
  private readonly staticKey: X25519KeyPair | null;
  /** Server: what becomes of an Initial for no known connection, and the half-open counts (admission.ts). */
  private readonly admission: Admission;
  /** Answers to packets for connections we do not know (stateless-reset.ts). */
  private readonly resets: StatelessResets;

  constructor(readonly config: EndpointConfig) {
    this.accepting = config.server;
    this.cidFormat = config.cidFormat ?? new CidFormat({ quicLb: null, slot: null });
    const cookieKey = config.random(32);
    const secret = config.server ? (config.staticKey ?? config.random(32)) : config.random(32);
    this.staticKey = config.server ? x25519KeyPair(secret) : null;
    this.tokens = new EndpointTokens(cookieKey, secret);
    this.serverOptions = resolveOptions(config.connectionDefaults);
    this.localAddresses = (config.localAddresses ?? []).map((a) => ({ ...a }));
    this.admission = new Admission(config, this.tokens, this.drops);
    this.resets = new StatelessResets(this.tokens, config.random, (cid) => this.cidFormat.issued(cid), this.drops);
  }

  /** Server: the fingerprint of its long-term key (what clients pin), else null. */
  get fingerprint(): string | null {
    return this.staticKey === null ? null : fingerprint(this.staticKey.publicKey);
  }

  /**
   * A new server connection knows every serving address, the one the
   * Initial came to first. An address the endpoint does not serve on (a
   * cluster's shared port, which only takes first contact) carries path 0
   * but is not the connection's: it is never advertised, and the client
   * moves to the addresses that are (docs/protocol.md, "Cluster").
   */
  private localAddressesFor(local: SocketAddress): SocketAddress[] {
    const rest = this.localAddresses.filter((a) => !(a.address === local.address && a.port === local.port));
    if (rest.length === this.localAddresses.length && rest.length > 0) return rest.map((a) => ({ ...a }));
    return [{ ...local }, ...rest];
  }

  /**
   * Changes the CIDs issued from now on (a cluster worker learns its slot
   * once it has bound its port). Only before any connection exists: a CID
   * format must not change under live connections.
   */
  setCidFormat(format: CidFormat): void {
    if (this.entries.size > 0) throw new Error('the CID format cannot change while connections exist');
    this.cidFormat = format;
  }

  /** The CIDs this endpoint issues. */
  get cids(): CidFormat {
    return this.cidFormat;
  }

  /**
   * A CID no live connection of this endpoint uses. With random nonces a
   * repeat is possible (a 4-byte nonce repeats about every 2^16 CIDs);
   * it is drawn again and counted.
   */
  private issueCid(): Uint8Array {
    for (;;) {
      const cid = this.cidFormat.issue(this.config.random);
      if (!this.byCid.has(cid)) return cid;
      this.counters.cidCollisions++;
    }
  }

  /** Starts a client connection. */
  connect(config: ClientConfig, now: number): Connection {
    this.now = Math.max(this.now, now);
    const { localAddresses, remoteAddresses, backupAddresses, serverFingerprint, ...rest } = config;
    const options = resolveOptions(this.config.connectionDefaults, rest);
    const localCid = this.issueCid();
    const connection = new Connection({
      role: 'client',
      random: this.config.random,
      now,
      options,
      localCid,
      resetToken: this.tokens.resetToken(localCid),
      localAddresses,
      remoteAddresses,
      backupAddresses: backupAddresses ?? [],
      ...(serverFingerprint !== undefined ? { serverFingerprint } : {}),
      ephemeralKey: this.config.keyPairs?.() ?? null,
    });
    this.register(connection, [bytesKey(localCid)], null, true);
    return connection;
  }

  handleDatagram(data: Uint8Array, local: SocketAddress, remote: SocketAddress, now: number): void {
    this.now = Math.max(this.now, now);
    const last = this.byCid.lastFor(data);
    if (last !== null) {
      this.guard(last, now, onDatagram, data, local, remote);
      this.settle(last);
      return;
    }
    const dcid = peekDcid(data);
    if (dcid === null) {
      countDrop(this.drops, 'decode');
      return;
    }
    const entry = this.byCid.get(dcid);
    if (entry !== undefined) {
      this.guard(entry, now, onDatagram, data, local, remote);
      this.settle(entry);
      return;
    }
    const type = peekPacketType(data);
    if (type === PacketType.Initial) {
      this.accept(data, dcid, local, remote, now);
      return;
    }
    if (type === PacketType.Short && this.onStatelessReset(data, now)) return;
    countDrop(this.drops, 'unknown-connection');
    if (type === PacketType.Short) this.sendStatelessReset(data, dcid, local, remote, now);
  }

  handleTimeout(now: number): void {
    this.now = Math.max(this.now, now);
    // Only the connections whose deadline passed, earliest first. Each
    // leaves the heap and is busy until its next deadline is read.
    for (let entry = this.deadlines.peek(); entry !== undefined && entry.deadline <= now; entry = this.deadlines.peek()) {
      this.deadlines.remove(entry);
      this.guard(entry, now, onTimeout);
      this.settle(entry);
    }
  }

  pollTransmit(now: number): Transmit | null {
    this.now = Math.max(this.now, now);
    const own = this.outbox.shift();
    this.lastTransmitStateless = own !== undefined;
    if (own !== undefined) return own;
    for (let entry = this.busy.next(); entry !== undefined; entry = this.busy.next()) {
      const t = this.guard(entry, now, nextTransmit);
      if (t !== null && t !== undefined) {
        // Round robin: the next datagram comes from the next busy connection,
        // so one with much to send cannot hold the io layer's per-flush
        // budget while others (an ACK, a retransmission) wait behind it.
        this.busy.advance();
        return t;
      }
      this.drainEvents(entry);
      this.refreshDeadline(entry, now);
      this.busy.delete(entry);
      if (entry.connection.isClosed && (entry.connection.closedEmitted || !entry.announced)) this.forget(entry);
    }
    return null;
  }

  /** The earliest deadline of any connection: those touched since they were last asked are asked again, the others' are known. */
  pollTimeout(): number | null {
    const busy = this.busy;
    for (let i = 0; i < busy.size; i++) this.refreshDeadline(busy.at(i), this.now);
    return this.deadlines.peek()?.deadline ?? null;
  }

  /** Asks a connection for its next deadline and files it. */
  private refreshDeadline(entry: Entry, now: number): void {
    if (!this.entries.has(entry.connection)) return;
    this.deadlines.set(entry, this.guard(entry, now, nextDeadline) ?? null);
  }

  pollEvent(): EndpointEvent | null {
    if (this.events.length === 0) {
      const busy = this.busy;
      for (let i = 0; i < busy.size; i++) this.drainEvents(busy.at(i));
    }
    return this.events.shift() ?? null;
  }

  /**
   * The application acted on `connection` (write, end, close, read): it may
   * have datagrams to send now.
   */
  touch(connection: Connection): void {
    const entry = this.entries.get(connection);
    if (entry !== undefined) this.touchEntry(entry);
  }

  /**
   * The host gained an address: every connection hears of it, or those
   * `only` picks (a client endpoint shared by connections that asked for
   * different addresses).
   */
  addLocalAddress(addr: SocketAddress, now: number, only?: (connection: Connection) => boolean): void {
    if (!this.localAddresses.some((a) => a.address === addr.address && a.port === addr.port)) this.localAddresses.push({ ...addr });
    for (const entry of this.entries.values()) {
      if (only !== undefined && !only(entry.connection)) continue;
      this.guard(entry, now, () => entry.connection.addLocalAddress(addr, now));
      this.touchEntry(entry);
    }
  }

  /** The host lost an address: every connection fails the paths on it. */
  removeLocalAddress(addr: SocketAddress, now: number): void {
    const i = this.localAddresses.findIndex((a) => a.address === addr.address && a.port === addr.port);
    if (i >= 0) this.localAddresses.splice(i, 1);
    for (const entry of this.entries.values()) {
      this.guard(entry, now, () => entry.connection.removeLocalAddress(addr, now));
      this.touchEntry(entry);
    }
  }

  /** Connections forgotten so far: what the io layer keeps for one needs looking at only when this moved. */
  get forgottenCount(): number {
    return this.forgotten;
  }

  /** Whether the endpoint still holds `connection` (a closed one may still send its CLOSE and drain). */
  holds(connection: Connection): boolean {
    return this.entries.has(connection);
  }

  /** Stop accepting new connections (server close). */
  stopAccepting(): void {
    this.accepting = false;
  }

  /** Announced connections that have not yet emitted 'closed' (draining and half-open ones are not counted). */
  get connectionCount(): number {
    return this.live;
  }

  stats(): EndpointStats {
    return {
      connections: this.entries.size,
      accepted: this.counters.accepted,
      halfOpen: this.admission.halfOpen,
      retriesSent: this.counters.retriesSent,
      statelessResetsSent: this.counters.statelessResetsSent,
      refusalsSent: this.counters.refusalsSent,
      cidCollisions: this.counters.cidCollisions,
      internalErrors: this.counters.internalErrors,
      drops: { ...this.drops },
    };
  }

  /**
   * Runs one call into one connection. An exception there is a fault of
   * that connection alone (failConnection), never swallowed while the
   * half-updated connection runs on.
   */
  private guard<T, A = undefined, B = undefined, C = undefined>(
    entry: Entry,
    now: number,
    fn: (connection: Connection, now: number, a: A, b: B, c: C) => T,
    a?: A,
    b?: B,
    c?: C,
  ): T | undefined {
    try {
      return fn(entry.connection, now, a as A, b as B, c as C);
    } catch (err) {
      this.failConnection(entry.connection, err, now);
      return undefined;
    } finally {
      this.recount(entry);
    }
  }

  /**
   * The one capture of a fault inside one connection's code, whoever
   * called into it (this endpoint, or the io layer on the application's
   * behalf: write, read, end, close): that connection alone ends with
   * ERR_MPUDP_INTERNAL, counted, and every other connection goes on. Its
   * 'closed' event comes out of pollEvent() like any other.
   */
  failConnection(connection: Connection, err: unknown, now: number): void {
    this.now = Math.max(this.now, now);
    this.counters.internalErrors++;
    this.lastInternalError = err instanceof Error ? err : new Error(String(err));
    countDrop(this.drops, 'internal-error');
    connection.failInternal(err, now);
    const entry = this.entries.get(connection);
    if (entry !== undefined) this.touchEntry(entry);
  }

  /**
   * A fault in the endpoint's own code, which no connection owns (the
   * demultiplexer's maps, the half-open counts, the outbox): nothing it
   * holds can be trusted, so every connection ends with ERR_MPUDP_INTERNAL
   * and the endpoint accepts nothing more. The io layer then closes it and
   * reports the fault (docs/api.md, "Internal errors"). Returns how many
   * connections were ended.
   */
  failAll(err: unknown, now: number): number {
    this.accepting = false;
    let ended = 0;
    for (const connection of this.entries.keys()) {
      if (connection.isClosed && connection.closedEmitted) continue;
      try {
        connection.failInternal(err, now);
      } catch {
        // It is being abandoned either way.
      }
      ended++;
    }
    return ended;
  }

  /** Keeps connectionCount current: a connection counts from its announcement until it emits 'closed'. */
  private recount(entry: Entry): void {
    const live = entry.announced && !entry.connection.closedEmitted && this.entries.has(entry.connection);
    if (live === entry.live) return;
    entry.live = live;
    this.live += live ? 1 : -1;
  }

  private register(connection: Connection, keys: string[], halfOpenFrom: string | null, announced: boolean): Entry {
    const entry: Entry = { connection, deadline: 0, heapIndex: -1, live: false, keys, halfOpenFrom, announced, resetKey: null, busyIndex: -1 };
    this.byCid.add(keys, entry);
    this.entries.set(connection, entry);
    this.busy.add(entry);
    this.recount(entry);
    if (halfOpenFrom !== null) this.admission.enter(halfOpenFrom);
    return entry;
  }

  /** After the connection ran: half-open bookkeeping, its reset token, and a poll soon. */
  private settle(entry: Entry): void {
    const conn = entry.connection;
    if (entry.halfOpenFrom !== null && (conn.handshakeConfirmed || conn.isClosed)) this.leaveHalfOpen(entry);
    const token = conn.peerResetToken;
    if (token !== null && !conn.isClosed) this.byResetToken.note(entry, token);
    this.touchEntry(entry);
  }

  private leaveHalfOpen(entry: Entry): void {
    this.admission.leave(entry.halfOpenFrom!);
    entry.halfOpenFrom = null;
  }

  private touchEntry(entry: Entry): void {
    if (!this.entries.has(entry.connection)) return;
    this.busy.add(entry);
    this.recount(entry);
  }

  /**
   * Moves a connection's events to the endpoint's queue. A server
   * connection is announced ('accepted') with its 'connected' event; the
   * events of one never announced (a half-open handshake that expired) are
   * not the application's business.
   */
  private drainEvents(entry: Entry): void {
    const conn = entry.connection;
    for (let ev = conn.pollEvent(); ev !== null; ev = conn.pollEvent()) {
      if (!entry.announced) {
        if (ev.type !== 'connected') {
          if (ev.type === 'closed') countDrop(this.drops, 'half-open-expired');
          continue;
        }
        entry.announced = true;
        this.recount(entry);
        this.counters.accepted++;
        this.events.push({ type: 'accepted', connection: conn });
      }
      this.events.push({ type: 'connection', connection: conn, event: ev });
    }
  }

  private forget(entry: Entry): void {
    this.byCid.remove(entry.keys, entry);
    this.byResetToken.forget(entry);
    if (entry.halfOpenFrom !== null) this.leaveHalfOpen(entry);
    this.entries.delete(entry.connection);
    this.busy.delete(entry);
    this.deadlines.remove(entry);
    this.recount(entry);
    this.forgotten++;
  }

  /**
   * Server: a datagram whose first byte says Initial, for no known
   * connection. Everything that can be checked is checked before any state
   * or key exists.
   */
  private accept(data: Uint8Array, dcid: Uint8Array, local: SocketAddress, remote: SocketAddress, now: number): void {
    if (!this.config.server) {
      countDrop(this.drops, 'not-accepting');
      return;
    }
    const hello = this.admission.check(data, now);
    if (hello === null) return;
    if (!this.accepting) {
      countDrop(this.drops, 'not-accepting');
      this.refuse(hello, local, remote, 'the server is closing');
      return;
    }
    const max = this.config.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    if (this.entries.size >= max) {
      countDrop(this.drops, 'too-many-connections');
      this.refuse(hello, local, remote, 'the server is full');
      return;
    }
    const admit = this.admission.decide(hello, dcid, remote, now);
    if (admit === 'retry') {
      this.counters.retriesSent++;
      this.outbox.push({ data: this.admission.retry(dcid, hello.cid, remote, now), local, remote });
    }
    if (admit !== 'accept') return;
    const localCid = this.issueCid();
    let connection: Connection;
    try {
      connection = this.newServerConnection(localCid, dcid, local, remote, now);
    } catch (err) {
      // A fault building this one connection: nothing was registered yet, so nothing else is touched.
      this.counters.internalErrors++;
      this.lastInternalError = err instanceof Error ? err : new Error(String(err));
      countDrop(this.drops, 'internal-error');
      return;
    }
    const entry = this.register(connection, [bytesKey(localCid), bytesKey(dcid)], remote.address, false);
    this.guard(entry, now, () => connection.handleDatagram(data, local, remote, now));
    if (!connection.helloReceived) {
      // Checked above, so only a key the Diffie-Hellman refuses (low order) gets here.
      this.admission.junk('bad-key', now);
      this.forget(entry);
      return;
    }
    this.settle(entry);
  }

  /** A server connection for a checked Initial (not registered yet). */
  private newServerConnection(localCid: Uint8Array, dcid: Uint8Array, local: SocketAddress, remote: SocketAddress, now: number): Connection {
    return new Connection({
      role: 'server',
      random: this.config.random,
      now,
      options: this.serverOptions,
      localCid,
      resetToken: this.tokens.resetToken(localCid),
      localAddresses: this.localAddressesFor(local),
      remoteAddresses: [remote],
      initialDcid: new Uint8Array(dcid),
      staticKey: this.staticKey!,
      ephemeralKey: this.config.keyPairs?.() ?? null,
    });
  }

  /** Refuses a checked Initial at once, statelessly (src/core/refusal.ts). */
  private refuse(hello: HelloFrame, local: SocketAddress, remote: SocketAddress, reason: string): void {
    this.counters.refusalsSent++;
    this.outbox.push({ data: encodeRefusal(hello.cid, reason), local, remote });
  }

  /**
   * The io layer reports an error for an address pair (an ICMP port
   * unreachable): every connection hears of it (a client endpoint has one).
   */
  handlePathError(local: SocketAddress, remote: SocketAddress, code: string, now: number): void {
    this.now = Math.max(this.now, now);
    for (const entry of this.entries.values()) {
      this.guard(entry, now, () => entry.connection.handlePathError(local, remote, code, now));
      this.touchEntry(entry);
    }
  }

  /** A Short packet for no connection we know: a stateless reset, maybe (stateless-reset.ts). */
  private sendStatelessReset(data: Uint8Array, dcid: Uint8Array, local: SocketAddress, remote: SocketAddress, now: number): void {
    const reset = this.resets.answer(data, dcid, now);
    if (reset === null) return;
    this.counters.statelessResetsSent++;
    this.outbox.push({ data: reset, local, remote });
  }

  /** A datagram ending in a peer's reset token: that peer lost the connection. */
  private onStatelessReset(data: Uint8Array, now: number): boolean {
    const entry = this.byResetToken.match(data);
    if (entry === undefined) return false;
    this.guard(entry, now, () => entry.connection.onStatelessReset(now));
    countDrop(this.drops, 'stateless-reset');
    this.settle(entry);
    return true;
  }
}
