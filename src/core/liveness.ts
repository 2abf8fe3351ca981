/**
 * Path liveness when paths flap (issue #15): a connection lives as long as
 * one address pair carries packets, whatever happened to its paths before.
 * recovery.ts holds the path states (active → suspect → failed → active);
 * this module holds the rules that find a working pair again fast.
 *
 * 1. Answer on the path a packet came in on. A packet accepted on a path
 *    we hold suspect or failed is answered on that same path at once (at
 *    most once per PING_INTERVAL) with its ACK frame and a PING, not
 *    counted in flight: a "liveness ping". The usual ACK route of such a
 *    path is another path active in our view ("ACK frames may travel on any
 *    path": the reverse direction may be the broken one), but under
 *    flapping that path is often dead and not yet noticed, and with every
 *    path failed there was no route at all: each end sent PINGs the other
 *    never acknowledged, and both stayed failed for good (the freeze of
 *    issue #15). The answer's ACK revives the path at the peer; its PING,
 *    acknowledged, revives it here. A packet on a path still validating
 *    makes its challenge due at once.
 *
 * 2. An ACK of anything sent since the path failed revives it, even when
 *    the probe it acknowledges is no longer tracked (a failed path tracks
 *    only its latest probe, so a long-dead path does not pile them up).
 *
 * 3. With no active path left, every failed or validating path is probed
 *    at least every FAILED_PROBE_MAX, whatever back-off its history gave it:
 *    the pair that works may be one that failed its validation long ago.
 *
 * 4. When an active path's oldest packet is overdue (its suspicion
 *    deadline passes), every other path that is not active is probed at
 *    once: a healed pair is found about when the dead one is noticed,
 *    instead of at a random point of its probe back-off. Active paths
 *    with nothing in flight get a PING: their ACK is the evidence that the
 *    silence is the overdue path's own (recovery.ts, suspectDue).
 *
 * 5. Our answer (PATH_RESPONSE) to the peer's latest challenge on a path is
 *    repeated, every RESPONSE_RETRY_MIN..FAILED_PROBE_MAX, until a packet
 *    carrying it is acknowledged. A path we validated may be one the peer
 *    has not (our answer was lost in an outage); the peer cannot send on it
 *    and, past its anti-amplification budget, cannot even challenge again.
 *    When its other paths die, that pair is the one that works, and only
 *    our packets on it can unblock it: a receiver that only acknowledges
 *    would otherwise send there once per keep-alive interval.
 *
 * The idle timeout counts from the last packet that proves the peer alive
 * (`Connection.onPeerAlive`). A second deadline ends a connection whose
 * packets nobody acknowledges (one-way failures: the peer's packets still
 * arrive, ours do not): see `noWorkingPathDeadline`.
 */
import type { AckRange } from '../wire/types.js';
import type { Connection } from './connection.js';
import { FAILED_PROBE_MAX, MAX_ACK_DELAY, type PathState } from './path/path-state.js';

/** Shortest interval between two liveness pings on one path (ms): every probe of the peer is answered, a flood of data on a one-way path is not echoed packet for packet. */
export const PING_INTERVAL = MAX_ACK_DELAY;

/** Some validated path is active (carries data in our view). */
export function anyActivePath(conn: Connection): boolean {
  for (const p of conn.pathList) if (p.validated && p.state === 'active') return true;
  return false;
}

/** Rule 1: a packet from the peer was accepted on `path` (after its frames were handled). */
export function onPacketOnPath(path: PathState, now: number): void {
  if (!path.validated) {
    // A pair still validating evidently carries the peer's packets: challenge it now.
    if (path.state === 'validating' && path.challenge !== null && path.challengeAttempts > 0) urgeChallenge(path, now);
    return;
  }
  if (path.state !== 'suspect' && path.state !== 'failed') return;
  if (now < path.lastPingAt + PING_INTERVAL) return;
  path.pingDue = true;
}

/** A liveness ping (ACK + PING, not in flight) must go out on `path` now. */
export function livenessPingDue(path: PathState): boolean {
  // recoverPath and failPath(close) clear the flag: an active path follows the usual ACK rules.
  return path.pingDue && (path.state === 'suspect' || path.state === 'failed');
}

/** Makes the challenge of a validating path due now (at most once per PING_INTERVAL). */
function urgeChallenge(path: PathState, now: number): void {
  if (now < path.challengeSentAt + PING_INTERVAL) return;
  path.challengeUrgent = true;
}

/**
 * Rule 3: when the next probe of a failed path is due: its own back-off,
 * but no later than FAILED_PROBE_MAX after its last probe while no path is
 * active.
 */
export function probeDue(conn: Connection, path: PathState): number {
  if (path.state !== 'failed') return Infinity;
  if (anyActivePath(conn)) return path.nextProbeAt;
  return Math.min(path.nextProbeAt, path.lastProbeAt + FAILED_PROBE_MAX);
}

