/**
 * Outgoing packets. pollTransmit picks what goes next, in this order:
 * CLOSE while closing; the handshake; per-path control (challenges,
 * responses, joins, ACKs, probes, keep-alives); then stream data on the path
 * the scheduler chooses, with pending ACKs and control frames piggybacked.
 */
import { encodeFrame, frameLength, dataFrameHeaderLength, writeDataFrameHeader } from '../wire/frames.js';
import { encodeHeader, headerLength } from '../wire/header.js';
import { MIN_INITIAL_SIZE, PacketType, type Frame, type PacketHeader } from '../wire/types.js';
import type { Connection } from './connection.js';
import { joinMac, responseMac } from './crypto/macs.js';
import { handshakeMac } from './handshake.js';
import { FAILED_PROBE_MAX, UNVALIDATED_PROBE_MAX, type PacketMeta, type PathState } from './path/path-state.js';
import type { SchedulerPath } from './sched/scheduler.js';
import { countDrop } from './stats.js';
import type { Transmit } from './types.js';

/** Room kept for a DATA frame header (type, 8-byte offset, 2-byte length). */
const DATA_HEADER_RESERVE = 11;

export function pollTransmit(conn: Connection, now: number): Transmit | null {
  if (conn.state === 'closing') return sendClose(conn);
  if (conn.state === 'draining') return null;
  if (conn.role === 'client' && conn.state === 'handshake') return sendInitial(conn, now);
  if (conn.role === 'server' && conn.handshakeResponsePending) {
    const t = sendHandshakeResponse(conn, now);
    if (t !== null) return t;
  }
  if (conn.state !== 'established') return null;
  const n = conn.pathList.length;
  for (let i = 0; i < n; i++) {
    const path = conn.pathList[(conn.pathCursor + i) % n]!;
    const t = sendControl(conn, path, now);
    if (t !== null) {
      conn.pathCursor = (conn.pathCursor + i + 1) % n;
      return t;
    }
  }
  return sendData(conn, now);
}

// ---- handshake ----

function sendInitial(conn: Connection, now: number): Transmit | null {
  const target = conn.initialQueue.shift();
  if (target === undefined) return null;
  const hello: Frame = { ...conn.handshake.hello, cookie: conn.cookie };
  const header: PacketHeader = { type: PacketType.Initial, dcid: conn.initialDcid, pathId: 0, packetNumber: conn.initialAttempts };
  const len = headerLength(header) + frameLength(hello);
  const size = Math.max(len + 1, MIN_INITIAL_SIZE);
  const buf = new Uint8Array(size);
  let pos = encodeHeader(header, buf, 0);
  pos = encodeFrame(hello, buf, pos);
  // The rest stays zero: one PADDING frame up to MIN_INITIAL_SIZE, so the
  // server may answer with up to three times as much (anti-amplification).
  if (conn.initialSentAt < 0) conn.initialSentAt = now;
  countSent(conn, null, size);
  return { data: buf, local: target.local, remote: target.remote };
}

function sendHandshakeResponse(conn: Connection, now: number): Transmit | null {
  const path = conn.pathsById.get(0);
  if (path === undefined || conn.peerHello === null || conn.keys === null) return null;
  const hello = conn.handshake.hello;
  const finished: Frame = { type: 'finished', mac: handshakeMac(conn.keys, conn.peerHello, hello) };
  const header: PacketHeader = { type: PacketType.Handshake, dcid: conn.remoteCid, pathId: 0, packetNumber: 0 };
  const size = headerLength(header) + frameLength(hello) + frameLength(finished);
  if (size > path.amplificationRoom) {
    countDrop(conn.drops, 'amplification-limit');
    conn.handshakeResponsePending = false;
    return null;
  }
  const buf = new Uint8Array(size);
  let pos = encodeHeader(header, buf, 0);
  pos = encodeFrame(hello, buf, pos);
  encodeFrame(finished, buf, pos);
  conn.handshakeResponsePending = false;
  if (conn.handshakeSentAt < 0) conn.handshakeSentAt = now;
  path.unvalidatedBytesSent += size;
  countSent(conn, path, size);
  return { data: buf, local: path.local, remote: path.remote };
}

// ---- closing ----

