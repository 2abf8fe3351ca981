/**
 * How a connection ends (RFC 9000 §10): closing (we sent CLOSE), draining
 * (the peer did), closed. The application hears 'closed' once, when
 * closing or draining starts; the connection then lingers three PTOs to
 * absorb stray packets, and ends. The lifecycle itself changes only
 * through Connection.setState, which refuses a backward move.
 */
import type { Connection } from './connection.js';
import { CloseCode, TransportError } from './errors.js';
import { countDrop } from './stats.js';
import type { ConnectionEvent } from './types.js';

type ClosedEvent = Extract<ConnectionEvent, { type: 'closed' }>;

/** The peer broke the protocol: counted, and the connection closes with `wireCode`. */
export function protocolViolation(conn: Connection, wireCode: number, reason: string): void {
  countDrop(conn.drops, 'protocol-violation');
  startClosing(conn, wireCode, reason, { type: 'closed', code: CloseCode.PROTOCOL_VIOLATION, errorCode: wireCode, reason, remote: false });
}

/**
 * Both directions are done (our FIN acknowledged, the peer's FIN read):
 * send CLOSE(NO_ERROR), which tells the peer we hold all its bytes, and
 * linger briefly for retransmissions.
 */
export function checkGracefulClose(conn: Connection): void {
  if (conn.endEmitted && conn.finishedEmitted && conn.state === 'established') {
    startClosing(conn, TransportError.NO_ERROR, '', { type: 'closed', code: CloseCode.NO_ERROR, errorCode: 0, reason: '', remote: false });
  }
}

/**
 * Enters the closing state: CLOSE goes out on every live path. The
 * application hears 'closed' now; the connection lingers three PTOs to
 * absorb stray packets, then ends.
 */
export function startClosing(conn: Connection, wireCode: number, reason: string, event: ClosedEvent): void {
  if (conn.state === 'handshake' && conn.protection === null && conn.role === 'client') {
    // Nothing was agreed: nobody to tell.
    finishClose(conn, event);
    return;
  }
  conn.setState('closing');
  conn.closeFrame = { errorCode: wireCode, reason };
  // Failed paths too (not those that never validated): under flapping the
  // pair that works now may be one we hold failed, and a CLOSE the peer
  // never gets leaves it waiting out its idle timeout.
  conn.closeQueue = conn.pathList.filter((p) => p.state !== 'closed' && (p.state !== 'failed' || p.validated));
  conn.drainUntil = conn.now + 3 * bestPto(conn);
  emitClosed(conn, event);
}

/**
 * The peer closed: stop sending, wait out stray packets, end. The
 * application hears 'closed' at once (RFC 9000 §10.2.2: an endpoint that
 * receives a CONNECTION_CLOSE may enter the draining state at once).
 */
export function startDraining(conn: Connection, event: ClosedEvent): void {
  conn.setState('draining');
  conn.closeFrame = null;
  conn.closeQueue = [];
  conn.drainUntil = conn.now + 3 * bestPto(conn);
  // A graceful CLOSE arrives once the peer holds all our bytes, but the
  // application may not have read all of the peer's yet: 'closed' waits
  // for 'end', as a TCP socket's 'close' follows its 'end'.
  if (event.code === CloseCode.NO_ERROR && !conn.endEmitted && conn.assembler.finOffset !== null) {
    conn.closedAfterEnd = event;
    return;
  }
  emitClosed(conn, event);
}

/** Ends the connection now. */
export function finishClose(conn: Connection, event: ClosedEvent): void {
  if (conn.state === 'closed') return;
  conn.setState('closed');
  for (const path of conn.pathList) path.setState('closed', conn.now);
  // Bytes still unread after a graceful close: 'closed' follows 'end' when the application reads them.
  if (conn.closedAfterEnd !== null && !conn.endEmitted) return;
  emitClosed(conn, conn.closedAfterEnd ?? event);
}

/** Emits 'closed' once; nothing follows it. */
export function emitClosed(conn: Connection, event: ClosedEvent): void {
  if (conn.closedEmitted) return;
  conn.closedEmitted = true;
  conn.emit(event);
}

/** The smallest PTO among live paths (for closing and draining periods). */
export function bestPto(conn: Connection): number {
  let best = Infinity;
  for (const p of conn.pathList) {
    if (p.state === 'active' || p.state === 'suspect') best = Math.min(best, p.rtt.pto(0));
  }
  return Number.isFinite(best) ? best : 1000;
}
