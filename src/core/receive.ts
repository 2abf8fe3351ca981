/**
 * Incoming datagrams: header dispatch, the handshake packets, and the frames
 * of Short packets. Every refusal is counted in `drops` by reason.
 */
import { Reader } from '../wire/varint.js';
import { decodeHeader } from '../wire/header.js';
import { decodeFrame } from '../wire/frames.js';
import { WireError } from '../wire/errors.js';
import { PacketType, type Frame, type PacketHeader } from '../wire/types.js';
import { AssemblerError } from './data/assembler.js';
import type { Connection } from './connection.js';
import { peerRole, sameAddress } from './connection.js';
import { joinMac, macEqual, responseMac, addAddressMac, removeAddressMac } from './crypto/macs.js';
import { CloseCode, TransportError, closeCodeForPeer } from './errors.js';
import { findFrame, handleHandshake, handleInitial, handleRetry } from './receive-handshake.js';
import { MAX_PENDING_RESPONSES, onOtherAddress } from './migration.js';
import type { PathState } from './path/path-state.js';
import { advertiseAll, openMeshPaths } from './pm/path-manager.js';
import { onPacketOnPath } from './liveness.js';
import { onAckFrame, recoverPath, abandonPath } from './recovery.js';
import { countDrop } from './stats.js';
import type { SocketAddress } from './types.js';


