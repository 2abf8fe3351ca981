/**
 * Recovery across paths: ACK processing, loss, probe timeouts, and the path
 * liveness machine (active → suspect → failed → active). Lost bytes go back
 * into the one send buffer, so any live path can re-send them.
 */
import type { Frame } from '../wire/types.js';
import type { Connection } from './connection.js';
import { FAILED_PROBE_MIN, PTOS_TO_FAIL, MAX_ACK_DELAY, type PacketMeta, type PathState } from './path/path-state.js';
import { onPacketsAcked, onPacketsLost, onSpuriousLosses } from './cc/feedback.js';
import type { SentPacket } from './path/sent-packets.js';
import { TransportError } from './errors.js';
import { ackRevives, acksPacket } from './liveness.js';
import { countDrop } from './stats.js';
import { protocolViolation } from './close.js';

/** An ACK frame for path `frame.pathId`, which may have arrived on any path. */
export function onAckFrame(conn: Connection, frame: Extract<Frame, { type: 'ack' }>, now: number, arrival: PathState): void {
  const path = conn.pathsById.get(frame.pathId);
  if (path === undefined || path.state === 'closed') {
    countDrop(conn.drops, 'ack-unknown-path');
    return;
  }
  const largest = frame.ranges[0]?.largest ?? -1;
  // RFC 9000 §13.1: "An endpoint SHOULD treat receipt of an acknowledgment
  // for a packet it did not send as a connection error of type
  // PROTOCOL_VIOLATION". A packet number we skipped on purpose was never
  // sent either: RFC 9000 §21.4, "An endpoint that acknowledges packets it
  // has not received might cause a congestion controller to permit sending
  // at rates beyond what the network supports. An endpoint MAY skip packet
  // numbers when sending packets to detect this behavior."
  if (largest >= path.nextPacketNumber || acksSkipped(path, frame.ranges)) {
    countDrop(conn.drops, largest >= path.nextPacketNumber ? 'ack-of-unsent' : 'optimistic-ack');
    protocolViolation(conn, TransportError.PROTOCOL_VIOLATION, `ACK of packet ${largest >= path.nextPacketNumber ? largest : 'skipped'} on path ${path.id}, never sent`);
    return;
  }
  // An acknowledged packet of the current key phase lets the next key update start.
  conn.protection?.onAcked(path.id, largest);
  // An ACK of a probe sent since the path failed revives it even if that
  // probe is no longer tracked (liveness.ts, rule 2).
  const revives = ackRevives(path, largest);
  // Our answer to the peer's challenge arrived: no need to repeat it (rule 5).
  if (path.peerChallenge !== null && acksPacket(frame.ranges, path.responsePn)) path.peerChallenge = null;
  // "ACK frames may travel on any path": a peer routes a path's ACKs around
  // a direction it suspects. A change of route leaves the delivery-rate
  // samples across it meaningless (cc/delivery-rate.ts onAckRouteChange).
  if (path.ackRouteId !== arrival.id) {
    if (path.ackRouteId !== null) {
      path.counters.ackRouteChanges++;
      path.delivery.onAckRouteChange(now);
    }
    path.ackRouteId = arrival.id;
  }
  // The controller judges app-limitedness by the flight before this ACK.
  const flightBefore = path.sent.bytesInFlight;
  const result = path.sent.onAck(frame.ranges, now, path.rtt, frame.ackDelay / 1000, MAX_ACK_DELAY);
  if (result.spurious.length > 0) {
    path.counters.packetsSpuriouslyLost += result.spurious.length;
    if (onSpuriousLosses(path, result.spurious)) path.counters.congestionEventsUndone++;
  }
  if (result.acked.length === 0 && result.lost.length === 0 && !revives) return;
  for (const p of result.acked) {
    const meta = p.meta;
    if (meta.dataOffset >= 0) conn.sendBuffer.onAcked(meta.dataOffset, meta.dataLength, meta.dataFin);
    if (meta.ackPathId >= 0) forgetAcked(conn, meta);
  }
  // Path MTU discovery hears of the acknowledged packets before the lost
  // ones: its black-hole rule counts only full-size losses sent after the
  // newest full-size packet acknowledged (path/pmtud.ts).
  for (const p of result.acked) path.mtu.onAcked(p.packetNumber, p.size, now);
  // RFC 9002 Appendix A.7: OnPacketsLost before OnPacketsAcked (cc/feedback.ts).
  onLost(conn, path, result.lost, now);
  onPacketsAcked(path, result.acked, flightBefore, now);
  if (result.acked.length > 0 || revives) {
    path.lastAckAt = now;
    path.ptoCount = 0;
    // Something of ours got through: a path works (noWorkingPathDeadline).
    conn.unansweredSince = null;
    if (path.state === 'suspect' || path.state === 'failed') recoverPath(conn, path, now);
  }
  conn.checkSendProgress();
}

