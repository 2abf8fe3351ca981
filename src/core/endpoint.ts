/**
 * EndpointCore: the sans-IO demultiplexer in front of many connections, in
 * the manner of quinn-proto's Endpoint. Datagrams are routed by destination
 * connection ID (never by address, so a connection survives any address
 * change); a server creates a connection for each new Initial, and answers a
 * flood with stateless retry cookies.
 */
import { createHmac } from 'node:crypto';
import { peekDcid, peekPacketType } from '../wire/header.js';
import { encodeFrame, frameLength } from '../wire/frames.js';
import { encodeHeader, headerLength } from '../wire/header.js';
import { decodePacket } from '../wire/packet.js';
import { MIN_INITIAL_SIZE, PacketType, type Frame, type PacketHeader } from '../wire/types.js';
import { WireError } from '../wire/errors.js';
import { Connection } from './connection.js';
import { macEqual } from './crypto/macs.js';
import { encodeRefusal } from './refusal.js';
import { DEFAULT_OPTIONS, type ClientConfig, type ConnectionOptions, type EndpointConfig } from './options.js';
import { countDrop } from './stats.js';
import type { ConnectionEvent, SocketAddress, Transmit } from './types.js';

export type EndpointEvent =
  /** A server accepted a new connection (its handshake has started). */
  | { type: 'accepted'; connection: Connection }
  /** Something happened on one connection. */
  | { type: 'connection'; connection: Connection; event: ConnectionEvent };

export interface EndpointStats {
  connections: number;
  accepted: number;
  retriesSent: number;
  /** Initials refused at once because the server was closing or full. */
  refusalsSent: number;
  drops: Record<string, number>;
}

/** Default cap on connections. */
export const DEFAULT_MAX_CONNECTIONS = 100_000;
/** How long a retry cookie stays valid (ms). */
const COOKIE_LIFETIME = 10_000;

/** One connection as the endpoint tracks it. */
interface Entry {
  connection: Connection;
  /** Cached pollTimeout() of the connection, refreshed whenever it is touched. */
  timeout: number | null;
  /** Keys under which it is indexed (its CID, and a server's initial DCID). */
  keys: string[];
}

function cidKey(cid: Uint8Array): string {
  let s = '';
  for (let i = 0; i < cid.length; i++) s += String.fromCharCode(cid[i]!);
  return s;
}

export class EndpointCore {
  /** Connections by CID key. */
  private readonly byCid = new Map<string, Entry>();
  /** Every live connection. */
  private readonly entries = new Map<Connection, Entry>();
  /** Connections that may have datagrams or events to give. */
  private readonly busy = new Set<Entry>();
  /** Endpoint-level datagrams (retries). */
  private readonly outbox: Transmit[] = [];
  /** Endpoint-level events. */
  private readonly events: EndpointEvent[] = [];
  /** Secret for retry cookies. */
  private readonly cookieSecret: Uint8Array;
  /** Whether new connections are accepted. */
  private accepting: boolean;
  /** Options every accepted connection gets. */
  private readonly serverOptions: ConnectionOptions;
  private readonly counters = { accepted: 0, retriesSent: 0, refusalsSent: 0 };
  private readonly drops: Record<string, number> = {};
  /** Latest time seen. */
  private now = 0;
  /** Server: the addresses it serves on. */
  private readonly localAddresses: SocketAddress[];

  constructor(readonly config: EndpointConfig) {
    this.accepting = config.server;
    this.cookieSecret = config.random(32);
    this.serverOptions = { ...DEFAULT_OPTIONS, ...config.connectionDefaults };
    this.localAddresses = (config.localAddresses ?? []).map((a) => ({ ...a }));
  }

  /** A new server connection knows every serving address, the one the Initial came to first. */
  private localAddressesFor(local: SocketAddress): SocketAddress[] {
    const rest = this.localAddresses.filter((a) => !(a.address === local.address && a.port === local.port));
    return [{ ...local }, ...rest];
  }

  /** Starts a client connection. */
  connect(config: ClientConfig, now: number): Connection {
    this.now = Math.max(this.now, now);
    const { localAddresses, remoteAddresses, backupAddresses, ...rest } = config;
    const options: ConnectionOptions = { ...DEFAULT_OPTIONS, ...this.config.connectionDefaults, ...stripUndefined(rest) };
    const connection = new Connection({
      role: 'client',
      random: this.config.random,
      now,
      options,
      localAddresses,
      remoteAddresses,
      backupAddresses: backupAddresses ?? [],
    });
    this.register(connection, [cidKey(connection.localCid)]);
    return connection;
  }