function sendClose(conn: Connection): Transmit | null {
  const path = conn.closeQueue.shift();
  if (path === undefined || conn.closeFrame === null) return null;
  const frame: Frame = { type: 'close', errorCode: conn.closeFrame.errorCode, reason: conn.closeFrame.reason };
  const header: PacketHeader = { type: PacketType.Short, dcid: conn.remoteCid, pathId: path.id, packetNumber: path.nextPacketNumber++ };
  const buf = new Uint8Array(headerLength(header) + frameLength(frame));
  encodeFrame(frame, buf, encodeHeader(header, buf, 0));
  countSent(conn, path, buf.length);
  return { data: buf, local: path.local, remote: path.remote };
}

// ---- the packet writer ----

/** A packet being built on one path. */
class PacketWriter {
  readonly buf: Uint8Array;
  pos: number;
  readonly meta: PacketMeta = { dataOffset: -1, dataLength: 0, dataFin: false, control: null, windowUpdate: false };
  ackEliciting = false;
  /** Where the frames start. */
  readonly headerEnd: number;

  constructor(
    conn: Connection,
    readonly path: PathState,
    readonly limit: number,
  ) {
    this.buf = new Uint8Array(limit);
    const header: PacketHeader = {
      type: PacketType.Short,
      dcid: conn.remoteCid,
      pathId: path.id,
      packetNumber: path.nextPacketNumber,
    };
    this.pos = encodeHeader(header, this.buf, 0);
    this.headerEnd = this.pos;
  }

  get room(): number {
    return this.limit - this.pos;
  }

  /** Writes `frame` if it fits; returns whether it did. */
  add(frame: Frame, ackEliciting: boolean): boolean {
    const len = frameLength(frame);
    if (len > this.room) return false;
    this.pos = encodeFrame(frame, this.buf, this.pos);
    if (ackEliciting) this.ackEliciting = true;
    return true;
  }

  get isEmpty(): boolean {
    return this.pos === this.headerEnd;
  }
}

/** Largest packet `path` may send now (amplification limit before validation). */
function packetLimit(conn: Connection, path: PathState): number {
  return Math.min(conn.options.maxDatagramSize, path.amplificationRoom);
}

/** ACK frames: for `path` itself, and for paths whose own reverse direction is not usable. */
function addAcks(conn: Connection, w: PacketWriter, now: number, force: boolean): void {
  for (const p of conn.pathList) {
    if (!p.received.hasUnacked) continue;
    const route = ackRoute(conn, p);
    if (route !== w.path) continue;
    if (!force && p !== w.path && !p.received.ackNeeded(now)) continue;
    const frame: Frame = { type: 'ack', pathId: p.id, ackDelay: p.received.ackDelayMicros(now), ranges: p.received.ranges() };
    if (w.add(frame, false)) {
      p.received.onAckSent(now);
      p.ackImmediately = false;
    }
  }
}

/**
 * Which path carries the ACKs of `path`: the path itself while it works,
 * else the live path with the lowest RTT ("ACK frames may travel on any
 * path": the reverse direction of a path may be the broken one).
 */
export function ackRoute(conn: Connection, path: PathState): PathState | null {
  if (path.state === 'active' || path.state === 'validating') return path;
  let best: PathState | null = null;
  for (const p of conn.pathList) {
    if (p.state !== 'active' || !p.validated) continue;
    if (best === null || p.rtt.smoothed < best.rtt.smoothed) best = p;
  }
  return best ?? (path.state === 'suspect' ? path : null);
}

/** DATA_ACK: the data-level cumulative ACK and our receive window. */
function addDataAck(conn: Connection, w: PacketWriter): void {
  const cumulative = conn.assembler.contiguousEnd;
  if (!conn.windowUpdatePending && cumulative === conn.lastDataAckSent) return;
  const frame: Frame = { type: 'data_ack', cumulative, maxData: conn.receiveWindow.maxData };
  const update = conn.windowUpdatePending;
  // A window update must arrive, so it makes the packet ack-eliciting and is re-sent if lost.
  if (w.add(frame, update)) {
    conn.lastDataAckSent = cumulative;
    if (update) {
      conn.windowUpdatePending = false;
      conn.receiveWindow.markAdvertised();
      w.meta.windowUpdate = true;
    }
  }
}