/**
 * ACK of ACK. RFC 9000 §13.2.4: "When a packet containing an ACK frame is
 * acknowledged, the receiver can stop acknowledging packets less than or
 * equal to the Largest Acknowledged field in the sent ACK frame." Without
 * it every permanent gap (a lost packet, a skipped number) stays in every
 * ACK frame until 32 ranges crowd the data out of our packets.
 */
function forgetAcked(conn: Connection, meta: PacketMeta): void {
  conn.pathsById.get(meta.ackPathId)?.received.forgetBelow(meta.ackLargest);
  const more = meta.moreAcks;
  if (more !== null) for (let i = 0; i < more.length; i += 2) conn.pathsById.get(more[i]!)?.received.forgetBelow(more[i + 1]!);
}

/** Does any range cover a packet number `path` skipped on purpose? */
function acksSkipped(path: PathState, ranges: readonly { smallest: number; largest: number }[]): boolean {
  for (const skipped of path.skippedPacketNumbers) {
    for (const r of ranges) if (skipped >= r.smallest && skipped <= r.largest) return true;
  }
  return false;
}

/** Packets of `path` declared lost: their bytes and control frames go back in the queues. */
export function onLost(conn: Connection, path: PathState, lost: readonly SentPacket<PacketMeta>[], now: number): void {
  if (lost.length === 0) return;
  for (const p of lost) {
    // A lost MTU probe says the path does not carry its size, nothing more (path/pmtud.ts).
    if (path.mtu.onLost(p.packetNumber, p.size, now)) continue;
    path.counters.packetsLost++;
    requeue(conn, p.meta);
  }
  if (onPacketsLost(path, lost, now, MAX_ACK_DELAY)) path.counters.congestionEvents++;
}

/** What a lost (or stranded) packet carried goes back to be sent again. */
function requeue(conn: Connection, meta: PacketMeta): void {
  if (meta.dataOffset >= 0) conn.sendBuffer.onLost(meta.dataOffset, meta.dataLength, meta.dataFin);
  if (meta.windowUpdate) conn.windowUpdatePending = true;
  if (meta.control !== null) {
    for (const f of meta.control) conn.pendingControl.push(f);
  }
}

/**
 * The probe timeout of `path` fired (RFC 9002 §6.2): nothing was
 * acknowledged for a PTO while ack-eliciting packets were in flight.
 *
 * Multipath twist: with another live path, the path becomes suspect at its
 * first PTO and everything it holds is re-sent elsewhere at once (reinjected,
 * still tracked here in case it arrives after all); after PTOS_TO_FAIL PTOs
 * in a row it is failed.
 */
export function onPto(conn: Connection, path: PathState, now: number): void {
  path.ptoCount++;
  path.counters.ptoCount++;
  // Full-size packets unanswered: the probe goes at the base size (path/pmtud.ts).
  path.mtu.onPto(now);
  reinject(conn, path);
  if (path.ptoCount >= PTOS_TO_FAIL) {
    failPath(conn, path, now, 'timeout', false);
    return;
  }
  if (path.state === 'active' && otherLivePath(conn, path)) {
    path.setState('suspect', now);
    takeover(conn, path, now);
  }
  // "When a PTO timer expires, a sender MUST send at least one ack-eliciting
  // packet in the packet number space as a probe." (RFC 9002 §6.2.4)
  path.probesPending = 1;
}

/**
 * The oldest packet on an active path is overdue (PathState.suspectDeadline)
 * while another path is active: the path becomes suspect and its bytes are
 * reinjected, without waiting for the PTO. An ACK makes it active again.
 */
export function onSuspect(conn: Connection, path: PathState, now: number): void {
  if (suspectDue(conn, path) === null) return;
  conn.counters.earlySuspicions++;
  reinject(conn, path);
  path.setState('suspect', now);
  takeover(conn, path, now);
}

