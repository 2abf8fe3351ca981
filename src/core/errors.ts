/**
 * Close codes: the numeric code a CLOSE frame carries on the wire, and the
 * stable string the application sees in the 'closed' event.
 */

/** Transport error codes on the wire (CLOSE.errorCode below APPLICATION_BASE). */
export const TransportError = {
  NO_ERROR: 0,
  INTERNAL_ERROR: 1,
  PROTOCOL_VIOLATION: 2,
  FLOW_CONTROL_ERROR: 3,
  HANDSHAKE_FAILED: 4,
  /** A server refuses a new connection (it is closing, or full). */
  CONNECTION_REFUSED: 5,
  /** RFC 9001 §6.6: AEAD_LIMIT_REACHED. */
  AEAD_LIMIT_REACHED: 6,
} as const;

/** Codes at or above this are the application's (socket.destroy(err)). */
export const APPLICATION_BASE = 0x100;

/** Stable close codes seen by the application. */
export const CloseCode = {
  /** Both sides finished: every byte delivered both ways. */
  NO_ERROR: 'NO_ERROR',
  /** This side aborted (destroy). */
  ABORTED: 'ERR_MPUDP_ABORTED',
  /** The peer aborted. */
  PEER_ABORTED: 'ERR_MPUDP_PEER_ABORTED',
  /** Nothing heard from the peer for the idle timeout. */
  IDLE_TIMEOUT: 'ERR_MPUDP_IDLE_TIMEOUT',
  /** The peer is heard, but it acknowledged nothing of ours for the idle timeout: no path works our way. */
  NO_WORKING_PATH: 'ERR_MPUDP_NO_WORKING_PATH',
  /** The handshake did not complete in time. */
  HANDSHAKE_TIMEOUT: 'ERR_MPUDP_HANDSHAKE_TIMEOUT',
  /** Every first-contact pair was refused (ICMP unreachable, or the server's refusal). */
  REFUSED: 'ERR_MPUDP_REFUSED',
  /** The peer broke the protocol (flow control, bad FIN, bad handshake). */
  PROTOCOL_VIOLATION: 'ERR_MPUDP_PROTOCOL_VIOLATION',
  /** Client: the server proved a long-term key other than the pinned one (`serverKey`). */
  SERVER_KEY_MISMATCH: 'ERR_MPUDP_SERVER_KEY_MISMATCH',
  /** The AEAD limits of RFC 9001 §6.6 were reached (too many forgeries, or no key update possible). */
  AEAD_LIMIT_REACHED: 'ERR_MPUDP_AEAD_LIMIT',
  /** The peer lost the connection's state and said so with its stateless reset token. */
  STATELESS_RESET: 'ERR_MPUDP_STATELESS_RESET',
  /** A fault inside this side's own code closed the connection (a bug: please report it). */
  INTERNAL_ERROR: 'ERR_MPUDP_INTERNAL',
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** The application-facing code for a CLOSE received from the peer. */
export function closeCodeForPeer(errorCode: number): CloseCode {
  if (errorCode === TransportError.NO_ERROR) return CloseCode.NO_ERROR;
  if (errorCode === TransportError.PROTOCOL_VIOLATION || errorCode === TransportError.FLOW_CONTROL_ERROR) {
    return CloseCode.PROTOCOL_VIOLATION;
  }
  return CloseCode.PEER_ABORTED;
}
