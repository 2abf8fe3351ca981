/**
 * Incoming datagrams: header dispatch, the handshake packets, and the frames
 * of Short packets. Every refusal is counted in `drops` by reason.
 */
import { aeadLimitReached } from './aead-limit.js';
import { Reader } from '../wire/varint.js';
import { decodeHeader, readShortHeader } from '../wire/header.js';
import { isAckElicitingFrame } from '../wire/frames.js';
import { decodeFrame } from '../wire/frame-decode.js';
import { Scan, readFrameInPlace, scanFrames } from '../wire/frame-reader.js';
import { WireError } from '../wire/errors.js';
import { PacketType, type Frame, type PacketHeader } from '../wire/types.js';
import { MAX_PATH_ID } from './crypto/aead.js';
import { INTEGRITY_LIMIT } from './crypto/key-phases.js';
import { TAG16 } from './crypto/tokens.js';
import { AssemblerError } from './data/assembler.js';
import type { Connection } from './connection.js';
import { sameAddress } from './address.js';
import { macEqual } from './crypto/macs.js';
import { onAddAddress, onRemoveAddress } from './pm/peer-addresses.js';
import { CloseCode, TransportError, closeCodeForPeer } from './errors.js';
import { findFrame, handleHandshake, handleInitial, handleRetry } from './receive-handshake.js';
import { MAX_PENDING_RESPONSES, onOtherAddress } from './migration.js';
import type { PathState } from './path/path-state.js';
import { advertiseAll } from './pm/path-manager.js';
import { onServerAdvertised, retireFirstContact } from './pm/first-contact.js';
import { onPacketOnPath } from './liveness.js';
import { onAckFrame, recoverPath, abandonPath } from './recovery.js';
import { countDrop } from './stats.js';
import type { ConnectionEvent, SocketAddress } from './types.js';
import { bestPto, protocolViolation, startDraining } from './close.js';
import { onPathValidated } from './pm/local-addresses.js';


/** The one 'readable' event every connection emits (events are never written to). */
const READABLE: ConnectionEvent = Object.freeze({ type: 'readable' });

/**
 * The readers of the datagram and of its frames in the clear, reset for
 * each datagram (handleDatagram is not re-entered, and nothing keeps a
 * reader: what a frame holds is a view of the bytes, not of the reader).
 */
const DATAGRAM_READER = new Reader(new Uint8Array(0));
const FRAME_READER = new Reader(new Uint8Array(0));

/** The Short header being handled (handleDatagram is not re-entered; nothing keeps it). */
const SHORT_HEADER: PacketHeader = { type: PacketType.Short, dcid: new Uint8Array(0), pathId: 0, packetNumber: 0, keyPhase: false };

export function handleDatagram(
  conn: Connection,
  data: Uint8Array,
  local: SocketAddress,
  remote: SocketAddress,
  now: number,
): void {
  const reader = DATAGRAM_READER.reset(data);
  let header: PacketHeader;
  try {
    header = readShortHeader(reader, SHORT_HEADER) ?? decodeHeader(reader);
  } catch (err) {
    if (err instanceof WireError) {
      countDrop(conn.drops, 'decode');
      return;
    }
    throw err;
  }
  if (conn.state === 'draining') {
    countDrop(conn.drops, 'draining');
    return;
  }
  if (header.type !== PacketType.Short) {
    handleHandshakePacket(conn, header, data, reader, local, remote, now);
    return;
  }
  const protection = conn.protection;
  if (protection === null) {
    countDrop(conn.drops, 'before-handshake');
    return;
  }
  if (header.pathId >= MAX_PATH_ID) {
    // No nonce exists for it (crypto/aead.ts): it cannot be ours.
    countDrop(conn.drops, 'auth-failed');
    return;
  }
  // Authenticate before anything else: a packet that does not open leaves
  // no trace but this counter (no packet number recorded, no timer moved,
  // no address noted).
  const plain = protection.open(data, reader.pos, header.keyPhase, header.pathId, header.packetNumber, now, bestPto(conn));
  if (plain === null) {
    countDrop(conn.drops, 'auth-failed');
    // "If the total number of received packets that fail authentication
    // within the connection, across all keys, exceeds the integrity limit
    // for the selected AEAD, the endpoint MUST immediately close the
    // connection" (RFC 9001 §6.6).
    if (protection.authFailures > INTEGRITY_LIMIT[protection.cipher]) aeadLimitReached(conn);
    return;
  }
  if (conn.state === 'closing') {
    answerWhileClosing(conn, header.pathId);
    return;
  }
  // Two passes (wire/frame-reader.ts): a scan validates the frames and says
  // what kinds the packet holds; a packet of the bulk path's frames alone,
  // on a path in its usual state, is then handled frame by frame in place.
  const r = FRAME_READER.reset(plain);
  let frames: Frame[];
  try {
    const kinds = scanFrames(r);
    if (plain.length === 0) {
      protocolViolation(conn, TransportError.PROTOCOL_VIOLATION, 'packet without frames');
      return;
    }
    if ((kinds & Scan.Other) === 0 && handleShortInPlace(conn, header, r, kinds, local, remote, data.length, now)) return;
    frames = [];
    r.pos = 0;
    while (r.remaining > 0) frames.push(decodeFrame(r));
  } catch (err) {
    if (!(err instanceof WireError)) throw err;
    // The peer itself sent it (it authenticated): RFC 9000 §12.4 makes a
    // badly encoded frame a connection error.
    protocolViolation(conn, TransportError.PROTOCOL_VIOLATION, `bad frame: ${err.code}`);
    return;
  }
  handleShort(conn, header, frames, local, remote, data.length, now);
}

