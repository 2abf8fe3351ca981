/**
 * What the io layer does when the core throws (an exception out of src/core
 * is a bug there, never an input error: decoders are total). Every call
 * from io into the core goes through one of two captures:
 *
 * - A call into one connection, for the application (the socket's write,
 *   read, end, close, setBackup, stats: UdpEndpoint.run) or for the
 *   endpoint (a datagram, a timer: EndpointCore's guard): that connection
 *   alone ends with ERR_MPUDP_INTERNAL (EndpointCore.failConnection,
 *   counted in `internalErrors`); its 'closed' event reaches its socket as
 *   an 'error' on the next flush, and every other connection goes on. The
 *   caller gets FAULT instead of a value and must not take it for one
 *   (a fault in read() is never a clean EOF).
 *
 * - A call into the endpoint core itself (UdpEndpoint.call): a fault there
 *   belongs to no one connection. The demultiplexer's maps, its half-open
 *   counts and its outbox may be half-updated, and carrying on could send
 *   one connection's datagrams for another, so the endpoint stops: every
 *   connection ends with ERR_MPUDP_INTERNAL, the sockets close, the fault is
 *   counted (`coreExceptions`), and the handler's `endpointFailed` reports
 *   it (a server emits 'error' with code ERR_MPUDP_INTERNAL, then 'close';
 *   a client socket emits that 'error'). Nothing runs on half-updated.
 */
import { CloseCode, TransportError } from '../core/errors.js';
import type { ConnectionEvent } from '../core/types.js';

type ClosedEvent = Extract<ConnectionEvent, { type: 'closed' }>;

/** What a captured call returns instead of a value when the core threw. */
export const FAULT: unique symbol = Symbol('mpudp.fault');
export type Fault = typeof FAULT;

/** The thrown value as an Error (a core may throw anything). */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** The 'closed' event of a connection ended by a fault of its endpoint (the core could not give one). */
export function internalClosedEvent(err: Error): ClosedEvent {
  const reason = `internal error in the endpoint: ${err.message}`.slice(0, 200);
  return { type: 'closed', code: CloseCode.INTERNAL_ERROR, errorCode: TransportError.INTERNAL_ERROR, reason, remote: false };
}
