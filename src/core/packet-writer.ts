/**
 * The packet builder: a Short packet on one path, filled in priority order
 * with ACK frames (its own path's and those routed to it), DATA_ACK, path
 * validation frames, queued control frames and one DATA frame, then sealed:
 * counted, tracked for loss detection and paced.
 */
import { aeadLimitReached } from './aead-limit.js';
import { PING_FRAME, ackFrameLength, dataAckFrameLength, encodeFrame, frameLength, isAckElicitingFrame, dataFrameHeaderLength, writeAckFrame, writeDataAckFrame, writeDataFrameHeader } from '../wire/frames.js';
import { encodeHeader, headerLength, writeShortHeader } from '../wire/header.js';
import { cutPacket, packetRoom, takePacketRoom } from './packet-slab.js';
import { PacketType, type Frame, type PacketHeader } from '../wire/types.js';
import type { Connection } from './connection.js';
import { onPacketSent } from './cc/feedback.js';
import { TAG_LENGTH } from './crypto/aead.js';
import { livenessPingDue, responseRetryDue, validationDue } from './liveness.js';
import type { PacketMeta, PathState } from './path/path-state.js';
import type { Transmit } from './types.js';

/** Bytes of a PING frame. */
const PING_LENGTH = 1;
/** Room kept for a DATA frame header (type, 8-byte offset, 2-byte length). */
const DATA_HEADER_RESERVE = 11;


/**
 * A packet being built on one path: header, then frames, with room kept at
 * the end for the AEAD tag that finish() seals into the same buffer. It is
 * written in place in the packet slab (packet-slab.ts): `buf` is the slab,
 * the packet begins at `start`, and every position is absolute.
 *
 * There is one writer (beginPacket): the core is synchronous and builds one
 * packet at a time, so a packet costs no writer object. What the packet
 * carries is noted in `meta`, a scratch record too; finish() copies it into
 * a record of its own only for a packet that is tracked (ack-eliciting), so
 * an ACK-only packet costs no record either.
 */
export class PacketWriter {
  buf: Uint8Array = EMPTY_BUFFER;
  /** Where the packet begins in `buf`. */
  start = 0;
  pos = 0;
  /** What the packet carries so far (copied by finish() for the sent-packet record). */
  readonly meta: PacketMeta = { dataOffset: -1, dataLength: 0, dataFin: false, control: null, windowUpdate: false, ackPathId: -1, ackLargest: 0, moreAcks: null };
  ackEliciting = false;
  /** Where the frames start. */
  headerEnd = 0;
  /** Where the frames must end: the tag follows. */
  frameLimit = 0;
  /** The path it goes out on. */
  path: PathState = null as unknown as PathState;

  /** Starts a packet on `path` of at most `limit` bytes: its header is written, nothing else. */
  begin(conn: Connection, path: PathState, limit: number): void {
    takePacketRoom(limit);
    this.buf = packetRoom.buf;
    this.start = packetRoom.start;
    this.path = path;
    this.pos = writeShortHeader(this.buf, conn.remoteCid, path.id, path.nextPacketNumber, conn.protection!.keyPhase, this.start);
    this.headerEnd = this.pos;
    this.frameLimit = this.start + limit - TAG_LENGTH;
    this.ackEliciting = false;
    const m = this.meta;
    m.dataOffset = -1;
    m.dataLength = 0;
    m.dataFin = false;
    m.control = null;
    m.windowUpdate = false;
    m.ackPathId = -1;
    m.ackLargest = 0;
    m.moreAcks = null;
  }

  get room(): number {
    return this.frameLimit - this.pos;
  }

  /** Writes `frame` if it fits; returns whether it did. The packet is ack-eliciting by the rule the peer reads it with. */
  add(frame: Frame): boolean {
    const len = frameLength(frame);
    if (len > this.room) return false;
    this.pos = encodeFrame(frame, this.buf, this.pos);
    if (isAckElicitingFrame(frame.type)) this.ackEliciting = true;
    return true;
  }

