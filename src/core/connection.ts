/**
 * Connection: the sans-IO state machine of one multipath connection. It is
 * fed datagrams (`handleDatagram`) and time (`handleTimeout`), and polled for
 * datagrams (`pollTransmit`), its next wake-up (`pollTimeout`) and events
 * (`pollEvent`). It never reads a clock, starts a timer or draws randomness
 * of its own.
 *
 * This file holds the state and orchestrates; the work lives in siblings:
 * `handshake.ts` (keys), `receive.ts` (Short packets and their frames),
 * `receive-handshake.ts` (Initial, Handshake, Retry), `migration.ts`
 * (address changes of a known path), `send.ts` (what goes next, per-path
 * control), `send-handshake.ts`, `send-data.ts` (data, redundancy,
 * reinjection, pacing), `packet-writer.ts` (building packets),
 * `recovery.ts` (ACKs, loss, PTO, path failure), `close.ts` (closing,
 * draining, closed), `timers.ts` (deadlines),
 * `pm/path-manager.ts` (which paths, which addresses) and `sched/` (which
 * path carries data).
 */
import { emptyMap, emptySet } from './empty.js';
import { Assembler } from './data/assembler.js';
import { ReceiveWindow, SendWindow, tuningRoundTrip } from './data/flow-control.js';
import { SendBuffer } from './data/send-buffer.js';
import type { KeyPhases } from './crypto/key-phases.js';
import type { X25519KeyPair } from './crypto/keys.js';
import { CloseCode, TransportError, APPLICATION_BASE } from './errors.js';
import { checkGracefulClose, emitClosed, finishClose, startClosing } from './close.js';
import { HandshakeSide } from './handshake.js';
import type { ConnectionOptions } from './options.js';
import { detectsSharedBottlenecks } from './cc/policy.js';
import { CoupledGroup } from './path/coupled-group.js';
import { PathIdWindow } from './path/path-ids.js';
import { PathState } from './path/path-state.js';
import { pathPolicy, type PathPolicy } from './pm/path-manager.js';
import { addLocalAddress, removeLocalAddress, setLocalBackup } from './pm/local-addresses.js';
import { firstContactTargets } from './pm/first-contact.js';
import { unroutableCid } from './cid/quic-lb.js';
import { handleDatagram } from './receive.js';
import { handlePathError } from './refusal.js';
import { createScheduler } from './sched/index.js';
import type { Scheduler, SchedulerContext, SchedulerPath } from './sched/scheduler.js';
import { pollTransmit } from './send.js';
import { countDrop, newConnectionCounters, type ConnectionCounters, type ConnectionStats } from './stats.js';
import { handleTimeout, pollTimeout } from './timers.js';
import type { ConnectionEvent, PathInfo, RandomSource, SocketAddress, Transmit } from './types.js';
import type { Frame } from '../wire/types.js';

export type Role = 'client' | 'server';

/** Connection-level lifecycle. */
export type ConnectionState = 'handshake' | 'established' | 'closing' | 'draining' | 'closed';

export interface ConnectionInit {
  role: Role;
  random: RandomSource;
  now: number;
  options: ConnectionOptions;
  /** Client: its local addresses. Server: the address the first Initial arrived on. */
  localAddresses: SocketAddress[];
  /** Client: the server's addresses. Server: the client's address of the first Initial. */
  remoteAddresses: SocketAddress[];
  /** Server: the destination CID of the client's first Initial. */
  initialDcid?: Uint8Array;
  /** Our connection ID (drawn by the endpoint in its format, src/core/cid; the reset token is derived from it). */
  localCid: Uint8Array;
  /** Our stateless reset token: a datagram ending in it, from us, ends the connection at the peer. */
  resetToken: Uint8Array;
  /** Local addresses whose paths start as backups. */
  backupAddresses?: string[];
  /** Server: its long-term key, proven in every handshake. */
  staticKey?: X25519KeyPair;
  /** Client: the fingerprint of the server key it accepts (none: any). */
  serverFingerprint?: string;
  /** A fresh ephemeral key pair for the handshake, used by this connection only (none: made from `random`). */
  ephemeralKey?: X25519KeyPair | null;
}

/** The cookie of a client that got no Retry (shared: a cookie is replaced, never written). */
const NO_COOKIE = new Uint8Array(0);

/** First retransmission interval of the client's Initial (ms); doubles each time. */
export const INITIAL_RETRANSMIT = 600;