export function handleDatagram(
  conn: Connection,
  data: Uint8Array,
  local: SocketAddress,
  remote: SocketAddress,
  now: number,
): void {
  const reader = new Reader(data);
  let header: PacketHeader;
  let frames: Frame[];
  try {
    header = decodeHeader(reader);
    frames = [];
    while (reader.remaining > 0) frames.push(decodeFrame(reader));
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
  if (conn.state === 'draining') {
    countDrop(conn.drops, 'draining');
    return;
  }
  switch (header.type) {
    case PacketType.Initial:
      handleInitial(conn, frames, local, remote, data.length, now);
      return;
    case PacketType.Handshake:
      handleHandshake(conn, frames, local, remote, now);
      return;
    case PacketType.Retry:
      handleRetry(conn, frames);
      return;
    default:
      handleShort(conn, header, frames, local, remote, data.length, now);
  }
}

function isAckEliciting(frames: Frame[]): boolean {
  for (const f of frames) {
    if (f.type !== 'ack' && f.type !== 'padding' && f.type !== 'data_ack' && f.type !== 'close') return true;
  }
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
  if (conn.keys === null) {
    countDrop(conn.drops, 'before-handshake');
    return;
  }
  let path = conn.pathsById.get(header.pathId);
  if (path === undefined) {
    const joined = acceptJoin(conn, header.pathId, frames, local, remote, now);
    if (joined === null) return;
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
  const ackEliciting = isAckEliciting(frames);
  if (!path.received.onReceived(header.packetNumber, ackEliciting, now)) {
    countDrop(conn.drops, 'duplicate');
    return;
  }
  path.counters.packetsReceived++;
  path.counters.bytesReceived += size;
  if (ackEliciting) path.noteArrival(now);
  conn.counters.packetsReceived++;
  conn.counters.bytesReceived += size;
  path.lastReceivedAt = now;
  conn.onPeerAlive(now);
  if (!path.validated) path.unvalidatedBytesReceived += size;

  if (conn.role === 'server' && !conn.handshakeConfirmed && path.id === 0) {
    // RFC 9000 §8.1: a packet protected with keys only the client could
    // derive validates the client's address.
    conn.handshakeConfirmed = true;
    conn.handshakeResponsePending = false;
    path.validated = true;
    // Handshake sent → first Short packet back: path 0's first RTT sample.
    if (conn.handshakeSentAt >= 0 && !path.rtt.hasSample) path.rtt.update(Math.max(now - conn.handshakeSentAt, 0.01), 0, 0);
    conn.emit({ type: 'path-up', path: path.info() });
    advertiseAll(conn);
  }

  for (const frame of frames) {
    if (conn.state === 'closed' || conn.state === 'draining') return;
    handleFrame(conn, path, frame, now);
  }
  // After the frames: an ACK in this very packet may have revived the path.
  onPacketOnPath(path, now);
}

/**
 * Server: a packet on an unknown path ID. It must carry a PATH_JOIN whose
 * HMAC proves the sender holds the connection's keys; then the path is
 * created, unvalidated and limited to three times the bytes received.
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
  if (!macEqual(joinMac(conn.keys!.authKey, 'client', pathId, join.nonce), join.mac)) {
    countDrop(conn.drops, 'bad-join-mac');
    return null;
  }
  const live = conn.pathList.filter((p) => p.state !== 'closed').length;
  if (live >= conn.options.maxPaths) {
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
      onAckFrame(conn, frame, now);
      return;
    case 'data':
      onData(conn, path, frame);
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
    case 'remove_address': {
      if (!macEqual(removeAddressMac(conn.keys!.authKey, peerRole(conn), frame.addressId), frame.mac)) {
        countDrop(conn.drops, 'bad-address-mac');
        return;
      }
      const addr = conn.advertisedByPeer.get(frame.addressId);
      if (addr === undefined) return;
      conn.advertisedByPeer.delete(frame.addressId);
      const i = conn.remoteAddresses.findIndex((a) => sameAddress(a, addr));
      if (i >= 0) conn.remoteAddresses.splice(i, 1);
      for (const p of conn.pathList) {
        if (p.state !== 'closed' && sameAddress(p.remote, addr)) abandonPath(conn, p, now, 'address-removed');
      }
      return;
    }
    case 'close': {
      const code = closeCodeForPeer(frame.errorCode);
      const errorCode = frame.errorCode >= 0x100 ? frame.errorCode - 0x100 : frame.errorCode;
      conn.startDraining({ type: 'closed', code, errorCode, reason: frame.reason, remote: true });
      return;
    }
    case 'hello':
    case 'finished':
    case 'retry':
      countDrop(conn.drops, 'handshake-frame-in-short');
      return;
  }
}

function onData(conn: Connection, path: PathState, frame: Extract<Frame, { type: 'data' }>): void {
  // "A packet from an address that is not a validated path is never taken as data."
  if (!path.validated) {
    countDrop(conn.drops, 'data-on-unvalidated-path');
    return;
  }
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
      protocolViolation(conn, TransportError.PROTOCOL_VIOLATION, err.message);
      return;
    }
    throw err;
  }
  conn.counters.dataBytesDuplicate += frame.data.length - stored;
  if (conn.assembler.contiguousEnd > before && !conn.readableSignalled) {
    conn.readableSignalled = true;
    conn.emit({ type: 'readable' });
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
  if (!macEqual(responseMac(conn.keys!.authKey, peerRole(conn), path.id, frame.data), frame.mac)) {
    countDrop(conn.drops, 'bad-response-mac');
    return;
  }
  path.challenge = null;
  path.joinNonce = null;
  if (!path.validated) {
    path.validated = true;
    // No RTT sample from the exchange: the challenge value is the same on
    // every retry and the peer repeats its answer until it is acknowledged
    // (liveness.ts, rule 5), so under flapping the answer may come seconds
    // after the challenge it is matched with, and one such sample held this
    // path's PTO and suspicion deadlines at seconds. One quick probe
    // instead: its ACK is the first sample, a round trip from now.
    path.setState('active', now);
    path.probesPending = 1;
    conn.onPathValidated(path);
    conn.emit({ type: 'path-up', path: path.info() });
  } else if (path.state === 'failed' || path.state === 'suspect') {
    recoverPath(conn, path, now);
  }
}

function onAddAddress(conn: Connection, frame: Extract<Frame, { type: 'add_address' }>, now: number): void {
  const expected = addAddressMac(conn.keys!.authKey, peerRole(conn), frame.addressId, frame.address, frame.port, frame.backup);
  if (!macEqual(expected, frame.mac)) {
    countDrop(conn.drops, 'bad-address-mac');
    return;
  }
  if (conn.advertisedByPeer.has(frame.addressId)) return;
  const addr = { address: frame.address, port: frame.port };
  conn.advertisedByPeer.set(frame.addressId, addr);
  if (!conn.remoteAddresses.some((a) => sameAddress(a, addr))) conn.remoteAddresses.push(addr);
  if (conn.role === 'client') openMeshPaths(conn, now);
}

function protocolViolation(conn: Connection, wireCode: number, reason: string): void {
  countDrop(conn.drops, 'protocol-violation');
  conn.startClosing(wireCode, reason, {
    type: 'closed',
    code: CloseCode.PROTOCOL_VIOLATION,
    errorCode: wireCode,
    reason,
    remote: false,
  });
}

