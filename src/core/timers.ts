/**
 * Deadlines. pollTimeout returns the earliest time at which handleTimeout or
 * pollTransmit has something to do; handleTimeout acts on every deadline
 * that has passed. Calling handleTimeout early is harmless.
 */
import type { Connection } from './connection.js';
import { CloseCode } from './errors.js';
import { onLost, onPto, onSuspect, suspectDue, failPath } from './recovery.js';
import { ackRoute, challengeDue } from './packet-writer.js';
import { migrationDue } from './send.js';
import { pacingDeadline } from './send-data.js';
import { VALIDATION_ATTEMPTS } from './path/path-state.js';
import { livenessPingDue, noWorkingPathDeadline, onOverdue, overdueDue, probeDue, responseRetryDue, validationDue } from './liveness.js';
import { finishClose } from './close.js';

/** The earlier of `t` and `v` (null: no deadline). A function, not a closure per call. */
function earlier(t: number, v: number | null): number {
  return v !== null && v < t ? v : t;
}

export function pollTimeout(conn: Connection): number | null {
  let t = Infinity;
  const now = conn.now;
  if (conn.state === 'closing' || conn.state === 'draining') {
    t = earlier(t, conn.drainUntil);
    if (conn.state === 'closing' && conn.closeQueue.length > 0) t = earlier(t, now);
    return Number.isFinite(t) ? t : null;
  }
  if (conn.state !== 'handshake' && conn.options.idleTimeout > 0) {
    t = earlier(t, conn.lastActivity + conn.options.idleTimeout);
    t = earlier(t, noWorkingPathDeadline(conn));
  }
  if (conn.state === 'handshake') {
    t = earlier(t, conn.handshakeDeadline);
    if (conn.role === 'client') t = earlier(t, conn.initialQueue.length > 0 ? now : conn.initialNextAt);
    else if (conn.handshakeResponsePending) t = earlier(t, now);
    return Number.isFinite(t) ? t : null;
  }
  if (conn.handshakeResponsePending) t = earlier(t, now);
  const paths = conn.pathList;
  for (let i = 0; i < paths.length; i++) {
    const path = paths[i]!;
    if (path.state === 'closed') continue;
    t = earlier(t, path.sent.lossTime);
    t = earlier(t, path.ptoDeadline());
    // Both ask for the same deadline: computed once.
    const suspect = path.suspectDeadline();
    t = earlier(t, suspectDue(conn, path, suspect));
    t = earlier(t, overdueDue(path, suspect));
    if (!path.canSend) continue;
    if (path.state === 'failed') t = earlier(t, probeDue(conn, path));
    if (livenessPingDue(path)) t = earlier(t, now);
    const migrating = migrationDue(path);
    if (migrating !== null) t = earlier(t, Math.max(migrating, now));
    // validationDue says -Infinity for "at once" (a new or urged challenge): at once is now, not "no timer".
    if (path.challenge !== null && path.state !== 'failed') t = earlier(t, Math.max(validationDue(conn, path, challengeDue(path)), now));
    if (path.pendingResponses.length > 0 || path.probesPending > 0) t = earlier(t, now);
    t = earlier(t, responseRetryDue(path));
    const route = path.received.hasUnacked ? ackRoute(conn, path) : null;
    if (route !== null && route.canSend) {
      t = earlier(t, path.ackImmediately ? now : path.received.ackDeadline);
    }
    t = earlier(t, path.keepAliveDeadline(conn.options.keepAliveInterval));
  }
  t = earlier(t, pacingDeadline(conn, now));
  return Number.isFinite(t) ? t : null;
}

export function handleTimeout(conn: Connection, now: number): void {
  if (conn.state === 'closing' || conn.state === 'draining') {
    // A CLOSE not yet sent (the io loop was late) keeps the connection: the
    // closing period starts when the CLOSE leaves (sendClose).
    if (now >= conn.drainUntil && (conn.state === 'draining' || conn.closeQueue.length === 0)) {
      finishClose(conn, { type: 'closed', code: CloseCode.NO_ERROR, errorCode: 0, reason: '', remote: false });
    }
    return;
  }
  // The handshake has its own deadline; the idle timeout starts after it.
  if (conn.state !== 'handshake' && conn.options.idleTimeout > 0 && now >= conn.lastActivity + conn.options.idleTimeout) {
    // RFC 9000 §10.1: the connection is silently closed.
    finishClose(conn, {
      type: 'closed',
      code: CloseCode.IDLE_TIMEOUT,
      errorCode: 0,
      reason: 'idle timeout',
      remote: false,
    });
    return;
  }
  const noPath = conn.state === 'established' ? noWorkingPathDeadline(conn) : null;
  if (noPath !== null && now >= noPath) {
    // We hear the peer, but it has acknowledged nothing of ours for the
    // idle timeout: no path works our way. Closed silently like the idle
    // timeout; the peer, hearing nothing from us, idles out.
    finishClose(conn, {
      type: 'closed',
      code: CloseCode.NO_WORKING_PATH,
      errorCode: 0,
      reason: 'no path carried our packets for the idle timeout',
      remote: false,
    });
    return;
  }
  if (conn.state === 'handshake') {
    if (conn.role !== 'client') {
      // A half-open server connection the client never confirmed ends
      // silently: the application never heard of it.
      if (now >= conn.handshakeDeadline) {
        finishClose(conn, { type: 'closed', code: CloseCode.HANDSHAKE_TIMEOUT, errorCode: 0, reason: 'the client never confirmed the handshake', remote: false });
      }
      return;
    }
    if (now >= conn.handshakeDeadline) {
      finishClose(conn, {
        type: 'closed',
        code: CloseCode.HANDSHAKE_TIMEOUT,
        errorCode: 0,
        reason: 'no answer from any server address',
        remote: false,
      });
      return;
    }
    if (now >= conn.initialNextAt) {
      conn.initialAttempts++;
      conn.initialQueue = [...conn.firstContact];
      conn.initialNextAt = now + 600 * 2 ** Math.min(conn.initialAttempts, 4);
    }
    return;
  }
  for (const path of conn.pathList) {
    if (path.state === 'closed') continue;
    if (path.sent.lossTime !== null && now >= path.sent.lossTime) {
      onLost(conn, path, path.sent.detectLost(now, path.rtt), now);
    }
    const pto = path.ptoDeadline();
    if (pto !== null && now >= pto) onPto(conn, path, now);
    // Rule 4 of liveness.ts: an overdue path has every other path probed at once.
    const overdue = overdueDue(path);
    if (overdue !== null && now >= overdue) onOverdue(conn, path, now);
    const suspect = suspectDue(conn, path);
    if (suspect !== null && now >= suspect) onSuspect(conn, path, now);
    const m = path.migration;
    if (m !== null && m.attempts >= 5 && m.responses.length === 0 && now >= m.sentAt + 2000) path.migration = null;
    if (
      !path.validated &&
      path.state === 'validating' &&
      path.challengeAttempts >= VALIDATION_ATTEMPTS &&
      now >= challengeDue(path)
    ) {
      failPath(conn, path, now, 'validation-timeout', false);
    }
  }
  conn.checkSendProgress();
}