/**
 * The bulk path's packets (PADDING, PING, ACK, DATA_ACK, DATA only, already
 * validated by the scan) on an existing, validated path from its own
 * addresses, once the handshake is confirmed: what handleShort does for
 * them, without a frames array. False, having changed nothing, for any
 * other packet: handleShort takes it.
 */
function handleShortInPlace(
  conn: Connection,
  header: PacketHeader,
  r: Reader,
  kinds: number,
  local: SocketAddress,
  remote: SocketAddress,
  size: number,
  now: number,
): boolean {
  if (conn.role === 'server' && !conn.handshakeConfirmed) return false;
  const path = conn.pathsById.get(header.pathId);
  if (path === undefined || path.state === 'closed' || !path.validated) return false;
  if (!sameAddress(path.local, local) || !sameAddress(path.remote, remote)) return false;
  const ackEliciting = (kinds & Scan.AckEliciting) !== 0;
  if (!onPacketAccepted(conn, path, header.packetNumber, ackEliciting, size, now)) return true;
  r.pos = 0;
  while (r.remaining > 0) {
    // A frame that closed the connection ends the packet: nothing after it counts.
    if (conn.state !== 'established') return true;
    handleFrame(conn, path, readFrameInPlace(r)!, now);
  }
  onPacketOnPath(path, now);
  return true;
}

/**
 * A packet's number and size, once its path is known and it is to be read:
 * false (counted) for a duplicate, which is then not read.
 */
function onPacketAccepted(conn: Connection, path: PathState, packetNumber: number, ackEliciting: boolean, size: number, now: number): boolean {
  if (!path.received.onReceived(packetNumber, ackEliciting, now)) {
    countDrop(conn.drops, 'duplicate');
    return false;
  }
  path.counters.packetsReceived++;
  path.counters.bytesReceived += size;
  if (ackEliciting) path.noteArrival(now);
  conn.counters.packetsReceived++;
  conn.counters.bytesReceived += size;
  path.lastReceivedAt = now;
  conn.onPeerAlive(now);
  if (!path.validated) path.unvalidatedBytesReceived += size;
  return true;
}

/**
 * RFC 9000 §10.2.1: "An endpoint in the closing state sends a packet
 * containing a CONNECTION_CLOSE frame in response to any incoming packet
 * that it attributes to the connection", and "SHOULD limit the rate at
 * which it generates packets in the closing state". Nothing else in the
 * packet is acted on. We answer the 1st, 2nd, 4th, 8th... packet, at most
 * eight times.
 */
function answerWhileClosing(conn: Connection, pathId: number): void {
  countDrop(conn.drops, 'closing');
  const n = ++conn.packetsWhileClosing;
  const path = conn.pathsById.get(pathId);
  if ((n & (n - 1)) !== 0 || n > 128 || path === undefined || path.state === 'closed' || conn.closeQueue.includes(path)) return;
  conn.closeQueue.push(path);
}

