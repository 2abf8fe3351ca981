/**
 * Refused first contact. A client learns that nothing will answer on a
 * (local, server) address pair in two ways: the kernel reports an ICMP port
 * unreachable for it (the io layer feeds it in as `handlePathError`), or
 * the server itself refuses the handshake (it is closing, or full) with a
 * Handshake packet carrying only a CLOSE frame. Once every first-contact
 * pair was refused, the connection fails with REFUSED at once instead of
 * retrying until `connectTimeout`.
 *
 * Both signals are unauthenticated (nothing is agreed yet), as a TCP RST to a
 * SYN is: they are believed only during the handshake. After it, an error
 * reported for a path is counted and otherwise ignored; the path's own
 * liveness decides (an off-path attacker forging ICMP must not be able to
 * tear down a connection, RFC 5927).
 */
import { ownSet } from './empty.js';
import { encodeFrame, frameLength } from '../wire/frames.js';
import { encodeHeader, headerLength } from '../wire/header.js';
import { PacketType, type Frame, type PacketHeader } from '../wire/types.js';
import type { Connection } from './connection.js';
import { sameAddress } from './address.js';
import { CloseCode, TransportError } from './errors.js';
import type { SocketAddress } from './types.js';
import { finishClose } from './close.js';

/** Why an address pair or a handshake was refused. */
export type RefusalReason =
  /** The kernel reported ICMP port (or host) unreachable for the pair. */
  | 'unreachable'
  /** The server refused the handshake. */
  | 'server-refused';

/**
 * Client: the first-contact pair (local, remote) will not answer. RFC 1122
 * §4.2.3.9: "Destination Unreachable -- codes 2-4: These are hard error
 * conditions, so TCP SHOULD abort the connection." With several pairs
 * raced, the connection is aborted once every one of them was refused.
 */
export function refusePair(conn: Connection, local: SocketAddress, remote: SocketAddress, reason: RefusalReason, detail: string): void {
  if (conn.role !== 'client' || conn.state !== 'handshake') return;
  const index = conn.firstContact.findIndex((t) => sameAddress(t.local, local) && sameAddress(t.remote, remote));
  if (index < 0 || conn.refusedPairs.has(index)) return;
  (conn.refusedPairs = ownSet(conn.refusedPairs)).add(index);
  conn.counters.refusals++;
  if (conn.refusedPairs.size < conn.firstContact.length) return;
  finishClose(conn, {
    type: 'closed',
    code: CloseCode.REFUSED,
    errorCode: 0,
    reason: reason === 'unreachable' ? `every server address is unreachable (${detail})` : `refused by the server${detail ? `: ${detail}` : ''}`,
    remote: reason === 'server-refused',
  });
}

/** The io layer reports an error for a pair (e.g. ECONNREFUSED from an ICMP port unreachable). */
export function handlePathError(conn: Connection, local: SocketAddress, remote: SocketAddress, code: string): void {
  conn.counters.pathErrors++;
  if (conn.role === 'client' && conn.state === 'handshake') refusePair(conn, local, remote, 'unreachable', code);
}

/** Client: a Handshake packet with a CLOSE frame and no HELLO is the server's refusal. */
export function handleRefusal(conn: Connection, close: Extract<Frame, { type: 'close' }>, local: SocketAddress, remote: SocketAddress): void {
  refusePair(conn, local, remote, 'server-refused', close.reason);
}

/**
 * Server: the stateless refusal of a client's Initial. RFC 9000 §5.2.2: "If
 * a server refuses to accept a new connection, it SHOULD send an Initial
 * packet containing a CONNECTION_CLOSE frame with error code
 * CONNECTION_REFUSED." Here: a Handshake packet to the client's CID with one
 * CLOSE frame. It is smaller than the 1200-byte Initial it answers, so it
 * amplifies nothing.
 */
export function encodeRefusal(clientCid: Uint8Array, reason: string): Uint8Array {
  const frame: Frame = { type: 'close', errorCode: TransportError.CONNECTION_REFUSED, reason };
  const header: PacketHeader = { type: PacketType.Handshake, dcid: clientCid, pathId: 0, packetNumber: 0, keyPhase: false };
  const buf = new Uint8Array(headerLength(header) + frameLength(frame));
  encodeFrame(frame, buf, encodeHeader(header, buf, 0));
  return buf;
}
