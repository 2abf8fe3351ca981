/**
 * How a connection's end reaches the application: the core's close codes
 * (src/core/errors.ts) mapped onto the error a socket emits, with the codes
 * `net` uses for the same events (ECONNRESET, ETIMEDOUT, ECONNREFUSED), and
 * the application error code a `destroy(err)` sends.
 */
import type { ConnectionEvent } from '../core/types.js';
import { MpudpError, type MpudpErrorCode } from './errors.js';

export type ClosedEvent = Extract<ConnectionEvent, { type: 'closed' }>;

/** Application error code sent by `destroy()` without an error, and by resetAndDestroy(). */
export const ERROR_CODE_DESTROYED = 1;
/** Application error code sent by `destroy(err)` when `err.errorCode` is not set. */
export const ERROR_CODE_FAILED = 2;
/** Largest application error code (`err.errorCode` of `destroy(err)`). */
export const MAX_APPLICATION_ERROR_CODE = 0xffff_ffff;

/** The core's close codes and what the application sees (null: no error). */
const CLOSE_CODE_ERRORS: Record<string, MpudpErrorCode | null> = {
  NO_ERROR: null,
  ERR_MPUDP_ABORTED: null,
  ERR_MPUDP_PEER_ABORTED: 'ECONNRESET',
  ERR_MPUDP_IDLE_TIMEOUT: 'ETIMEDOUT',
  // The peer is heard but acknowledges nothing of ours (a one-way failure of every path): as TCP's retransmission timeout.
  ERR_MPUDP_NO_WORKING_PATH: 'ETIMEDOUT',
  ERR_MPUDP_HANDSHAKE_TIMEOUT: 'ETIMEDOUT',
  ERR_MPUDP_REFUSED: 'ECONNREFUSED',
  ERR_MPUDP_PROTOCOL_VIOLATION: 'ERR_MPUDP_PROTOCOL_VIOLATION',
  ERR_MPUDP_SERVER_KEY_MISMATCH: 'ERR_MPUDP_SERVER_KEY_MISMATCH',
  ERR_MPUDP_AEAD_LIMIT: 'ERR_MPUDP_AEAD_LIMIT',
  ERR_MPUDP_STATELESS_RESET: 'ERR_MPUDP_STATELESS_RESET',
  ERR_MPUDP_INTERNAL: 'ERR_MPUDP_INTERNAL',
};

/** The error an application sees for a close, or null for a graceful or local one. */
export function closeError(event: ClosedEvent, established: boolean): MpudpError | null {
  const mapped = event.code in CLOSE_CODE_ERRORS ? CLOSE_CODE_ERRORS[event.code]! : 'ERR_MPUDP_CLOSED';
  if (mapped === null) return null;
  const extra = { errorCode: event.errorCode, closeCode: event.code };
  const reason = event.reason ? `: ${event.reason}` : '';
  switch (mapped) {
    case 'ECONNRESET':
      return new MpudpError(mapped, `read ECONNRESET: the peer aborted the connection (error code ${event.errorCode}${reason})`, extra);
    case 'ETIMEDOUT':
      if (event.code === 'ERR_MPUDP_NO_WORKING_PATH') {
        return new MpudpError(mapped, 'write ETIMEDOUT: nothing sent was acknowledged on any path for longer than the idle timeout (the peer was still heard)', extra);
      }
      return established
        ? new MpudpError(mapped, `read ETIMEDOUT: the peer was silent on every path for longer than the idle timeout`, extra)
        : new MpudpError(mapped, `connect ETIMEDOUT: no server address answered the handshake within connectTimeout`, extra);
    case 'ECONNREFUSED':
      return new MpudpError(mapped, `connect ECONNREFUSED${reason}`, extra);
    case 'ERR_MPUDP_PROTOCOL_VIOLATION':
      return new MpudpError(mapped, `protocol violation${event.remote ? ' reported by the peer' : ''}${reason}`, extra);
    case 'ERR_MPUDP_SERVER_KEY_MISMATCH':
    case 'ERR_MPUDP_AEAD_LIMIT':
    case 'ERR_MPUDP_STATELESS_RESET':
    case 'ERR_MPUDP_INTERNAL':
      return new MpudpError(mapped, event.reason || mapped, extra);
    default:
      return new MpudpError('ERR_MPUDP_CLOSED', `connection closed: ${event.code}${event.reason ? ` (${event.reason})` : ''}`, extra);
  }
}

/** The application error code `destroy(err)` sends: err.errorCode, or 1 / 2. */
export function applicationErrorCode(err: Error | null): number {
  if (err === null) return ERROR_CODE_DESTROYED;
  const code = (err as { errorCode?: unknown }).errorCode;
  if (typeof code === 'number' && Number.isInteger(code) && code >= 1 && code <= MAX_APPLICATION_ERROR_CODE) return code;
  return ERROR_CODE_FAILED;
}

/**
 * Errors of this socket's own stream that the peer has nothing to do with:
 * a write after end() fails locally, and the connection still ends
 * gracefully (the peer sees every byte written before end(), then 'end').
 */
export function isLocalOnly(err: Error): boolean {
  return (err as NodeJS.ErrnoException).code === 'ERR_STREAM_WRITE_AFTER_END';
}

export function streamDestroyed(): MpudpError {
  return new MpudpError('ERR_STREAM_DESTROYED', 'the connection is closed');
}