/** Initial, Handshake and Retry: the handshake's packets, in the clear. */
function handleHandshakePacket(
  conn: Connection,
  header: PacketHeader,
  packet: Uint8Array,
  reader: Reader,
  local: SocketAddress,
  remote: SocketAddress,
  now: number,
): void {
  const size = packet.length;
  const frames: Frame[] = [];
  try {
    // A Retry ends with its integrity tag, which is no frame.
    const r = header.type === PacketType.Retry ? new Reader(packet, reader.pos, Math.max(reader.pos, packet.length - TAG16)) : reader;
    while (r.remaining > 0) frames.push(decodeFrame(r));
  } catch (err) {
    if (err instanceof WireError) {
      countDrop(conn.drops, 'decode');
      return;
    }
    throw err;
  }
  if (frames.length === 0) {
    countDrop(conn.drops, 'decode');
    return;
  }
  switch (header.type) {
    case PacketType.Initial:
      handleInitial(conn, frames, local, remote, size, now);
      return;
    case PacketType.Handshake:
      handleHandshake(conn, frames, local, remote, now);
      return;
    default:
      handleRetry(conn, packet, frames);
  }
}


function isAckEliciting(frames: Frame[]): boolean {
  for (const f of frames) if (isAckElicitingFrame(f.type)) return true;
  return false;
}

/** Everything after the handshake. */
function handleShort(
  conn: Connection,
  header: PacketHeader,
  frames: Frame[],
  local: SocketAddress,
  remote: SocketAddress,
  size: number,
  now: number,
): void {
  if (conn.role === 'server' && !conn.handshakeConfirmed && header.pathId !== 0) {
    // The client's JOIN of another path overtook its first packet on path 0
    // (a faster path, or reordering). It authenticated under keys derived
    // from our HELLO, which went only to path 0's address: it proves what
    // that first packet would, so it confirms the handshake on path 0 (path
    // 0's RTT sample waits for that packet). Dropping it cost the path a
    // JOIN retry: a second or more, as a new path's RTT is unknown.
    const path0 = conn.pathsById.get(0);
    if (path0 === undefined) {
      countDrop(conn.drops, 'before-confirmation');
      conn.protection?.forgetPath(header.pathId);
      return;
    }
    conn.counters.confirmedByJoin++;
    confirmHandshake(conn, path0, now);
  }
  let path = conn.pathsById.get(header.pathId);
  if (path === undefined) {
    const joined = acceptJoin(conn, header.pathId, frames, local, remote, now);
    if (joined === null) {
      // The packet opened, so the keys noted its path ID: a path that does
      // not exist keeps nothing (else a peer could grow that map with every
      // path ID it never joins).
      conn.protection?.forgetPath(header.pathId);
      return;
    }
    path = joined;
  } else if (path.state === 'closed') {
    countDrop(conn.drops, 'closed-path');
    return;
  } else if (!sameAddress(path.local, local) || !sameAddress(path.remote, remote)) {
    onOtherAddress(conn, path, frames, local, remote, size, now);
    return;
  }
  // (The server's path 0 is validated by this very packet, below.)
  const confirmsHandshake = conn.role === 'server' && !conn.handshakeConfirmed && path.id === 0;
  if (!path.validated && !confirmsHandshake && findFrame(frames, 'data') !== undefined) {
    // DATA on a path we have not validated is refused; the packet must then
    // not be acknowledged either, or the sender counts its bytes as
    // delivered and never re-sends them (a hole that stalls the stream for
    // good; seen when the peer validated the path and our challenge's
    // answer was lost). A PATH_RESPONSE in the same packet may validate
    // the path first.
    for (const f of frames) if (f.type === 'path_response') onPathResponse(conn, path, f, now);
    if (!path.validated) {
      countDrop(conn.drops, 'data-on-unvalidated-path');
      // The peer evidently reaches us here: repeat our challenge now.
      onPacketOnPath(path, now);
      return;
    }
    frames = frames.filter((f) => f.type !== 'path_response');
  }
  const firstOnPath0 = conn.role === 'server' && path.id === 0 && path.received.largest === null;
  if (!onPacketAccepted(conn, path, header.packetNumber, isAckEliciting(frames), size, now)) return;

  if (firstOnPath0 && conn.handshakeSentAt >= 0 && !path.rtt.hasSample) {
    // Handshake sent → the client's first packet on path 0: path 0's first
    // RTT sample (also when a JOIN on another path confirmed the handshake
    // first: without it a server that only ACKs an upload held path 0 at the
    // 333 ms initial RTT, and took over 5 s to find it dead).
    path.rtt.update(Math.max(now - conn.handshakeSentAt, 0.01), 0, 0);
  }
  if (conn.role === 'server' && !conn.handshakeConfirmed) confirmHandshake(conn, path, now);

  let advertised = false;
  for (const frame of frames) {
    // A frame that closed the connection ends the packet: nothing after it counts.
    if (conn.state !== 'established') return;
    handleFrame(conn, path, frame, now);
    if (frame.type === 'add_address') advertised = true;
  }
  // The server's advertisements decide its addresses once the packet is read (pm/first-contact.ts).
  if (advertised && conn.role === 'client') onServerAdvertised(conn, now);
  // After the frames: an ACK in this very packet may have revived the path.
  onPacketOnPath(path, now);
}