/** The active paths take `path`'s load: their controllers hear of it (Bbr.onTakeover). */
function takeover(conn: Connection, path: PathState, now: number): void {
  for (const p of conn.pathList) if (p !== path && p.state === 'active' && p.validated) p.cc.onTakeover?.(now);
}

/**
 * When onSuspect would act on `path`, or null: the same condition for the
 * timer and the action, so a deadline that passes always changes something.
 */
export function suspectDue(conn: Connection, path: PathState, deadline: number | null = path.suspectDeadline()): number | null {
  if (deadline === null) return null;
  // The silence must be this path's own: another active path has been
  // acknowledged since the deadline. A process that stalled (a long GC, a
  // loaded machine) heard from no path, and suspects none.
  for (const p of conn.pathList) {
    if (p !== path && p.state === 'active' && p.validated && p.lastAckAt > deadline) return deadline;
  }
  return null;
}

/** Queues every unacknowledged byte on `path` for re-sending, keeping it tracked. */
function reinject(conn: Connection, path: PathState): void {
  // Each packet is reinjected once: a second round (the PTO after an early
  // suspicion) would send again bytes whose first copies elsewhere are
  // still in flight, and crowd out new data on the live paths.
  const from = path.reinjectedThrough;
  for (const p of path.sent.packets()) {
    if (p.packetNumber <= from) continue;
    path.reinjectedThrough = p.packetNumber;
    const meta = p.meta;
    if (meta.dataOffset >= 0) {
      conn.sendBuffer.onLost(meta.dataOffset, meta.dataLength, meta.dataFin);
      path.counters.dataBytesReinjected += meta.dataLength;
    }
  }
}

function otherLivePath(conn: Connection, path: PathState): boolean {
  return conn.pathList.some((p) => p !== path && p.state === 'active' && p.validated);
}

/**
 * Declares `path` failed (or closed, when its address is gone): everything in
 * flight on it goes back to the queues, its congestion state is reset, and a
 * failed path is probed with a back-off capped low so it is back soon after
 * it heals.
 */
export function failPath(conn: Connection, path: PathState, now: number, reason: string, close: boolean): void {
  const wasUp = path.state === 'active' || path.state === 'suspect';
  for (const p of path.sent.drainAll()) requeue(conn, p.meta);
  path.cc.reset();
  path.undo.reset();
  path.ptoCount = 0;
  path.probesPending = 0;
  path.pingDue = false;
  if (close) {
    path.setState('closed', now);
    path.nextProbeAt = Infinity;
  } else {
    path.setState('failed', now);
    path.probeInterval = FAILED_PROBE_MIN;
    path.nextProbeAt = now + FAILED_PROBE_MIN;
    // The failure counts as the last probe: the capped schedule runs from here.
    path.lastProbeAt = now;
    // Anything sent from now on is a probe; an ACK of one revives the path.
    path.failedSincePn = path.nextPacketNumber;
  }
  conn.counters.pathsFailed++;
  if (wasUp && path.validated) conn.emit({ type: 'path-down', path: path.info(), reason });
}

/** The peer abandoned the path, or the address under it was withdrawn. */
export function abandonPath(conn: Connection, path: PathState, now: number, reason: string): void {
  failPath(conn, path, now, reason, true);
}

/** An acknowledgement arrived on a suspect or failed path: it works again. */
export function recoverPath(conn: Connection, path: PathState, now: number): void {
  const wasFailed = path.state === 'failed';
  path.setState('active', now);
  path.ptoCount = 0;
  path.nextProbeAt = Infinity;
  path.probeInterval = FAILED_PROBE_MIN;
  path.failedSincePn = -1;
  // An active path acknowledges by the usual rules.
  path.pingDue = false;
  conn.counters.pathsRecovered++;
  // A path back from failure may run over another route: its MTU is found again.
  if (wasFailed) path.mtu.restart();
  if (wasFailed) conn.emit({ type: 'path-up', path: path.info() });
}

/**
 * A failed or not yet validated path is about to send another packet (all
 * of its packets are probes): the ones before it are forgotten (their
 * contents re-queued, as for a loss), so a path that stays dead for hours
 * tracks one probe, not thousands. An ACK of a forgotten probe still
 * revives a failed path (liveness.ts, rule 2); a validating path is
 * validated by its PATH_RESPONSE, not by ACKs.
 */
export function forgetProbes(conn: Connection, path: PathState): void {
  for (const p of path.sent.drainAll()) requeue(conn, p.meta);
}
