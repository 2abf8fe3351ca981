/**
 * Stream data: the scheduler's view of the paths, the data packet, redundant
 * copies, opportunistic reinjection and pacing deadlines.
 */
import { ownMap } from './empty.js';
import { PING_FRAME, dataFrameHeaderLength, writeDataFrameHeader } from '../wire/frames.js';
import type { Connection } from './connection.js';
import { beginPacket, addAcks, addData, addDataAck, addPendingControl, finish, packetLimit } from './packet-writer.js';
import type { PathState } from './path/path-state.js';
import type { SchedulerPath } from './sched/scheduler.js';
import type { Transmit } from './types.js';


/**
 * The paths that may carry data now, as the scheduler sees them: the
 * connection's one view, refreshed in place (no objects per packet).
 * `peek` (pollTimeout) asks without changing anything: no pacer refilled,
 * no path marked window-limited.
 */
function schedulerView(conn: Connection, now: number, size: number, peek = false): SchedulerPath[] {
  const view = conn.schedulerView;
  // Index loops: per packet, the three for-of loops here cost an array
  // iterator each that V8 did not optimise away (bench/alloc-sites.ts).
  const paths = conn.pathList;
  let n = 0;
  let anyActive = false;
  for (let i = 0; i < paths.length; i++) if (paths[i]!.state === 'active' && paths[i]!.validated) anyActive = true;
  const bottlenecks = conn.coupledGroup.bottlenecks;
  // A path with no RTT sample yet (validated by an answer that may be
  // seconds old, or moved to new addresses) waits for its first
  // acknowledgement while a path that has one can carry the data: it may
  // work in one direction only (issue #15).
  let anySampled = false;
  for (let i = 0; i < paths.length; i++) {
    const p = paths[i]!;
    if (p.carriesData && p.rtt.hasSample && (p.state === 'active' || !anyActive)) anySampled = true;
  }
  for (let i = 0; i < paths.length; i++) {
    const p = paths[i]!;
    if (!p.carriesData) continue;
    // Suspect paths carry data only when nothing better is left.
    if (p.state === 'suspect' && anyActive) continue;
    if (!p.rtt.hasSample && anySampled) continue;
    if (p.windowRoom < size && !peek) p.windowLimited = true;
    let v = view[n];
    if (v === undefined) {
      v = { id: 0, smoothedRtt: 0, rttVar: 0, congestionWindow: 0, sendRate: 0, bytesInFlight: 0, windowRoom: 0, backup: false, ready: false };
      view.push(v);
    }
    n++;
    v.id = p.id;
    // A path that carried no data since its RTT was last high (validated
    // through a slow first exchange, or idle) learns its real RTT only from
    // probes: its latest sample is the better guide until data flows.
    v.smoothedRtt = p.rtt.hasSample ? Math.min(p.rtt.smoothed, p.rtt.latest) : p.rtt.smoothed;
    v.rttVar = p.rtt.rttvar;
    v.congestionWindow = p.cc.window;
    v.sendRate = p.cc.pacingRate ?? p.cc.window / Math.max(p.rtt.smoothed, 0.001);
    v.bytesInFlight = p.sent.bytesInFlight;
    v.windowRoom = p.windowRoom;
    // A path standing by behind another on a shared bottleneck is used as a backup is.
    v.backup = p.backup || bottlenecks.standby(p.id);
    v.ready = p.pacingDelay(now, size, peek) === 0 && !bottlenecks.paused(p.id, now);
  }
  view.length = n;
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

export function sendData(conn: Connection, now: number): Transmit | null {
  const size = conn.options.maxDatagramSize;
  // Redundant copies go out when no first copy is waiting: a copy must not
  // take the window a first copy needs.
  if (conn.scheduler.redundant === true && !conn.sendBuffer.hasPending(conn.sendWindow.maxData)) {
    const copy = sendRedundantCopy(conn, now, size);
    if (copy !== null) return copy;
  }
  if (!hasDataToSend(conn)) {
    // Held by the peer's receive window: a receiver bottleneck, measured as
    // a network one is (draft-ietf-ccwg-bbr, "Considerations Related to
    // Receiver Flow Control Limits"), so not application-limited.
    if (!conn.sendBuffer.isBlocked(conn.sendWindow.maxData)) noteAppLimited(conn, now, size);
    return null;
  }
  const trickle = sendTrickle(conn, now, size);
  if (trickle !== null) return trickle;
  noteWindowBlocking(conn, now);
  const view = schedulerView(conn, now, size);
  if (view.length === 0) return null;
  const sendBuffer = conn.sendBuffer;
  const ctx = conn.schedulerContext;
  ctx.packetSize = size;
  ctx.unsentBytes = sendBuffer.unsentBytes;
  ctx.sendWindowRoom = Math.max(0, conn.sendWindow.maxData - sendBuffer.sendOffset);
  ctx.sendWindowSize = Math.max(0, conn.sendWindow.maxData - sendBuffer.ackedBelow);
  const id = conn.scheduler.choose(view, ctx);
  if (id === null) {
    // A path held back to spare the peer's receive window is receiver-limited,
    // as one held back by the window itself is (above), not application-limited.
    if (conn.scheduler.heldForReceiveWindow !== true) noteAppLimited(conn, now, size);
    return null;
  }
  const path = conn.pathsById.get(id);
  if (path === undefined || !path.carriesData) return null;
  opportunisticReinjection(conn, path, now);
  const w = beginPacket(conn, path, packetLimit(conn, path));
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

/**
 * A path standing by on a shared bottleneck sends two data packets every
 * TRICKLE_MS: their RTT samples tell the detector whether it still sees its
 * lead's queue (src/core/cc/shared-bottleneck.ts).
 */
function sendTrickle(conn: Connection, now: number, size: number): Transmit | null {
  const bottlenecks = conn.coupledGroup.bottlenecks;
  for (const path of conn.pathList) {
    if (!bottlenecks.trickleDue(path.id, now) || !path.carriesData || path.state !== 'active') continue;
    if (path.windowRoom < size || path.pacingDelay(now, size) !== 0) continue;
    const w = beginPacket(conn, path, packetLimit(conn, path));
    addAcks(conn, w, now, true);
    addDataAck(conn, w);
    addData(conn, w, true);
    // Nothing to send: a PING measures the RTT as well.
    if (!w.ackEliciting) w.add(PING_FRAME);
    bottlenecks.onTrickleSent(path.id, now);
    return finish(conn, w, now, true);
  }
  return null;
}

/** Most copies queued per path before the oldest are dropped (a slow path must not hoard). */
const MAX_REDUNDANT_QUEUE = 512;

/** Redundant: the new segment just sent on `path` is queued for every other live path. */
function queueRedundantCopies(conn: Connection, path: PathState, offset: number, length: number, fin: boolean): void {
  for (const other of conn.pathList) {
    if (other === path || !other.carriesData || other.state !== 'active') continue;
    let q = conn.redundantQueue.get(other.id);
    if (q === undefined) (conn.redundantQueue = ownMap(conn.redundantQueue)).set(other.id, (q = []));
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
    if (path.pacingDelay(now, size) !== 0) continue;
    const seg = q.shift()!;
    if (seg.offset < conn.sendBuffer.ackedBelow) continue;
    const w = beginPacket(conn, path, packetLimit(conn, path));
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

/**
 * The connection stops sending data while a path could take a packet (its
 * window has room and its pacer lets one go): nothing is waiting, or the
 * scheduler keeps the path idle.
 * That path's rate samples are application-limited until the gap is
 * acknowledged (draft-ietf-ccwg-bbr, "Detecting application-limited
 * phases": "the congestion window and pacing rate would have allowed the
 * connection to send data, and yet the connection is not currently sending
 * data and has no data to send"); from the path's side the connection is
 * its application.
 */
function noteAppLimited(conn: Connection, now: number, size: number): void {
  for (const p of conn.pathList) {
    if (!p.carriesData || p.windowRoom < size) continue;
    if (p.pacingDelay(now, size) !== 0) continue;
    p.delivery.markAppLimited(p.sent.bytesInFlight);
  }
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
  const view = schedulerView(conn, now, size, true);
  let anyActive = false;
  for (let i = 0; i < view.length; i++) if (!view[i]!.backup) anyActive = true;
  let earliest: number | null = null;
  const bottlenecks = conn.coupledGroup.bottlenecks;
  for (let i = 0; i < view.length; i++) {
    const v = view[i]!;
    if (v.windowRoom < size) continue;
    const p = conn.pathsById.get(v.id)!;
    let t: number;
    if (anyActive && v.backup) {
      // A standby path wakes the connection for its trickle only.
      const trickle = bottlenecks.trickleAt(v.id);
      if (trickle === null) continue;
      t = Math.max(trickle, p.pacingDelay(now, size, true), now);
    } else if (bottlenecks.paused(v.id, now)) {
      t = bottlenecks.pauseEnd() ?? now;
    } else {
      if (v.ready) continue;
      t = p.pacingDelay(now, size, true);
    }
    if (earliest === null || t < earliest) earliest = t;
  }
  return earliest;
}