  get isEmpty(): boolean {
    return this.pos === this.headerEnd;
  }
}

const EMPTY_BUFFER = new Uint8Array(0);
/** The one writer (the core builds one packet at a time). */
const writer = new PacketWriter();

/** The writer, begun for a packet on `path` of at most `limit` bytes. What it held before is gone. */
export function beginPacket(conn: Connection, path: PathState, limit: number): PacketWriter {
  writer.begin(conn, path, limit);
  return writer;
}

/** A record of its own of what the packet carried (the writer's is reused). */
function ownMeta(m: PacketMeta): PacketMeta {
  return { dataOffset: m.dataOffset, dataLength: m.dataLength, dataFin: m.dataFin, control: m.control, windowUpdate: m.windowUpdate, ackPathId: m.ackPathId, ackLargest: m.ackLargest, moreAcks: m.moreAcks };
}

/** Largest packet `path` may send now: its discovered MTU (path/pmtud.ts), within the amplification limit before validation. */
export function packetLimit(_conn: Connection, path: PathState): number {
  return Math.min(path.mtu.plpmtu, path.amplificationRoom);
}

/**
 * ACK frames: for `path` itself, for paths whose own reverse direction is
 * not usable, and, in a liveness ping (liveness.ts rule 1), for `path`
 * itself whatever its usual route. That copy leaves the ACK owed on the
 * usual route: if the pair is broken our way, the routed one still arrives.
 */
export function addAcks(conn: Connection, w: PacketWriter, now: number, force: boolean): void {
  for (const p of conn.pathList) {
    const routed = p.received.hasUnacked && ackRoute(conn, p) === w.path;
    const ping = p === w.path && livenessPingDue(p) && p.received.largest !== null;
    if (!routed && !ping) continue;
    if (!ping && !force && p !== w.path && !p.received.ackNeeded(now)) continue;
    if (writeAck(w, p, now) && routed) {
      p.received.onAckSent(now);
      p.ackImmediately = false;
      const largest = p.received.liveRanges[0]!.largest;
      const meta = w.meta;
      if (meta.ackPathId < 0) {
        meta.ackPathId = p.id;
        meta.ackLargest = largest;
      } else (meta.moreAcks ??= []).push(p.id, largest);
    }
  }
}

/**
 * The ACK frame of path `p`, written from its received ranges straight into
 * the packet (no frame object, no copy of the ranges) if it fits; the same
 * bytes and checks as `w.add` of an ACK frame.
 */
function writeAck(w: PacketWriter, p: PathState, now: number): boolean {
  const ranges = p.received.liveRanges;
  const ackDelay = p.received.ackDelayMicros(now);
  if (ackFrameLength(p.id, ackDelay, ranges) > w.room) return false;
  w.pos = writeAckFrame(w.buf, w.pos, p.id, ackDelay, ranges);
  return true;
}

/**
 * Which path carries the ACKs of `path`: the path itself while it works,
 * else the live path with the lowest RTT ("ACK frames may travel on any
 * path": the reverse direction of a path may be the broken one), else,
 * with no path active, the path itself: a probe that came in on a failed
 * path is acknowledged on it (without this, two ends whose paths had all
 * failed never acknowledged each other's probes and stayed failed for good).
 */
export function ackRoute(conn: Connection, path: PathState): PathState | null {
  if (path.state === 'active' || path.state === 'validating') return path;
  if (path.state === 'closed') return null;
  let best: PathState | null = null;
  for (const p of conn.pathList) {
    if (p.state !== 'active' || !p.validated) continue;
    if (best === null || p.rtt.smoothed < best.rtt.smoothed) best = p;
  }
  return best ?? path;
}