  handleDatagram(data: Uint8Array, local: SocketAddress, remote: SocketAddress, now: number): void {
    this.now = Math.max(this.now, now);
    const dcid = peekDcid(data);
    if (dcid === null) {
      countDrop(this.drops, 'decode');
      return;
    }
    const entry = this.byCid.get(cidKey(dcid));
    if (entry !== undefined) {
      entry.connection.handleDatagram(data, local, remote, now);
      this.touchEntry(entry);
      return;
    }
    if (peekPacketType(data) !== PacketType.Initial) {
      countDrop(this.drops, 'unknown-connection');
      return;
    }
    this.accept(data, dcid, local, remote, now);
  }

  handleTimeout(now: number): void {
    this.now = Math.max(this.now, now);
    for (const entry of this.entries.values()) {
      if (entry.timeout !== null && entry.timeout <= now) {
        entry.connection.handleTimeout(now);
        this.touchEntry(entry);
      }
    }
  }

  pollTransmit(now: number): Transmit | null {
    this.now = Math.max(this.now, now);
    const own = this.outbox.shift();
    if (own !== undefined) return own;
    for (const entry of this.busy) {
      const t = entry.connection.pollTransmit(now);
      if (t !== null) return t;
      this.drainEvents(entry);
      entry.timeout = entry.connection.pollTimeout();
      this.busy.delete(entry);
      if (entry.connection.isClosed && entry.connection.closedEmitted) this.forget(entry);
    }
    return null;
  }

  pollTimeout(): number | null {
    let t: number | null = null;
    for (const entry of this.entries.values()) {
      if (this.busy.has(entry)) entry.timeout = entry.connection.pollTimeout();
      if (entry.timeout !== null && (t === null || entry.timeout < t)) t = entry.timeout;
    }
    return t;
  }