/**
 * Server: the client's first protected packet, on path 0 from the address
 * its Initial came from. "a server MAY consider the peer address validated
 * if the client uses a connection ID chosen by the server and the
 * connection ID contains at least 64 bits of entropy" (RFC 9000 §8.1), and
 * the packet authenticated under keys only the client could derive: the
 * handshake is complete and the address validated. Only now does the
 * application hear of the connection.
 */
function confirmHandshake(conn: Connection, path: PathState, now: number): void {
  conn.handshakeConfirmed = true;
  conn.handshakeResponsePending = false;
  path.markValidated();
  conn.pendingControl.push({ type: 'reset_token', token: conn.resetToken });
  conn.establish(now);
  conn.emit({ type: 'path-up', path: path.info() });
  advertiseAll(conn);
}

/**
 * Server: a packet on an unknown path ID. It must carry a PATH_JOIN for
 * that ID (the packet authenticated, so the client sent it), the ID must
 * never have been used (path-ids.ts), and the connection must have room
 * for one more path; then the path is created, unvalidated and limited to
 * three times the bytes received.
 */
function acceptJoin(
  conn: Connection,
  pathId: number,
  frames: Frame[],
  local: SocketAddress,
  remote: SocketAddress,
  now: number,
): PathState | null {
  const join = findFrame(frames, 'path_join');
  if (join === undefined || conn.role !== 'server' || join.pathId !== pathId) {
    countDrop(conn.drops, 'unknown-path');
    return null;
  }
  if (!conn.pathIds.isNew(pathId)) {
    countDrop(conn.drops, 'path-id-reused');
    return null;
  }
  // Every path counts, in any state: validating, failed, closing.
  if (conn.pathList.length >= conn.options.maxPaths) {
    countDrop(conn.drops, 'too-many-paths');
    return null;
  }
  const path = conn.newPath(pathId, local, remote, now);
  path.amplificationLimited = true;
  path.challenge = conn.random(8);
  conn.addPath(path);
  return path;
}