/** The empty event queue every connection shares while it has no event waiting (never written: emit() replaces it first). */
const NO_EVENTS: ConnectionEvent[] = [];

export class Connection {
  /** Client or server. */
  readonly role: Role;
  /** Options in force (a server's connections share one object until one of them changes an option). */
  options: ConnectionOptions;
  /** Injected source of random bytes. */
  readonly random: RandomSource;
  /** Our connection ID: packets to us carry it. */
  readonly localCid: Uint8Array;
  /** The peer's connection ID (client: a random one until the server's HELLO). */
  remoteCid: Uint8Array;
  /** Destination CID of the client's first Initial (the server uses it to match retransmissions). */
  readonly initialDcid: Uint8Array;
  /** Lifecycle; changed only by setState (through establish, and close.ts: startClosing, startDraining, finishClose). */
  private lifecycle: ConnectionState = 'handshake';
  /** Latest time we were given. */
  now: number;

  /** Our side of the handshake; null once established (an idle connection keeps none of it). */
  handshake: HandshakeSide | null;
  /** The peer's HELLO was received and accepted (its keys derived). */
  helloReceived = false;
  /** Packet protection (both directions, key update), once the handshake derived it. */
  protection: KeyPhases | null = null;
  /** Server: its long-term key. */
  readonly staticKey: X25519KeyPair | null;
  /** Client: the server key fingerprint it insists on, or null. */
  readonly serverFingerprint: string | null;
  /** The fingerprint of the server's long-term key (client: as the handshake proved it; server: its own). */
  peerFingerprint: string | null = null;
  /** Our stateless reset token (sent to the peer once the keys protect it). */
  readonly resetToken: Uint8Array;
  /** The peer's stateless reset token, once received. */
  peerResetToken: Uint8Array | null = null;
  /** Server: IDENTITY and FINISHED of its Handshake packet (re-sent if the client repeats its Initial). */
  handshakeProof: { identity: Frame; finished: Frame } | null = null;
  /** Client: retry cookie from the server, echoed in HELLO. */
  cookie: Uint8Array = NO_COOKIE;
  /** Client: first-contact targets the Initial is raced over. */
  firstContact: Array<{ local: SocketAddress; remote: SocketAddress }> = [];
  /** Client: indexes of first-contact targets refused (ICMP unreachable, or the server said no). */
  refusedPairs = emptySet<number>();
  /** Client: first-contact targets still to be sent in this round. */
  initialQueue: Array<{ local: SocketAddress; remote: SocketAddress }> = [];
  /** Client: next Initial retransmission, attempts so far, give-up time. */
  initialNextAt = Infinity;
  initialAttempts = 0;
  handshakeDeadline: number;
  /** Client: when the first Initial went out (the handshake's RTT sample), -1 before. */
  initialSentAt = -1;
  /** Server: the Handshake response is to be (re)sent on path 0. */
  handshakeResponsePending = false;
  /** Server: the handshake is confirmed (a Short packet arrived). */
  handshakeConfirmed = false;

  /** Our usable local addresses. */
  readonly localAddresses: SocketAddress[];
  /** The peer's known addresses. */
  readonly remoteAddresses: SocketAddress[];
  /** Decides which address pairs get a path. */
  readonly pathPolicy: PathPolicy;
  /** Addresses we advertised, by "address|port", with their address IDs. */
  advertisedByUs = emptyMap<string, number>();
  /** Next address ID we assign. */
  nextAddressId = 0;
  /** Sequence number of our last ADD_ADDRESS / REMOVE_ADDRESS. */
  advertSeq = 0;
  /**
   * The peer's advertisements by address ID: the address (null once
   * withdrawn) and the sequence number of the newest frame applied. At
   * most 2 x maxPeerAddresses IDs are kept.
   */
  advertisedByPeer = emptyMap<number, { address: SocketAddress | null; seq: number }>();
  /** Every path by ID. */
  readonly pathsById = new Map<number, PathState>();
  /** Paths in ID order, for iteration. */
  pathList: PathState[] = [];
  /** Client: next path ID to assign. */
  nextPathId = 1;
  /** Server: the path IDs the client has opened (each opens a path once). */
  readonly pathIds = new PathIdWindow();
  /** Rotates which path pollTransmit looks at first, for fairness among control packets. */
  pathCursor = 0;