/**
 * When a path still validating repeats its challenge: at once when urged
 * (rules 1 and 4), else its own back-off (`due`, from
 * packet-writer.challengeDue), capped like a failed path's probes while no
 * path is active (rule 3).
 */
export function validationDue(conn: Connection, path: PathState, due: number): number {
  if (path.challengeUrgent) return -Infinity;
  if (anyActivePath(conn)) return due;
  return Math.min(due, path.challengeSentAt + FAILED_PROBE_MAX);
}

/** Shortest interval between two repeats of our answer to the peer's challenge (ms). */
export const RESPONSE_RETRY_MIN = 100;

/**
 * Rule 5: when our answer to the peer's latest challenge on `path` is to be
 * repeated (Infinity when none is waiting for an acknowledgement): a PTO
 * after the last one, between RESPONSE_RETRY_MIN and FAILED_PROBE_MAX.
 */
export function responseRetryDue(path: PathState): number {
  if (path.peerChallenge === null || path.state === 'closed') return Infinity;
  const interval = Math.min(Math.max(path.rtt.pto(MAX_ACK_DELAY), RESPONSE_RETRY_MIN), FAILED_PROBE_MAX);
  return path.responseSentAt + interval;
}

/** Does an ACK frame's ranges cover `packetNumber`? */
export function acksPacket(ranges: readonly AckRange[], packetNumber: number): boolean {
  if (packetNumber < 0) return false;
  for (const r of ranges) if (packetNumber >= r.smallest && packetNumber <= r.largest) return true;
  return false;
}

/** Rule 2: does an ACK frame for `path` whose largest packet number is `largest` prove it carries our packets again? */
export function ackRevives(path: PathState, largest: number): boolean {
  return path.state === 'failed' && path.failedSincePn >= 0 && largest >= path.failedSincePn;
}

/**
 * Rule 4: when the oldest packet of active `path` becomes overdue and the
 * other paths are to be probed, or null (nothing outstanding, or this
 * deadline was handled already).
 */
export function overdueDue(path: PathState, deadline: number | null = path.suspectDeadline()): number | null {
  if (path.state !== 'active' || !path.validated) return null;
  if (deadline === null || deadline <= path.overdueHandled) return null;
  return deadline;
}

/** Rule 4: `path`'s oldest packet is overdue: probe every path that is not active, now. */
export function onOverdue(conn: Connection, path: PathState, now: number): void {
  const deadline = overdueDue(path);
  if (deadline === null || now < deadline) return;
  path.overdueHandled = deadline;
  for (const p of conn.pathList) {
    if (p === path) continue;
    if (p.state === 'failed') {
      if (p.nextProbeAt > now && now >= p.lastProbeAt + PING_INTERVAL) p.nextProbeAt = now;
    } else if (p.state === 'suspect') {
      if (now >= p.lastPingAt + PING_INTERVAL) p.pingDue = true;
    } else if (p.state === 'validating' && p.challenge !== null && p.challengeAttempts > 0) {
      urgeChallenge(p, now);
    } else if (p.state === 'active' && p.validated && p.sent.ackElicitingInFlight === 0 && p.probesPending === 0 && now >= p.lastAckElicitingSentAt + PING_INTERVAL) {
      // An idle active path is asked too (a PING, in flight): the overdue
      // path becomes suspect only once another path is acknowledged after
      // its deadline (suspectDue), and an idle one would otherwise answer
      // only at its next keep-alive, up to a second later. All the data
      // rides on the one fast path whenever its window holds the
      // application's rate (an app-limited sender).
      p.probesPending = 1;
    }
  }
}

/**
 * How recently the peer must have been heard for a connection that gets
 * nothing acknowledged to end with NO_WORKING_PATH rather than wait for
 * the idle timeout: a peer that lives probes its failed paths at least
 * every FAILED_PROBE_MAX, so twice that.
 */
export const HEARD_RECENTLY = 2 * FAILED_PROBE_MAX;

/**
 * When the connection gives up because nothing it sent is acknowledged
 * although the peer is still heard (one-way failures: its packets reach
 * us, ours never reach it): the idle timeout after the first ack-eliciting
 * packet that is still unanswered (Connection.unansweredSince), provided
 * the peer was heard within HEARD_RECENTLY of that moment. Null otherwise:
 * when nothing is waiting, no idle timeout is set, or the peer has gone
 * silent too (then the idle timeout ends the connection, as
 * ERR_MPUDP_IDLE_TIMEOUT; a packet heard later makes this deadline due at
 * once).
 */
export function noWorkingPathDeadline(conn: Connection): number | null {
  if (conn.options.idleTimeout <= 0 || conn.unansweredSince === null) return null;
  const deadline = conn.unansweredSince + conn.options.idleTimeout;
  return conn.lastActivity >= deadline - HEARD_RECENTLY ? deadline : null;
}