function handleFrame(conn: Connection, path: PathState, frame: Frame, now: number): void {
  switch (frame.type) {
    case 'padding':
    case 'ping':
      return;
    case 'ack':
      onAckFrame(conn, frame, now, path);
      return;
    case 'data':
      // Our ACKs of data may ask for an ACK in turn (PathState.ackElicitingAckDue).
      path.dataSinceRttPing = true;
      onData(conn, frame);
      return;
    case 'data_ack':
      if (frame.cumulative > 0) conn.sendBuffer.onAcked(0, frame.cumulative, false);
      if (conn.sendWindow.update(frame.maxData)) {
        /* new room: pollTransmit will use it */
      }
      conn.checkSendProgress();
      return;
    case 'path_join':
      // Repeated JOIN on a path that exists: nothing new.
      return;
    case 'path_challenge': {
      const target = conn.pathsById.get(frame.pathId);
      if (target === undefined || target !== path) {
        countDrop(conn.drops, 'challenge-wrong-path');
        return;
      }
      if (path.pendingResponses.length < MAX_PENDING_RESPONSES) path.pendingResponses.push(frame.data.slice());
      // Answered until a packet carrying the answer is acknowledged (liveness.ts, rule 5).
      path.peerChallenge = frame.data.slice();
      return;
    }
    case 'path_response':
      onPathResponse(conn, path, frame, now);
      return;
    case 'path_status': {
      const target = conn.pathsById.get(frame.pathId);
      if (target === undefined || frame.seq <= target.remoteStatusSeq) return;
      target.remoteStatusSeq = frame.seq;
      target.remoteBackup = frame.backup;
      return;
    }
    case 'path_abandon': {
      const target = conn.pathsById.get(frame.pathId);
      if (target !== undefined && target.state !== 'closed') abandonPath(conn, target, now, 'peer-abandoned');
      return;
    }
    case 'add_address':
      onAddAddress(conn, frame, now);
      return;
    case 'remove_address':
      onRemoveAddress(conn, frame, now);
      return;
    case 'close': {
      let code: string = closeCodeForPeer(frame.errorCode);
      let reason = frame.reason;
      const errorCode = frame.errorCode >= 0x100 ? frame.errorCode - 0x100 : frame.errorCode;
      const a = conn.assembler;
      if (frame.errorCode === TransportError.NO_ERROR && (a.finOffset === null || a.contiguousEnd < a.finOffset)) {
        // A graceful CLOSE says "I hold all your bytes and you hold all
        // mine": before the peer's FIN and every byte up to it arrived, that
        // is false, and taking it would end the stream early with a clean
        // EOF (silent truncation). It is an error.
        countDrop(conn.drops, 'close-before-fin');
        code = CloseCode.PROTOCOL_VIOLATION;
        reason = `the peer closed without error before its FIN (${a.contiguousEnd} bytes received${a.finOffset === null ? ', no FIN' : ` of ${a.finOffset}`})`;
      }
      startDraining(conn, { type: 'closed', code, errorCode, reason, remote: true });
      return;
    }
    case 'reset_token':
      conn.peerResetToken = frame.token.slice();
      return;
    case 'hello':
    case 'finished':
    case 'identity':
    case 'retry':
      countDrop(conn.drops, 'handshake-frame-in-short');
      return;
  }
}

function onData(conn: Connection, frame: Extract<Frame, { type: 'data' }>): void {
  // Only on a validated path: handleShort refuses (and does not
  // acknowledge) a packet with DATA on a path we have not validated.
  const end = frame.offset + frame.data.length;
  if (!conn.receiveWindow.checkLimit(end)) {
    protocolViolation(conn, TransportError.FLOW_CONTROL_ERROR, 'flow control limit exceeded');
    return;
  }
  const before = conn.assembler.contiguousEnd;
  let stored: number;
  try {
    stored = conn.assembler.insert(frame.offset, frame.data, frame.fin);
  } catch (err) {
    if (err instanceof AssemblerError) {
      if (err.code === 'DATA_TOO_FRAGMENTED') countDrop(conn.drops, 'reassembly-cap');
      protocolViolation(conn, TransportError.PROTOCOL_VIOLATION, err.message);
      return;
    }
    throw err;
  }
  conn.counters.dataBytesDuplicate += frame.data.length - stored;
  if (conn.assembler.contiguousEnd > before && !conn.readableSignalled) {
    conn.readableSignalled = true;
    conn.emit(READABLE);
  }
  if (frame.fin || conn.assembler.finOffset !== null) conn.checkEnd();
}

function onPathResponse(
  conn: Connection,
  path: PathState,
  frame: Extract<Frame, { type: 'path_response' }>,
  now: number,
): void {
  const target = conn.pathsById.get(frame.pathId);
  if (target !== path || path.challenge === null) {
    countDrop(conn.drops, 'unexpected-response');
    return;
  }
  if (!macEqual(frame.data, path.challenge)) {
    countDrop(conn.drops, 'stale-response');
    return;
  }
  // The packet authenticated: the peer holds the keys and saw our challenge.
  path.challenge = null;
  path.joinPending = false;
  if (!path.validated) {
    path.markValidated();
    // No RTT sample from the exchange: the challenge value is the same on
    // every retry and the peer repeats its answer until it is acknowledged
    // (liveness.ts, rule 5), so under flapping the answer may come seconds
    // after the challenge it is matched with, and one such sample held this
    // path's PTO and suspicion deadlines at seconds. One quick probe
    // instead: its ACK is the first sample, a round trip from now.
    path.setState('active', now);
    path.probesPending = 1;
    onPathValidated(conn, path);
    conn.emit({ type: 'path-up', path: path.info() });
    retireFirstContact(conn, now);
  } else if (path.state === 'failed' || path.state === 'suspect') {
    recoverPath(conn, path, now);
  }
}