  /** Bytes the application wrote, kept until acknowledged. */
  readonly sendBuffer = new SendBuffer();
  /** Bytes received, reassembled in order. */
  readonly assembler: Assembler;
  /** Our receive window (what we let the peer send). */
  readonly receiveWindow: ReceiveWindow;
  /** The peer's receive window (what we may send). */
  readonly sendWindow = new SendWindow(0);
  /** Chooses the path for each data packet. */
  readonly scheduler: Scheduler;
  /** What the scheduler sees, refreshed in place for every data packet (send-data.ts). */
  readonly schedulerView: SchedulerPath[] = [];
  readonly schedulerContext: SchedulerContext = { packetSize: 0, unsentBytes: 0, sendWindowRoom: 0, sendWindowSize: 0 };
  /** Couples the windows of this connection's paths under 'lia' / 'olia'; gives controllers random numbers. */
  readonly coupledGroup: CoupledGroup;
  /** Local addresses whose paths we mark as backups. */
  backupLocal: Set<string>;
  /** Sequence of our PATH_STATUS frames. */
  statusSeq = 0;
  /** Redundant scheduling: segments still to be copied onto each path. */
  redundantQueue = emptyMap<number, Array<{ offset: number; length: number; fin: boolean }>>();
  /** Opportunistic reinjection: the blocking offset last re-sent, and counters. */
  lastReinjectedOffset = -1;
  /** When the scheduler was last told about window blocking (once per round trip). */
  lastBlockSignalAt = -Infinity;

  /** Retransmittable control frames waiting for room (path status, address adverts). */
  readonly pendingControl: Frame[] = [];
  /** A receive-window update must be sent. */
  windowUpdatePending = false;
  /** Data-level cumulative ACK last sent. */
  lastDataAckSent = -1;

  /** Events waiting for pollEvent. */
  events: ConnectionEvent[] = NO_EVENTS;
  /** 'readable' was emitted and read() has not returned null since. */
  readableSignalled = false;
  /** write() accepted less than asked: emit 'writable' when room appears. */
  writableWanted = false;
  /** 'end' and 'finished' emitted. */
  endEmitted = false;
  finishedEmitted = false;

  /** CLOSE to send while closing, and the paths still to send it on. */
  closeFrame: { errorCode: number; reason: string } | null = null;
  closeQueue: PathState[] = [];
  /** Authenticated packets received while closing (each power of two is answered with CLOSE again). */
  packetsWhileClosing = 0;
  /** 'closed' was emitted (closing and draining emit it when they start). */
  closedEmitted = false;
  /** A graceful close from the peer, held until the application has read every byte. */
  closedAfterEnd: Extract<ConnectionEvent, { type: 'closed' }> | null = null;
  /** Server: when the Handshake response was sent (the first RTT sample ends at the client's first Short packet). */
  handshakeSentAt = -1;
  /** End of the closing/draining period. */
  drainUntil = Infinity;
  /** Last time a packet proved the peer alive (idle timeout; set only by onPeerAlive). */
  lastActivity: number;
  /**
   * When the first ack-eliciting packet we sent since the last ACK of
   * anything of ours went out, or null when nothing is waiting: no path
   * has worked for us since then (liveness.ts, noWorkingPathDeadline).
   */
  unansweredSince: number | null = null;

  /** Connection-wide counters (described in stats.ts, ConnectionStats). */
  readonly counters: ConnectionCounters = newConnectionCounters();
  /** Drops by reason. */
  readonly drops: Record<string, number> = {};