/** Path-validation frames for `path`: answers to the peer's challenges, our JOIN and challenge. */
function addValidation(conn: Connection, w: PacketWriter, now: number): void {
  const path = w.path;
  const keys = conn.keys!;
  while (path.pendingResponses.length > 0) {
    const data = path.pendingResponses[0]!;
    const frame: Frame = { type: 'path_response', pathId: path.id, data, mac: responseMac(keys.authKey, conn.role, path.id, data) };
    if (!w.add(frame, true)) return;
    path.pendingResponses.shift();
  }
  if (path.challenge !== null && now >= challengeDue(path)) {
    if (path.joinNonce !== null) {
      const join: Frame = { type: 'path_join', pathId: path.id, nonce: path.joinNonce, mac: joinMac(keys.authKey, conn.role, path.id, path.joinNonce) };
      if (!w.add(join, true)) return;
    }
    if (w.add({ type: 'path_challenge', pathId: path.id, data: path.challenge }, true)) {
      path.challengeSentAt = now;
      path.challengeAttempts++;
    }
  }
}

/** When the challenge on `path` is due (again). */
export function challengeDue(path: PathState): number {
  if (path.challengeAttempts === 0) return -Infinity;
  const interval = Math.min(Math.max(3 * path.rtt.smoothed, 100) * 2 ** (path.challengeAttempts - 1), 2000);
  return path.challengeSentAt + interval;
}

/** Retransmittable control frames (path status, address adverts, abandon). */
function addPendingControl(conn: Connection, w: PacketWriter): void {
  while (conn.pendingControl.length > 0) {
    const frame = conn.pendingControl[0]!;
    if (!w.add(frame, true)) return;
    conn.pendingControl.shift();
    (w.meta.control ??= []).push(frame);
  }
}

/** Adds one DATA frame from the send buffer, if anything is sendable and fits. */
function addData(conn: Connection, w: PacketWriter, isNewDataAllowed: boolean): void {
  const room = w.room - DATA_HEADER_RESERVE;
  if (room <= 0) return;
  const sendOffsetBefore = conn.sendBuffer.sendOffset;
  const maxData = isNewDataAllowed ? conn.sendWindow.maxData : sendOffsetBefore;
  const seg = conn.sendBuffer.nextSegment(room, maxData);
  if (seg === null) return;
  const { offset, length, fin } = seg;
  const isRetransmit = offset < sendOffsetBefore;
  if (dataFrameHeaderLength(offset, length) + length > w.room) throw new Error('data frame does not fit');
  w.pos = writeDataFrameHeader(w.buf, w.pos, offset, length, fin);
  conn.sendBuffer.copyTo(offset, length, w.buf, w.pos);
  w.pos += length;
  w.meta.dataOffset = offset;
  w.meta.dataLength = length;
  w.meta.dataFin = fin;
  w.ackEliciting = true;
  if (isRetransmit) w.path.counters.dataBytesRetransmitted += length;
  else w.path.counters.dataBytesSent += length;
}

/** Seals the packet: counts it, tracks it for loss detection, paces it. */
function finish(conn: Connection, w: PacketWriter, now: number, inFlight: boolean): Transmit {
  const path = w.path;
  const size = w.pos;
  const pn = path.nextPacketNumber++;
  if (w.ackEliciting) {
    path.sent.onSent(pn, now, size, true, inFlight, w.meta);
    path.lastAckElicitingSentAt = now;
    if (inFlight) {
      path.cc.onPacketSent(size, now);
      path.pacer.onSent(now, size);
    }
  }
  if (!path.validated) path.unvalidatedBytesSent += size;
  countSent(conn, path, size);
  return { data: w.buf.subarray(0, size), local: path.local, remote: path.remote };
}

function countSent(conn: Connection, path: PathState | null, size: number): void {
  conn.counters.packetsSent++;
  conn.counters.bytesSent += size;
  if (path !== null) {
    path.counters.packetsSent++;
    path.counters.bytesSent += size;
  }
}

// ---- per-path control ----

/** Another validated path is active. */
function otherActivePath(conn: Connection, path: PathState): boolean {
  for (const p of conn.pathList) if (p !== path && p.validated && p.state === 'active') return true;
  return false;
}

/** Why `path` needs a packet now even without data, or null. */
function controlReason(conn: Connection, path: PathState, now: number): string | null {
  if (path.state === 'closed') return null;
  if (path.pendingResponses.length > 0) return 'response';
  if (path.challenge !== null && now >= challengeDue(path)) return 'challenge';
  if (path.probesPending > 0) return 'probe';
  if (path.state === 'failed') return now >= path.nextProbeAt ? 'failed-probe' : null;
  if (path.received.hasUnacked && (path.ackImmediately || path.received.ackNeeded(now))) {
    if (ackRoute(conn, path) === path) return 'ack';
  }
  // ACKs of other paths routed here.
  for (const p of conn.pathList) {
    if (p !== path && p.received.hasUnacked && (p.ackImmediately || p.received.ackNeeded(now)) && ackRoute(conn, p) === path) {
      return 'ack';
    }
  }
  if (path.validated && path.state !== 'validating' && now >= path.lastAckElicitingSentAt + conn.options.keepAliveInterval) {
    return 'keepalive';
  }
  return null;
}

