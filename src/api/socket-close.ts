/**
 * How a socket's end maps onto its connection's, as close(2) and an RST do
 * for a TCP socket:
 * - `destroy()` without an error, with every written byte handed to the
 *   connection, orphans the connection: it goes on in the background until
 *   the peer has every byte and our FIN, and the peer sees a graceful end;
 * - with an error (or bytes that never reached the connection, or
 *   resetAndDestroy()), the connection is aborted and the peer gets
 *   ECONNRESET;
 * - the peer's graceful close while we still write is ECONNRESET here.
 */
import { internalClosedEvent } from '../io/fault-capture.js';
import { closeError, isLocalOnly, type ClosedEvent } from './close-errors.js';
import { MpudpError } from './errors.js';

/**
 * How long an orphaned connection (destroyed without an error, still
 * delivering its bytes and FIN) may wait for the peer's FIN before it is
 * aborted; Linux's tcp_fin_timeout for orphaned sockets is 60 s.
 */
export const ORPHAN_LINGER_MS = 60_000;

/** What `_destroy` knows when it decides. */
export interface DestroyState {
  /** Bytes the stream holds that never reached the connection. */
  unsent: boolean;
  /** resetAndDestroy() was called. */
  resetRequested: boolean;
  /** The handshake completed. */
  established: boolean;
}

/**
 * destroy(err) ends the connection gracefully (orphaned) rather than
 * aborting it: only without an error of the peer's concern, and with
 * nothing dropped (ending gracefully would let the peer take a truncated
 * stream for a whole one).
 */
export function destroysGracefully(err: Error | null, s: DestroyState): boolean {
  return (err === null || isLocalOnly(err)) && !s.unsent && !s.resetRequested && s.established;
}

/** What onClosed needs of the socket to map a close. */
export interface ClosingSocket {
  established: boolean;
  orphaned: boolean;
  /** Pushes every byte the core still holds, then EOF; false if reading them failed. */
  drainAll(): boolean;
  /** Our FIN is not sent yet, or a write still waits. */
  stillWriting(): boolean;
}

/** The error a socket ends with when its connection closed (null: none). */
export function closedSocketError(event: ClosedEvent, s: ClosingSocket): Error | null {
  let error: Error | null = closeError(event, s.established);
  if (event.code === 'NO_ERROR' && event.remote && !s.orphaned) {
    // The peer's graceful close: every byte it sent (and its FIN) is ours already.
    if (!s.drainAll()) {
      // Reading them failed: never a clean EOF.
      error = closeError(internalClosedEvent(new Error('reading the last bytes failed')), true);
    } else if (s.stillWriting()) {
      error = new MpudpError('ECONNRESET', 'read ECONNRESET: the peer closed the connection while this side was still writing', {
        errorCode: 0,
        closeCode: event.code,
      });
    }
  }
  return error;
}