  constructor(init: ConnectionInit) {
    this.role = init.role;
    this.options = init.options;
    this.random = init.random;
    this.now = init.now;
    this.lastActivity = init.now;
    // A client tries for connectTimeout; a server keeps a half-open handshake as long.
    this.handshakeDeadline = init.now + init.options.connectTimeout;
    this.localCid = init.localCid;
    this.resetToken = init.resetToken;
    this.localAddresses = init.localAddresses.map((a) => ({ ...a }));
    this.remoteAddresses = init.remoteAddresses.map((a) => ({ ...a }));
    this.receiveWindow = new ReceiveWindow(init.options.receiveWindow, init.options.maxReceiveWindow);
    this.coupledGroup = new CoupledGroup(init.random, detectsSharedBottlenecks(init.options) ? () => this.pathList : null);
    // Out-of-order chunks: a legitimate sender needs about one per lost
    // packet in flight (window / 1150 bytes); 1-byte fragments at that cap
    // hold far less than the window's worth of memory. The initial window
    // sets it: one gap per lost packet stays far below it after auto-tuning
    // too (1 % loss over 16 MiB is about 150 gaps).
    this.assembler = new Assembler(Math.max(1024, Math.floor(init.options.receiveWindow / 512)));
    this.scheduler = createScheduler(init.options.scheduler);
    this.pathPolicy = pathPolicy(init.options.pathManager);
    this.backupLocal = init.backupAddresses !== undefined && init.backupAddresses.length > 0 ? new Set(init.backupAddresses) : emptySet();
    this.staticKey = init.staticKey ?? null;
    this.serverFingerprint = init.serverFingerprint ?? null;
    this.handshake = new HandshakeSide(init.random, this.localCid, init.options, init.options.cipher, init.ephemeralKey ?? null);
    if (init.role === 'client') {
      this.initialDcid = unroutableCid(init.random(8));
      this.remoteCid = this.initialDcid;
      this.firstContact = firstContactTargets(this.localAddresses, this.remoteAddresses);
      this.initialQueue = [...this.firstContact];
      this.initialNextAt = init.now + INITIAL_RETRANSMIT;
    } else {
      this.initialDcid = init.initialDcid ?? new Uint8Array(8);
      this.remoteCid = new Uint8Array(8);
    }
  }

  handleDatagram(data: Uint8Array, local: SocketAddress, remote: SocketAddress, now: number): void {
    this.advance(now);
    if (this.state === 'closed') return;
    handleDatagram(this, data, local, remote, now);
    this.freeClosedPaths();
  }

  /**
   * The io layer learnt that `remote` cannot be reached from `local` (the
   * kernel's ICMP port unreachable, as ECONNREFUSED on a connected socket).
   */
  handlePathError(local: SocketAddress, remote: SocketAddress, code: string, now: number): void {
    this.advance(now);
    if (this.state === 'closed') return;
    handlePathError(this, local, remote, code);
  }

  handleTimeout(now: number): void {
    this.advance(now);
    if (this.state === 'closed') return;
    handleTimeout(this, now);
    this.freeClosedPaths();
  }

  pollTransmit(now: number): Transmit | null {
    this.advance(now);
    if (this.state === 'closed') return null;
    return pollTransmit(this, now);
  }

  pollTimeout(): number | null {
    if (this.state === 'closed') return null;
    return pollTimeout(this);
  }

  pollEvent(): ConnectionEvent | null {
    const events = this.events;
    if (events.length === 0) return null;
    const e = events.shift()!;
    // A drained queue lets its grown backing store go (about 120 bytes an idle connection would keep).
    if (events.length === 0) this.events = NO_EVENTS;
    return e;
  }

  /** Queues bytes; returns how many were accepted (the send buffer is capped). */
  write(data: Uint8Array): number {
    if (this.state === 'closing' || this.state === 'draining' || this.state === 'closed') return 0;
    if (this.sendBuffer.finOffset !== null) return 0;
    const room = this.writableBytes;
    const n = Math.min(room, data.length);
    if (n > 0) this.sendBuffer.write(n === data.length ? data : data.subarray(0, n));
    if (n < data.length) this.writableWanted = true;
    return n;
  }

  /** Half-close: FIN after every written byte. */
  end(): void {
    if (this.sendBuffer.finOffset !== null) return;
    if (this.state === 'closing' || this.state === 'draining' || this.state === 'closed') return;
    this.sendBuffer.finish();
  }

  /** Abort with an application error code (0 = no error). */
  close(errorCode = 0, reason = ''): void {
    if (this.state === 'closing' || this.state === 'draining' || this.state === 'closed') return;
    const code = errorCode === 0 ? CloseCode.NO_ERROR : CloseCode.ABORTED;
    const wireCode = errorCode === 0 ? TransportError.NO_ERROR : APPLICATION_BASE + errorCode;
    startClosing(this, wireCode, reason, { type: 'closed', code, errorCode, reason, remote: false });
  }

  /** Next in-order bytes, or null. Reading opens the receive window. */
  read(maxBytes?: number): Uint8Array | null {
    const chunk = this.assembler.read(maxBytes);
    if (chunk === null) {
      this.readableSignalled = false;
      this.checkEnd();
      return null;
    }
    this.counters.dataBytesDelivered += chunk.length;
    if (this.receiveWindow.onConsumed(this.assembler.readOffset, this.now, tuningRoundTrip(this.pathList))) this.windowUpdatePending = true;
    return chunk;
  }