/** When the challenge to a migration candidate is due (again), or null. */
export function migrationDue(path: PathState): number | null {
  const m = path.migration;
  if (m === null || m.attempts >= 5) return m !== null && m.responses.length > 0 ? -Infinity : null;
  if (m.responses.length > 0 || m.attempts === 0) return -Infinity;
  return m.sentAt + Math.min(Math.max(3 * path.rtt.smoothed, 100) * 2 ** (m.attempts - 1), 2000);
}

/**
 * A probe to a migration candidate: our answers to its challenges and our
 * own challenge, from the candidate's local address to its remote address,
 * within three times what that address sent us.
 */
function sendMigrationProbe(conn: Connection, path: PathState, now: number): Transmit | null {
  const m = path.migration;
  const due = migrationDue(path);
  if (m === null || due === null || now < due) return null;
  const room = 3 * m.bytesReceived - m.bytesSent;
  if (room < 64) {
    countDrop(conn.drops, 'amplification-limit');
    m.responses.length = 0;
    m.attempts = Math.max(m.attempts, 1);
    m.sentAt = now;
    return null;
  }
  const keys = conn.keys!;
  const header: PacketHeader = { type: PacketType.Short, dcid: conn.remoteCid, pathId: path.id, packetNumber: path.nextPacketNumber++ };
  const frames: Frame[] = m.responses.map((data) => ({ type: 'path_response', pathId: path.id, data, mac: responseMac(keys.authKey, conn.role, path.id, data) }));
  m.responses = [];
  if (m.attempts < 5) {
    frames.push({ type: 'path_challenge', pathId: path.id, data: m.challenge });
    m.attempts++;
    m.sentAt = now;
  }
  let size = headerLength(header);
  for (const f of frames) size += frameLength(f);
  const buf = new Uint8Array(Math.min(size, room));
  if (size > buf.length) return null;
  let pos = encodeHeader(header, buf, 0);
  for (const f of frames) pos = encodeFrame(f, buf, pos);
  m.bytesSent += size;
  countSent(conn, path, size);
  return { data: buf, local: m.local, remote: m.remote };
}

function sendControl(conn: Connection, path: PathState, now: number): Transmit | null {
  if (path.migration !== null) {
    const probe = sendMigrationProbe(conn, path, now);
    if (probe !== null) return probe;
  }
  const reason = controlReason(conn, path, now);
  if (reason === null) return null;
  if (!path.canSend) {
    // Held by the anti-amplification limit: what we owe this address waits
    // for more bytes from it, and is not retried in a loop.
    countDrop(conn.drops, 'amplification-limit');
    path.pendingResponses.length = 0;
    path.probesPending = 0;
    return null;
  }
  const limit = packetLimit(conn, path);
  let inFlight = true;
  if (reason === 'failed-probe') {
    path.nextProbeAt = now + path.probeInterval;
    path.probeInterval = Math.min(path.probeInterval * 2, path.validated ? FAILED_PROBE_MAX : UNVALIDATED_PROBE_MAX);
    // Probes of a failed path do not count against its (reset) window.
    inFlight = false;
    // A path that never validated tries its JOIN and challenge again.
    if (!path.validated && path.challenge !== null) path.challengeAttempts = 0;
  }
  const w = new PacketWriter(conn, path, limit);
  addAcks(conn, w, now, true);
  // The window's edge rides with every ACK: a receiver that only ACKs must
  // still keep the sender's view of its window fresh.
  if (path.validated && !w.isEmpty) addDataAck(conn, w);
  addValidation(conn, w, now);
  if (reason === 'probe' || reason === 'failed-probe' || reason === 'keepalive') {
    if (path.probesPending > 0) path.probesPending--;
    // A probe carries data only on the last path standing: a suspect path's
    // bytes were reinjected for the live paths, and a probe here would
    // take them back onto the path that is not answering.
    if (path.carriesData && !otherActivePath(conn, path)) {
      addDataAck(conn, w);
      addData(conn, w, false);
    }
    if (!w.ackEliciting) w.add({ type: 'ping' }, true);
  }
  if (w.isEmpty) return null;
  return finish(conn, w, now, inFlight);
}

// ---- data ----

