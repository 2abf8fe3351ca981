/**
 * Outgoing packets. pollTransmit picks what goes next, in this order:
 * CLOSE while closing; the handshake; per-path control (challenges,
 * responses, joins, ACKs, probes, keep-alives, migration probes); then
 * stream data on the path the scheduler chooses, with pending ACKs and
 * control frames piggybacked. Packets are built in packet-writer.ts.
 */
import { PING_FRAME } from '../wire/frames.js';
import type { Frame } from '../wire/types.js';
import type { Connection } from './connection.js';
import { FAILED_PROBE_MAX, UNVALIDATED_PROBE_MAX, type PathState } from './path/path-state.js';
import { beginPacket, ackRoute, addAcks, addData, addDataAck, addPendingControl, addValidation, challengeDue, countSent, finish, packetLimit, sealedPacket } from './packet-writer.js';
import { livenessPingDue, probeDue, responseRetryDue, validationDue } from './liveness.js';
import { forgetProbes } from './recovery.js';
import { sendData } from './send-data.js';
import { sendMtuProbe } from './send-mtu-probe.js';
import { sendClose, sendHandshakeResponse, sendInitial } from './send-handshake.js';
import { countDrop } from './stats.js';
import type { Transmit } from './types.js';

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
    const t = sendControl(conn, path, now) ?? sendMtuProbe(conn, path, now);
    if (t !== null) {
      conn.pathCursor = (conn.pathCursor + i + 1) % n;
      return t;
    }
  }
  return sendData(conn, now);
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
  if (path.pendingResponses.length > 0 || now >= responseRetryDue(path)) return 'response';
  if (path.challenge !== null && now >= validationDue(conn, path, challengeDue(path))) return 'challenge';
  if (path.probesPending > 0) return 'probe';
  // A packet came in on a path we hold suspect or failed, or another path
  // stalled: ACK + PING on it now (liveness.ts rules 1 and 4).
  if (livenessPingDue(path)) return 'liveness-ping';
  if (path.state === 'failed' && now >= probeDue(conn, path)) return 'failed-probe';
  // No early return for a failed path: with no path active it carries its own ACKs (ackRoute).
  if (path.received.hasUnacked && (path.ackImmediately || path.received.ackNeeded(now))) {
    if (ackRoute(conn, path) === path) return 'ack';
  }
  // ACKs of other paths routed here.
  for (const p of conn.pathList) {
    if (p !== path && p.received.hasUnacked && (p.ackImmediately || p.received.ackNeeded(now)) && ackRoute(conn, p) === path) {
      return 'ack';
    }
  }
  // A failed path is probed on its own schedule, not kept alive (PathState.keepAliveDeadline).
  if (now >= path.keepAliveDeadline(conn.options.keepAliveInterval)) {
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
  const frames: Frame[] = m.responses.map((data) => ({ type: 'path_response', pathId: path.id, data }));
  m.responses = [];
  if (m.attempts < 5) {
    frames.push({ type: 'path_challenge', pathId: path.id, data: m.challenge });
    m.attempts++;
    m.sentAt = now;
  }
  if (frames.length === 0) return null;
  const buf = sealedPacket(conn, path, frames, room);
  if (buf === null) return null;
  m.bytesSent += buf.length;
  countSent(conn, path, buf.length);
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
    path.pingDue = false;
    return null;
  }
  const limit = packetLimit(conn, path);
  let inFlight = true;
  if (reason === 'failed-probe') {
    path.nextProbeAt = now + path.probeInterval;
    path.lastProbeAt = now;
    path.probeInterval = Math.min(path.probeInterval * 2, path.validated ? FAILED_PROBE_MAX : UNVALIDATED_PROBE_MAX);
    conn.counters.failedProbes++;
    // A path that never validated tries its JOIN and challenge again.
    if (!path.validated && path.challenge !== null) path.challengeAttempts = 0;
  }
  // Packets of a failed or not yet validated path, liveness pings and
  // answers to challenges do not count against the path's window nor move
  // its PTO: each has its own retry schedule (probe back-off, challenge
  // back-off, liveness.ts rule 5), and an answer repeated on a dead path
  // must not keep that path's PTO from firing.
  const probing = path.state === 'failed' || !path.validated;
  if (reason === 'liveness-ping' || reason === 'response' || probing) inFlight = false;
  // Such a path tracks only its latest packet: one that stays dead for
  // hours (a pair with no route) does not pile up its probes.
  if (probing) forgetProbes(conn, path);
  const w = beginPacket(conn, path, limit);
  // A liveness ping carries this path's own ACK on itself (addAcks sees pingDue).
  addAcks(conn, w, now, true);
  // The window's edge rides with every ACK: a receiver that only ACKs must
  // still keep the sender's view of its window fresh.
  if (path.validated && !w.isEmpty) addDataAck(conn, w);
  addValidation(conn, w, now);
  // Control frames waiting for a data packet (a reset token, address
  // adverts, path status) ride on this one instead of a packet of their
  // own: the client's confirmation of the handshake carries its reset
  // token, the server's ACK of it carries the server's token and adverts.
  // Only on a packet that counts in flight on a working path, so they are
  // declared lost and sent again as they would be from a data packet.
  if (inFlight && path.validated && path.state === 'active') addPendingControl(conn, w);
  if (reason === 'liveness-ping') {
    path.pingDue = false;
    path.lastPingAt = now;
    conn.counters.livenessPings++;
    // The PING makes the peer acknowledge on its side: our view of the path revives too.
    if (!w.ackEliciting) w.add(PING_FRAME);
  }
  // An ACK-only packet asks for an ACK twice a round trip (PathState.ackElicitingAckDue).
  if (reason === 'ack' && !w.ackEliciting && path.ackElicitingAckDue(now) && w.add(PING_FRAME)) {
    path.dataSinceRttPing = false;
    conn.counters.rttPings++;
  }
  if (reason === 'probe' || reason === 'failed-probe' || reason === 'keepalive') {
    if (path.probesPending > 0) path.probesPending--;
    // A probe carries data only on the last path standing: a suspect path's
    // bytes were reinjected for the live paths, and a probe here would
    // take them back onto the path that is not answering.
    if (path.carriesData && !otherActivePath(conn, path)) {
      addDataAck(conn, w);
      addData(conn, w, false);
    }
    if (!w.ackEliciting) w.add(PING_FRAME);
  }
  if (w.isEmpty) return null;
  return finish(conn, w, now, inFlight);
}