  /**
   * Changes how often paths that carry no data are probed (the socket's
   * setKeepAlive()). The options object may be shared, so it is copied.
   */
  setKeepAliveInterval(ms: number): void {
    if (ms === this.options.keepAliveInterval) return;
    this.options = { ...this.options, keepAliveInterval: ms };
  }

  /** A local address appeared: a client opens paths from it, a server advertises it (pm/local-addresses.ts). */
  addLocalAddress(addr: SocketAddress, now: number): void {
    addLocalAddress(this, addr, now);
  }

  /** Marks the paths on a local address as backups, or active again, and tells the peer. */
  setLocalBackup(address: string, backup: boolean): void {
    setLocalBackup(this, address, backup);
  }

  /** A local address vanished: its paths fail, or a server's move to another address. */
  removeLocalAddress(addr: SocketAddress, now: number): void {
    removeLocalAddress(this, addr, now);
  }

  /** Lifecycle: handshake → established → closing/draining → closed. */
  get state(): ConnectionState {
    return this.lifecycle;
  }

  /**
   * The one place the lifecycle changes (called by establish() and by
   * close.ts). Only forward moves are legal (LEGAL_TRANSITIONS); anything
   * else is a bug in the core and throws, which the endpoint turns into
   * ERR_MPUDP_INTERNAL for this connection.
   */
  setState(next: ConnectionState): void {
    if (next === this.lifecycle) return;
    if (!LEGAL_TRANSITIONS[this.lifecycle].includes(next)) {
      throw new Error(`connection state ${this.lifecycle} → ${next} is not a legal transition`);
    }
    this.lifecycle = next;
  }

