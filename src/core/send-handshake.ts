/**
 * The handshake's and the close's packets: the client's Initial (padded to
 * 1200 bytes, raced over every first-contact pair), the server's Handshake
 * (HELLO + FINISHED, within the anti-amplification limit) and CLOSE.
 */
import { encodeFrame, frameLength } from '../wire/frames.js';
import { encodeHeader, headerLength } from '../wire/header.js';
import { MIN_INITIAL_SIZE, PacketType, type Frame, type PacketHeader } from '../wire/types.js';
import type { Connection } from './connection.js';
import { countSent, sealedPacket } from './packet-writer.js';
import { countDrop } from './stats.js';
import type { Transmit } from './types.js';
import { bestPto } from './close.js';


export function sendInitial(conn: Connection, now: number): Transmit | null {
  if (conn.handshake === null) {
    conn.initialQueue = [];
    return null;
  }
  const target = conn.initialQueue.shift();
  if (target === undefined) return null;
  const hello: Frame = { ...conn.handshake.hello, cookie: conn.cookie };
  const header: PacketHeader = { type: PacketType.Initial, dcid: conn.initialDcid, pathId: 0, packetNumber: conn.initialAttempts, keyPhase: false };
  const len = headerLength(header) + frameLength(hello);
  const size = Math.max(len + 1, MIN_INITIAL_SIZE);
  const buf = new Uint8Array(size);
  let pos = encodeHeader(header, buf, 0);
  pos = encodeFrame(hello, buf, pos);
  // The rest stays zero: one PADDING frame up to MIN_INITIAL_SIZE, so the
  // server may answer with up to three times as much (anti-amplification).
  if (conn.initialSentAt < 0) conn.initialSentAt = now;
  countSent(conn, null, size);
  return { data: buf, local: target.local, remote: target.remote };
}

export function sendHandshakeResponse(conn: Connection, now: number): Transmit | null {
  const path = conn.pathsById.get(0);
  const proof = conn.handshakeProof;
  if (path === undefined || proof === null || conn.handshake === null) {
    conn.handshakeResponsePending = false;
    return null;
  }
  const hello = conn.handshake.hello;
  const { identity, finished } = proof;
  const header: PacketHeader = { type: PacketType.Handshake, dcid: conn.remoteCid, pathId: 0, packetNumber: 0, keyPhase: false };
  const size = headerLength(header) + frameLength(hello) + frameLength(identity) + frameLength(finished);
  if (size > path.amplificationRoom) {
    countDrop(conn.drops, 'amplification-limit');
    conn.handshakeResponsePending = false;
    return null;
  }
  const buf = new Uint8Array(size);
  let pos = encodeHeader(header, buf, 0);
  pos = encodeFrame(hello, buf, pos);
  pos = encodeFrame(identity, buf, pos);
  encodeFrame(finished, buf, pos);
  conn.handshakeResponsePending = false;
  if (conn.handshakeSentAt < 0) conn.handshakeSentAt = now;
  path.unvalidatedBytesSent += size;
  countSent(conn, path, size);
  return { data: buf, local: path.local, remote: path.remote };
}

// ---- closing ----

export function sendClose(conn: Connection): Transmit | null {
  const path = conn.closeQueue.shift();
  if (path === undefined || conn.closeFrame === null) return null;
  if (conn.protection === null) return null;
  const frame: Frame = { type: 'close', errorCode: conn.closeFrame.errorCode, reason: conn.closeFrame.reason };
  const buf = sealedPacket(conn, path, [frame], Infinity)!;
  countSent(conn, path, buf.length);
  // RFC 9000 §10.2: "The closing and draining states SHOULD persist for at
  // least three times the current PTO interval": counted from the CLOSE
  // actually sent, however late the io loop got to it.
  if (conn.closeQueue.length === 0) conn.drainUntil = Math.max(conn.drainUntil, conn.now + 3 * bestPto(conn));
  return { data: buf, local: path.local, remote: path.remote };
}