/** The paths that may carry data now, as the scheduler sees them. */
function schedulerView(conn: Connection, now: number, size: number): SchedulerPath[] {
  const view: SchedulerPath[] = [];
  let anyActive = false;
  for (const p of conn.pathList) if (p.state === 'active' && p.validated) anyActive = true;
  for (const p of conn.pathList) {
    if (!p.carriesData) continue;
    // Suspect paths carry data only when nothing better is left.
    if (p.state === 'suspect' && anyActive) continue;
    view.push({
      id: p.id,
      // A path that carried no data since its RTT was last high (validated
      // through a slow first exchange, or idle) learns its real RTT only from
      // probes: its latest sample is the better guide until data flows.
      smoothedRtt: p.rtt.hasSample ? Math.min(p.rtt.smoothed, p.rtt.latest) : p.rtt.smoothed,
      rttVar: p.rtt.rttvar,
      congestionWindow: p.cc.window,
      bytesInFlight: p.sent.bytesInFlight,
      windowRoom: p.windowRoom,
      backup: p.backup,
      ready: p.pacer.delay(now, size, p.cc.window, p.rtt.smoothed, p.cc.window < p.cc.slowStartThreshold) === 0,
    });
  }
  return view;
}

/** Is anything waiting that a data packet would carry? */
export function hasDataToSend(conn: Connection): boolean {
  return (
    conn.sendBuffer.hasPending(conn.sendWindow.maxData) ||
    conn.pendingControl.length > 0 ||
    conn.windowUpdatePending ||
    hasRedundantCopies(conn)
  );
}

function hasRedundantCopies(conn: Connection): boolean {
  for (const q of conn.redundantQueue.values()) if (q.length > 0) return true;
  return false;
}

function sendData(conn: Connection, now: number): Transmit | null {
  const size = conn.options.maxDatagramSize;
  // Redundant copies go out when no first copy is waiting: a copy must not
  // take the window a first copy needs.
  if (conn.scheduler.redundant === true && !conn.sendBuffer.hasPending(conn.sendWindow.maxData)) {
    const copy = sendRedundantCopy(conn, now, size);
    if (copy !== null) return copy;
  }
  if (!hasDataToSend(conn)) return null;
  noteWindowBlocking(conn, now);
  const view = schedulerView(conn, now, size);
  if (view.length === 0) return null;
  const sendBuffer = conn.sendBuffer;
  const ctx = {
    packetSize: size,
    unsentBytes: sendBuffer.unsentBytes,
    sendWindowRoom: Math.max(0, conn.sendWindow.maxData - sendBuffer.sendOffset),
    sendWindowSize: Math.max(0, conn.sendWindow.maxData - sendBuffer.ackedBelow),
  };
  const id = conn.scheduler.choose(view, ctx);
  if (id === null) return null;
  const path = conn.pathsById.get(id);
  if (path === undefined || !path.carriesData) return null;
  opportunisticReinjection(conn, path, now);
  const w = new PacketWriter(conn, path, packetLimit(conn, path));
  addAcks(conn, w, now, true);
  addDataAck(conn, w);
  addPendingControl(conn, w);
  const newDataFrom = sendBuffer.sendOffset;
  addData(conn, w, true);
  if (conn.scheduler.redundant === true && w.meta.dataOffset >= newDataFrom && w.meta.dataOffset >= 0) {
    queueRedundantCopies(conn, path, w.meta.dataOffset, w.meta.dataLength, w.meta.dataFin);
  }
  if (!w.ackEliciting && w.isEmpty) return null;
  return finish(conn, w, now, true);
}

/** Most copies queued per path before the oldest are dropped (a slow path must not hoard). */
const MAX_REDUNDANT_QUEUE = 512;

/** Redundant: the new segment just sent on `path` is queued for every other live path. */
function queueRedundantCopies(conn: Connection, path: PathState, offset: number, length: number, fin: boolean): void {
  for (const other of conn.pathList) {
    if (other === path || !other.carriesData || other.state !== 'active') continue;
    let q = conn.redundantQueue.get(other.id);
    if (q === undefined) conn.redundantQueue.set(other.id, (q = []));
    q.push({ offset, length, fin });
    if (q.length > MAX_REDUNDANT_QUEUE) q.shift();
  }
}