  pollEvent(): EndpointEvent | null {
    if (this.events.length === 0) {
      for (const entry of this.busy) this.drainEvents(entry);
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

  /** The host gained an address: every connection hears of it. */
  addLocalAddress(addr: SocketAddress, now: number): void {
    if (!this.localAddresses.some((a) => a.address === addr.address && a.port === addr.port)) this.localAddresses.push({ ...addr });
    for (const entry of this.entries.values()) {
      entry.connection.addLocalAddress(addr, now);
      this.touchEntry(entry);
    }
  }

  /** The host lost an address: every connection fails the paths on it. */
  removeLocalAddress(addr: SocketAddress, now: number): void {
    const i = this.localAddresses.findIndex((a) => a.address === addr.address && a.port === addr.port);
    if (i >= 0) this.localAddresses.splice(i, 1);
    for (const entry of this.entries.values()) {
      entry.connection.removeLocalAddress(addr, now);
      this.touchEntry(entry);
    }
  }

  /** Stop accepting new connections (server close). */
  stopAccepting(): void {
    this.accepting = false;
  }

  /** Connections that have not yet emitted 'closed' (draining ones linger uncounted). */
  get connectionCount(): number {
    let n = 0;
    for (const entry of this.entries.values()) if (!entry.connection.closedEmitted) n++;
    return n;
  }

  stats(): EndpointStats {
    return {
      connections: this.entries.size,
      accepted: this.counters.accepted,
      retriesSent: this.counters.retriesSent,
      refusalsSent: this.counters.refusalsSent,
      drops: { ...this.drops },
    };
  }

  // ---- internal ----

  private register(connection: Connection, keys: string[]): Entry {
    const entry: Entry = { connection, timeout: null, keys };
    for (const k of keys) this.byCid.set(k, entry);
    this.entries.set(connection, entry);
    this.busy.add(entry);
    return entry;
  }

  private touchEntry(entry: Entry): void {
    if (!this.entries.has(entry.connection)) return;
    this.busy.add(entry);
  }

  private drainEvents(entry: Entry): void {
    for (let ev = entry.connection.pollEvent(); ev !== null; ev = entry.connection.pollEvent()) {
      this.events.push({ type: 'connection', connection: entry.connection, event: ev });
    }
  }

  private forget(entry: Entry): void {
    for (const k of entry.keys) {
      if (this.byCid.get(k) === entry) this.byCid.delete(k);
    }
    this.entries.delete(entry.connection);
    this.busy.delete(entry);
  }

  /** Server: a new Initial. */
  private accept(data: Uint8Array, dcid: Uint8Array, local: SocketAddress, remote: SocketAddress, now: number): void {
    if (!this.accepting) {
      countDrop(this.drops, 'not-accepting');
      if (this.config.server) this.refuse(data, local, remote, 'the server is closing');
      return;
    }
    // Anti-amplification: "A server MUST discard an Initial packet that is
    // carried in a UDP datagram with a payload that is smaller than the
    // smallest allowed maximum datagram size of 1200 bytes." (RFC 9000 §14.1)
    if (data.length < MIN_INITIAL_SIZE) {
      countDrop(this.drops, 'initial-too-small');
      return;
    }
    const max = this.config.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    if (this.entries.size >= max) {
      countDrop(this.drops, 'too-many-connections');
      this.refuse(data, local, remote, 'the server is full');
      return;
    }
    if (this.retryRequired()) {
      const hello = this.helloOf(data);
      if (hello === null) return;
      if (hello.cookie.length === 0) {
        this.sendRetry(dcid, hello.cid, local, remote, now);
        return;
      }
      if (!this.cookieValid(hello.cookie, dcid, remote, now)) {
        countDrop(this.drops, 'bad-cookie');
        return;
      }
    }
    const connection = new Connection({
      role: 'server',
      random: this.config.random,
      now,
      options: this.serverOptions,
      localAddresses: this.localAddressesFor(local),
      remoteAddresses: [remote],
      initialDcid: new Uint8Array(dcid),
    });
    const entry = this.register(connection, [cidKey(connection.localCid), cidKey(dcid)]);
    connection.handleDatagram(data, local, remote, now);
    if (connection.peerHello === null) {
      // The Initial did not hold a usable HELLO: nothing was created.
      countDrop(this.drops, 'bad-initial');
      this.forget(entry);
      return;
    }
    this.counters.accepted++;
    this.events.push({ type: 'accepted', connection });
  }

  /** Refuses an Initial at once, statelessly (src/core/refusal.ts). */
  private refuse(data: Uint8Array, local: SocketAddress, remote: SocketAddress, reason: string): void {
    if (data.length < MIN_INITIAL_SIZE) return;
    const hello = this.helloOf(data);
    if (hello === null) return;
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
      entry.connection.handlePathError(local, remote, code, now);
      this.touchEntry(entry);
    }
  }

  /** Require a cookie when told to, or when too many handshakes are half-open. */
  private retryRequired(): boolean {
    const mode = this.config.retry ?? 'under-load';
    if (mode === 'always') return true;
    if (mode === 'never') return false;
    let halfOpen = 0;
    for (const entry of this.entries.values()) if (!entry.connection.handshakeConfirmed) halfOpen++;
    return halfOpen >= (this.config.retryThreshold ?? 1000);
  }

  private helloOf(data: Uint8Array): Extract<Frame, { type: 'hello' }> | null {
    try {
      const hello = decodePacket(data).frames.find((f) => f.type === 'hello');
      if (hello !== undefined && hello.type === 'hello') return hello;
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
    }
    countDrop(this.drops, 'bad-initial');
    return null;
  }

  /** A cookie: issue time (4 bytes, seconds) and an HMAC binding it to the client's address and DCID. */
  private cookieFor(issued: number, dcid: Uint8Array, remote: SocketAddress): Uint8Array {
    const h = createHmac('sha256', this.cookieSecret);
    h.update(`${remote.address}|${remote.port}|${issued}|`);
    h.update(dcid);
    const out = new Uint8Array(20);
    new DataView(out.buffer).setUint32(0, issued);
    out.set(h.digest().subarray(0, 16), 4);
    return out;
  }

  private cookieValid(cookie: Uint8Array, dcid: Uint8Array, remote: SocketAddress, now: number): boolean {
    if (cookie.length !== 20) return false;
    const issued = new DataView(cookie.buffer, cookie.byteOffset, 4).getUint32(0);
    if (now / 1000 - issued > COOKIE_LIFETIME / 1000 || issued > now / 1000 + 1) return false;
    return macEqual(this.cookieFor(issued, dcid, remote).subarray(4), cookie.subarray(4));
  }

  private sendRetry(dcid: Uint8Array, clientCid: Uint8Array, local: SocketAddress, remote: SocketAddress, now: number): void {
    const frame: Frame = { type: 'retry', cookie: this.cookieFor(Math.floor(now / 1000), dcid, remote) };
    const header: PacketHeader = { type: PacketType.Retry, dcid: clientCid, pathId: 0, packetNumber: 0 };
    const buf = new Uint8Array(headerLength(header) + frameLength(frame));
    encodeFrame(frame, buf, encodeHeader(header, buf, 0));
    this.counters.retriesSent++;
    this.outbox.push({ data: buf, local, remote });
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