  /**
   * The handshake completed (client: the server's FINISHED verified;
   * server: the client's first protected packet arrived on path 0): data
   * may flow, and the application hears 'connected'.
   */
  establish(now: number): void {
    this.setState('established');
    // Nothing of the handshake is sent again (a server answers a late Initial no more).
    this.handshake = null;
    this.handshakeProof = null;
    this.onPeerAlive(now);
    this.emit({ type: 'connected' });
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  get isEstablished(): boolean {
    return this.state === 'established';
  }

  /** Bytes the send buffer can take now. */
  get writableBytes(): number {
    return Math.max(0, this.options.sendBufferSize - this.sendBuffer.bufferedBytes);
  }

  paths(): PathInfo[] {
    return this.pathList.map((p) => p.info());
  }

  stats(): ConnectionStats {
    return {
      role: this.role,
      state: this.state,
      ...this.counters,
      keyUpdatesInitiated: this.protection?.updatesInitiated ?? 0,
      keyUpdatesFollowed: this.protection?.updatesFollowed ?? 0,
      keyGeneration: this.protection?.generation ?? 0,
      serverFingerprint: this.peerFingerprint,
      drops: { ...this.drops },
      sharedBottleneck: { ...this.coupledGroup.bottlenecks.stats },
      paths: this.pathList.map((p) => p.stats()),
    };
  }

  // ---- internal, used by the sibling modules ----

  /**
   * A packet proved the peer alive: the idle timeout counts from here. The
   * one place that decides what proves it (today: a packet accepted on a
   * known path or in the handshake; with packet protection, every packet
   * that authenticates).
   */
  onPeerAlive(now: number): void {
    if (now > this.lastActivity) this.lastActivity = now;
  }

  /** Moves the notion of now forward (never back). */
  advance(now: number): void {
    if (now > this.now) this.now = now;
  }

  emit(event: ConnectionEvent): void {
    if (this.events === NO_EVENTS) this.events = [event];
    else this.events.push(event);
  }

  /** A new PathState with this connection's options (not yet added). */
  newPath(id: number, local: SocketAddress, remote: SocketAddress, now: number): PathState {
    const o = this.options;
    // The local interface's MTU caps discovery (pmtud.ts); a datagram's own local address may not carry it.
    const mtu = local.mtu ?? this.localAddresses.find((a) => a.address === local.address)?.mtu;
    const from = mtu === undefined ? { ...local } : { ...local, mtu };
    return new PathState(id, from, { ...remote }, o.congestionControl, o.maxDatagramSize, now, this.coupledGroup);
  }

  /** Adds a path and indexes it; a path on a backup address is a backup. */
  addPath(path: PathState): void {
    if (this.backupLocal.has(path.local.address)) path.localBackup = true;
    this.pathIds.use(path.id);
    this.pathsById.set(path.id, path);
    // The first path as a one-slot array: a push onto an empty array reserves 17 slots (136 bytes more per idle connection).
    if (this.pathList.length === 0) this.pathList = [path];
    else {
      this.pathList.push(path);
      this.pathList.sort((a, b) => a.id - b.id);
    }
    this.counters.pathsOpened++;
  }

  /**
   * What is closed is freed: a closed path leaves the path list (so no
   * per-packet loop walks it and it no longer counts toward maxPaths), its
   * congestion controller leaves the coupled group, and its key-update
   * bookkeeping goes. Its ID is never opened again (pathIds). Runs after
   * each input, so no loop in progress loses its place.
   */
  freeClosedPaths(): void {
    if (this.state === 'closed') return;
    let closed = 0;
    for (const p of this.pathList) if (p.state === 'closed') closed++;
    if (closed === 0) return;
    const keep: PathState[] = [];
    for (const p of this.pathList) {
      if (p.state !== 'closed') {
        keep.push(p);
        continue;
      }
      this.pathsById.delete(p.id);
      p.cc.dispose();
      this.protection?.forgetPath(p.id);
      this.redundantQueue.delete(p.id);
      this.counters.pathsFreed++;
    }
    this.pathList = keep;
    this.closeQueue = this.closeQueue.filter((p) => p.state !== 'closed');
    for (let i = this.pendingControl.length - 1; i >= 0; i--) {
      const f = this.pendingControl[i]!;
      if (f.type === 'path_status' && !this.pathsById.has(f.pathId)) this.pendingControl.splice(i, 1);
    }
  }

  /** Emits 'end' once the peer's FIN is reached and every byte was read. */
  checkEnd(): void {
    if (!this.endEmitted && this.assembler.isFinished) {
      this.endEmitted = true;
      this.emit({ type: 'end' });
      if (this.closedAfterEnd !== null) emitClosed(this, this.closedAfterEnd);
      else checkGracefulClose(this);
    }
  }

  /** Emits 'finished' once our FIN is acknowledged; 'writable' once room appears. */
  checkSendProgress(): void {
    if (this.writableWanted && this.writableBytes > 0) {
      this.writableWanted = false;
      this.emit({ type: 'writable' });
    }
    if (!this.finishedEmitted && this.sendBuffer.allAcked && this.sendBuffer.finOffset !== null) {
      this.finishedEmitted = true;
      this.emit({ type: 'finished' });
      checkGracefulClose(this);
    }
  }

  /**
   * A stateless reset carrying the peer's token arrived: the peer lost this
   * connection. "An endpoint that receives a Stateless Reset ... MUST
   * enter the draining period and not send any further packets on this
   * connection" (RFC 9000 §10.3.1); nothing is left to drain from a peer
   * without state, so it ends now.
   */
  onStatelessReset(now: number): void {
    this.advance(now);
    if (this.state === 'closed') return;
    finishClose(this, { type: 'closed', code: CloseCode.STATELESS_RESET, errorCode: 0, reason: 'the peer lost the connection (stateless reset)', remote: true });
  }

  /**
   * A fault inside this connection's own code (an exception out of the
   * core, which means a bug): the connection ends at once with
   * ERR_MPUDP_INTERNAL, without touching the rest of its state (it may be
   * half-updated). The peer learns of it from a stateless reset the next
   * time it sends, since the endpoint forgets the connection (neqo's
   * capture_error does the same with a CONNECTION_CLOSE).
   */
  failInternal(err: unknown, now: number): void {
    this.advance(now);
    // A connection closed but still holding unread bytes (its 'closed' waits for them) ends here too.
    if (this.closedEmitted) return;
    this.lifecycle = 'closed';
    this.closeQueue = [];
    countDrop(this.drops, 'internal-error');
    const reason = `internal error: ${err instanceof Error ? err.message : String(err)}`.slice(0, 200);
    emitClosed(this, { type: 'closed', code: CloseCode.INTERNAL_ERROR, errorCode: TransportError.INTERNAL_ERROR, reason, remote: false });
  }

}

/** Where each lifecycle state may go (setState refuses the rest). */
const LEGAL_TRANSITIONS: Record<ConnectionState, readonly ConnectionState[]> = {
  handshake: ['established', 'closing', 'closed'],
  established: ['closing', 'draining', 'closed'],
  closing: ['draining', 'closed'],
  draining: ['closed'],
  closed: [],
};