/** DATA_ACK: the data-level cumulative ACK and our receive window. */
export function addDataAck(conn: Connection, w: PacketWriter): void {
  const cumulative = conn.assembler.contiguousEnd;
  if (!conn.windowUpdatePending && cumulative === conn.lastDataAckSent) return;
  const maxData = conn.receiveWindow.maxData;
  const length = dataAckFrameLength(cumulative, maxData);
  if (length > w.room) return;
  // With room for the PING below, or the update waits for the next packet.
  const update = conn.windowUpdatePending && w.room >= length + PING_LENGTH;
  // A window update must arrive, so its packet is ack-eliciting and it is
  // re-sent if lost. A DATA_ACK is not ack-eliciting (isAckElicitingFrame):
  // the PING after it asks for the ACK. Without it a peer with nothing to
  // send on this path never acknowledged the update, our PTO fired and the
  // path turned suspect with nothing lost.
  w.pos = writeDataAckFrame(w.buf, w.pos, cumulative, maxData);
  conn.lastDataAckSent = cumulative;
  if (update) {
    w.add(PING_FRAME);
    conn.windowUpdatePending = false;
    conn.receiveWindow.markAdvertised();
    w.meta.windowUpdate = true;
  }
}

/** Path-validation frames for `path`: answers to the peer's challenges, our JOIN and challenge. */
export function addValidation(conn: Connection, w: PacketWriter, now: number): void {
  const path = w.path;
  // Our answer to the peer's latest challenge, again, while none is known to have arrived.
  if (path.pendingResponses.length === 0 && now >= responseRetryDue(path)) path.pendingResponses.push(path.peerChallenge!);
  while (path.pendingResponses.length > 0) {
    const data = path.pendingResponses[0]!;
    const frame: Frame = { type: 'path_response', pathId: path.id, data };
    if (!w.add(frame)) return;
    path.pendingResponses.shift();
    path.responsePn = path.nextPacketNumber;
    path.responseSentAt = now;
  }
  if (path.challenge !== null && now >= validationDue(conn, path, challengeDue(path))) {
    if (path.joinPending && !w.add({ type: 'path_join', pathId: path.id })) return;
    if (w.add({ type: 'path_challenge', pathId: path.id, data: path.challenge })) {
      path.challengeSentAt = now;
      path.challengeAttempts++;
      path.challengeUrgent = false;
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
export function addPendingControl(conn: Connection, w: PacketWriter): void {
  while (conn.pendingControl.length > 0) {
    const frame = conn.pendingControl[0]!;
    if (!w.add(frame)) return;
    conn.pendingControl.shift();
    (w.meta.control ??= []).push(frame);
  }
}

/** Adds one DATA frame from the send buffer, if anything is sendable and fits. */
export function addData(conn: Connection, w: PacketWriter, isNewDataAllowed: boolean): void {
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
  // The packet's size, not the data, ended the frame: discovery may start (pmtud.ts onSizeLimited).
  if (length === room && !fin) w.path.mtu.onSizeLimited();
}

/** Seals the packet: protects it, counts it, tracks it for loss detection, paces it. */
export function finish(conn: Connection, w: PacketWriter, now: number, inFlight: boolean): Transmit {
  const path = w.path;
  const pn = path.nextPacketNumber++;
  const size = seal(conn, w.buf, w.start, w.headerEnd, w.pos, path, pn);
  if (w.ackEliciting) {
    const packet = path.sent.onSent(pn, now, size, true, inFlight, ownMeta(w.meta));
    if (inFlight) notePacingLateness(conn, path, now);
    path.lastAckElicitingSentAt = now;
    // From here on we wait for an acknowledgement (liveness.ts, noWorkingPathDeadline).
    conn.unansweredSince ??= now;
    if (inFlight) {
      onPacketSent(path, packet, now);
      path.pacer.onSent(now, size);
    }
  }
  if (!path.validated) path.unvalidatedBytesSent += size;
  countSent(conn, path, size);
  return { data: cutPacket(w.buf, w.start, size), local: path.local, remote: path.remote };
}

/**
 * A packet leaves with the path's pacing bucket full although the window did
 * not hold the path back since its last packet, and no path of the
 * connection sent anything for the time the bucket takes to fill: for that
 * long the path was allowed to send and the connection did not run (a loaded
 * host, or no data). The rate samples of the gap say what the sender did,
 * not what the path can carry, so they are application-limited (a BBR path
 * in Startup took such a plateau for the bottleneck's rate and left Startup
 * at a fraction of it, in the namespace lab under load). A path the
 * scheduler left idle while others sent is not marked here (the scheduler's
 * choice is marked where it is made, in send-data.ts).
 */
function notePacingLateness(conn: Connection, path: PathState, now: number): void {
  const pacer = path.pacer;
  if (!path.windowLimited && pacer.available >= pacer.burstCapacity - 1) {
    let last = -Infinity;
    for (const p of conn.pathList) if (p.lastAckElicitingSentAt > last) last = p.lastAckElicitingSentAt;
    if (now - last >= pacer.fillTime) path.delivery.markAppLimited(path.sent.bytesInFlight);
  }
  path.windowLimited = false;
}

/** How many skipped packet numbers a path remembers. */
const SKIPPED_KEPT = 8;

/**
 * Packet numbers are skipped now and then (RFC 9000 §21.4), so a peer that
 * acknowledges what it never received is caught: after the packet just
 * sealed, the next number is skipped once every 128..1151 packets, the
 * interval drawn from the connection's random source.
 */
function maybeSkip(conn: Connection, path: PathState): void {
  if (path.nextSkip === Infinity) path.nextSkip = path.nextPacketNumber + skipInterval(conn);
  if (path.nextPacketNumber !== path.nextSkip) return;
  path.skippedPacketNumbers.push(path.nextPacketNumber++);
  if (path.skippedPacketNumbers.length > SKIPPED_KEPT) path.skippedPacketNumbers.shift();
  path.nextSkip = path.nextPacketNumber + skipInterval(conn);
}

function skipInterval(conn: Connection): number {
  const r = conn.random(2);
  return 128 + (((r[0]! << 8) | r[1]!) % 1024);
}

/** AEAD-protects one packet in place (it begins at `start` in `buf`); starts a key update when one is due. */
function seal(conn: Connection, buf: Uint8Array, start: number, headerEnd: number, payloadEnd: number, path: PathState, pn: number): number {
  const protection = conn.protection!;
  const size = protection.seal(buf, headerEnd, payloadEnd, path.id, pn, start);
  maybeSkip(conn, path);
  if (protection.updateDue) protection.initiateUpdate();
  else if (protection.sendLimitReached && conn.state === 'established') aeadLimitReached(conn);
  return size;
}

/**
 * A Short packet on `path` holding `frames`, sealed, or null if it would
 * exceed `maxSize`. Takes the path's next packet number.
 */
export function sealedPacket(conn: Connection, path: PathState, frames: readonly Frame[], maxSize: number): Uint8Array | null {
  const header: PacketHeader = {
    type: PacketType.Short,
    dcid: conn.remoteCid,
    pathId: path.id,
    packetNumber: path.nextPacketNumber,
    keyPhase: conn.protection!.keyPhase,
  };
  let size = headerLength(header) + TAG_LENGTH;
  for (const f of frames) size += frameLength(f);
  if (size > maxSize) return null;
  const buf = new Uint8Array(size);
  const headerEnd = encodeHeader(header, buf, 0);
  let pos = headerEnd;
  for (const f of frames) pos = encodeFrame(f, buf, pos);
  path.nextPacketNumber++;
  seal(conn, buf, 0, headerEnd, pos, path, header.packetNumber);
  return buf;
}

export function countSent(conn: Connection, path: PathState | null, size: number): void {
  conn.counters.packetsSent++;
  conn.counters.bytesSent += size;
  if (path !== null) {
    path.counters.packetsSent++;
    path.counters.bytesSent += size;
  }
}