/** Redundant: a queued copy on a path that can take a packet now. */
function sendRedundantCopy(conn: Connection, now: number, size: number): Transmit | null {
  for (const [pathId, q] of conn.redundantQueue) {
    const path = conn.pathsById.get(pathId);
    if (path === undefined || !path.carriesData) {
      conn.redundantQueue.delete(pathId);
      continue;
    }
    while (q.length > 0 && conn.sendBuffer.isAcked(q[0]!.offset, q[0]!.length) && !q[0]!.fin) q.shift();
    if (q.length === 0) continue;
    if (path.windowRoom < size) continue;
    if (path.pacer.delay(now, size, path.cc.window, path.rtt.smoothed) !== 0) continue;
    const seg = q.shift()!;
    if (seg.offset < conn.sendBuffer.ackedBelow) continue;
    const w = new PacketWriter(conn, path, packetLimit(conn, path));
    addAcks(conn, w, now, true);
    if (dataFrameHeaderLength(seg.offset, seg.length) + seg.length > w.room) continue;
    w.pos = writeDataFrameHeader(w.buf, w.pos, seg.offset, seg.length, seg.fin);
    conn.sendBuffer.copyTo(seg.offset, seg.length, w.buf, w.pos);
    w.pos += seg.length;
    w.meta.dataOffset = seg.offset;
    w.meta.dataLength = seg.length;
    w.meta.dataFin = seg.fin;
    w.ackEliciting = true;
    path.counters.dataBytesRetransmitted += seg.length;
    conn.counters.redundantCopies++;
    return finish(conn, w, now, true);
  }
  return null;
}

/** Tells the scheduler, once per round trip, whether the peer's receive window held new data back. */
function noteWindowBlocking(conn: Connection, now: number): void {
  const rtt = conn.pathList.find((p) => p.state === 'active')?.rtt.smoothed ?? 100;
  if (now < conn.lastBlockSignalAt + rtt) return;
  conn.lastBlockSignalAt = now;
  if (conn.sendBuffer.isBlocked(conn.sendWindow.maxData)) {
    conn.counters.windowBlocked++;
    conn.scheduler.onWindowBlocked?.();
  } else {
    conn.scheduler.onRoundWithoutBlock?.();
  }
}

/**
 * Opportunistic reinjection with penalization (Raiciu et al., "How Hard Can
 * It Be? Designing and Implementing a Deployable Multipath TCP", NSDI 2012,
 * §4.2): when new data is blocked by the receive window, the bytes holding
 * the window's left edge are re-sent on the path about to send (if it is
 * faster than the one they went on), and the slow path's window is halved,
 * at most once per its RTT.
 */
function opportunisticReinjection(conn: Connection, fast: PathState, now: number): void {
  const sb = conn.sendBuffer;
  if (!sb.isBlocked(conn.sendWindow.maxData) || sb.hasRetransmit) return;
  const edge = sb.ackedBelow;
  if (edge === conn.lastReinjectedOffset) return;
  for (const slow of conn.pathList) {
    if (slow === fast || slow.sent.count === 0) continue;
    if (slow.rtt.smoothed <= fast.rtt.smoothed) continue;
    for (const p of slow.sent.packets()) {
      const m = p.meta;
      if (m.dataOffset < 0 || m.dataOffset > edge || m.dataOffset + m.dataLength <= edge) continue;
      conn.lastReinjectedOffset = edge;
      sb.onLost(m.dataOffset, m.dataLength, m.dataFin);
      conn.counters.opportunisticReinjections++;
      if (now >= slow.lastPenalizedAt + slow.rtt.smoothed) {
        slow.lastPenalizedAt = now;
        slow.cc.onCongestionEvent(now, now);
        conn.counters.penalizations++;
      }
      return;
    }
  }
}

/**
 * Earliest time a path that has window room but is held by its pacer could
 * send the data that waits, or null. Only paths the scheduler could choose
 * count (backups only when no active path is live), so the time returned is
 * always one at which pollTransmit will send.
 */
export function pacingDeadline(conn: Connection, now: number): number | null {
  if (conn.state !== 'established' || !hasDataToSend(conn)) return null;
  const size = conn.options.maxDatagramSize;
  const view = schedulerView(conn, now, size);
  const anyActive = view.some((p) => !p.backup);
  let earliest: number | null = null;
  for (const v of view) {
    if ((anyActive && v.backup) || v.ready || v.windowRoom < size) continue;
    const p = conn.pathsById.get(v.id)!;
    const t = p.pacer.delay(now, size, p.cc.window, p.rtt.smoothed, p.cc.window < p.cc.slowStartThreshold);
    if (earliest === null || t < earliest) earliest = t;
  }
  return earliest;
}
