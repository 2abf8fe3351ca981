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
import { sameAddress } from './connection.js';
import { joinMac, macEqual, responseMac, addAddressMac, removeAddressMac } from './crypto/macs.js';
import { CloseCode, TransportError, closeCodeForPeer } from './errors.js';
import { verifyFinished, type HelloFrame } from './handshake.js';
import type { PathState } from './path/path-state.js';
import { advertiseAll, openMeshPaths } from './pm/path-manager.js';
import { onAckFrame, recoverPath, abandonPath } from './recovery.js';
import { countDrop } from './stats.js';
import type { SocketAddress } from './types.js';

/** Most challenges from the peer we queue answers for, per path. */
const MAX_PENDING_RESPONSES = 4;

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

/** Decoded byte fields are views into the datagram: keep copies of what outlives it. */
function copyHello(hello: HelloFrame): HelloFrame {
  return {
    ...hello,
    cid: hello.cid.slice(),
    publicKey: hello.publicKey.slice(),
    nonce: hello.nonce.slice(),
    cookie: hello.cookie.slice(),
    params: { ...hello.params },
  };
}

function findFrame<T extends Frame['type']>(frames: Frame[], type: T): Extract<Frame, { type: T }> | undefined {
  return frames.find((f) => f.type === type) as Extract<Frame, { type: T }> | undefined;
}

/** Server: the client's first flight. Creates path 0 and answers with HELLO + FINISHED. */
function handleInitial(
  conn: Connection,
  frames: Frame[],
  local: SocketAddress,
  remote: SocketAddress,
  size: number,
  now: number,
): void {
  if (conn.role !== 'server') {
    countDrop(conn.drops, 'unexpected-initial');
    return;
  }
  const hello = findFrame(frames, 'hello');
  if (hello === undefined) {
    countDrop(conn.drops, 'initial-without-hello');
    return;
  }
  if (conn.peerHello !== null) {
    // A retransmitted Initial: our Handshake packet was lost. Answer again
    // on path 0 if it came the same way (anti-amplification still holds).
    const path0 = conn.pathsById.get(0);
    if (path0 !== undefined && sameAddress(path0.remote, remote) && sameAddress(path0.local, local)) {
      path0.unvalidatedBytesReceived += size;
      conn.handshakeResponsePending = true;
    } else {
      countDrop(conn.drops, 'initial-duplicate');
    }
    return;
  }
  const keys = conn.handshake.derive(hello, false);
  if (keys === null) {
    countDrop(conn.drops, 'bad-key');
    return;
  }
  conn.peerHello = copyHello(hello);
  conn.keys = keys;
  conn.remoteCid = hello.cid.slice();
  conn.sendWindow.update(hello.params.initialMaxData);
  const path0 = conn.newPath(0, local, remote, now);
  path0.amplificationLimited = true;
  path0.unvalidatedBytesReceived = size;
  path0.setState('active', now);
  conn.addPath(path0);
  conn.handshakeResponsePending = true;
  conn.state = 'established';
  conn.lastActivity = now;
  conn.emit({ type: 'connected' });
}

/** Client: the server's HELLO + FINISHED. The path it came on becomes path 0. */
function handleHandshake(conn: Connection, frames: Frame[], local: SocketAddress, remote: SocketAddress, now: number): void {
  if (conn.role !== 'client' || conn.state !== 'handshake') {
    countDrop(conn.drops, conn.role === 'client' ? 'handshake-duplicate' : 'unexpected-handshake');
    return;
  }
  const hello = findFrame(frames, 'hello');
  const finished = findFrame(frames, 'finished');
  if (hello === undefined || finished === undefined) {
    countDrop(conn.drops, 'handshake-incomplete');
    return;
  }
  const keys = conn.handshake.derive(hello, true);
  const ourHello: HelloFrame = { ...conn.handshake.hello, cookie: conn.cookie };
  if (keys === null || !verifyFinished(keys, ourHello, hello, finished.mac)) {
    countDrop(conn.drops, 'bad-finished');
    return;
  }
  conn.peerHello = copyHello(hello);
  conn.keys = keys;
  conn.remoteCid = hello.cid.slice();
  conn.sendWindow.update(hello.params.initialMaxData);
  const path0 = conn.newPath(0, local, remote, now);
  path0.validated = true;
  path0.setState('active', now);
  // The handshake's round trip is path 0's first RTT sample.
  path0.rtt.update(Math.max(now - conn.initialSentAt, 0.01), 0, 0);
  path0.ackImmediately = true;
  conn.addPath(path0);
  conn.onPathValidated(path0);
  conn.state = 'established';
  conn.initialQueue = [];
  conn.initialNextAt = Infinity;
  conn.lastActivity = now;
  conn.emit({ type: 'connected' });
  conn.emit({ type: 'path-up', path: path0.info() });
  // Confirm the handshake to the server at once (it validates path 0).
  path0.probesPending = 1;
  openMeshPaths(conn, now);
}

/** Client: a stateless retry; repeat the Initial with the cookie. */
function handleRetry(conn: Connection, frames: Frame[]): void {
  const retry = findFrame(frames, 'retry');
  if (conn.role !== 'client' || conn.state !== 'handshake' || retry === undefined || conn.cookie.length > 0) {
    countDrop(conn.drops, 'unexpected-retry');
    return;
  }
  conn.cookie = retry.cookie;
  conn.initialQueue = [...conn.firstContact];
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
  conn.lastActivity = now;
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

/** Most probe rounds for one candidate address pair. */
const MIGRATION_ATTEMPTS = 5;

/**
 * A packet for a known path from another address pair: NAT rebinding, the
 * peer moving the path, or a forgery. Nothing in it counts but path
 * validation frames; the new pair is challenged, and the path moves there
 * only when a MACed PATH_RESPONSE comes back from it.
 */
function onOtherAddress(
  conn: Connection,
  path: PathState,
  frames: Frame[],
  local: SocketAddress,
  remote: SocketAddress,
  size: number,
  now: number,
): void {
  let m = path.migration;
  if (m === null || !sameAddress(m.local, local) || !sameAddress(m.remote, remote)) {
    if (m !== null && m.attempts < MIGRATION_ATTEMPTS && now < m.sentAt + 1000) {
      // One candidate at a time: a flood of spoofed addresses cannot churn it.
      countDrop(conn.drops, 'address-mismatch');
      return;
    }
    m = { local: { ...local }, remote: { ...remote }, challenge: conn.random(8), sentAt: -Infinity, attempts: 0, responses: [], bytesReceived: 0, bytesSent: 0 };
    path.migration = m;
  }
  m.bytesReceived += size;
  let counted = false;
  for (const f of frames) {
    if (f.type === 'path_challenge' && f.pathId === path.id) {
      if (m.responses.length < MAX_PENDING_RESPONSES) m.responses.push(f.data.slice());
    } else if (f.type === 'path_response' && f.pathId === path.id) {
      if (!macEqual(f.data, m.challenge)) continue;
      if (!macEqual(responseMac(conn.keys!.authKey, peerRole(conn), path.id, f.data), f.mac)) {
        countDrop(conn.drops, 'bad-response-mac');
        continue;
      }
      completeMigration(conn, path, m, now);
      return;
    } else if (f.type !== 'padding' && !counted) {
      counted = true;
      countDrop(conn.drops, 'address-mismatch');
    }
  }
}

/** The new address pair answered our challenge with the keys: the path moves there. */
function completeMigration(conn: Connection, path: PathState, m: NonNullable<PathState['migration']>, now: number): void {
  const addressChanged = m.remote.address !== path.remote.address || m.local.address !== path.local.address;
  path.local = m.local;
  path.remote = m.remote;
  path.migration = null;
  conn.counters.migrations++;
  // RFC 9000 §9.4: a new address means a new network path; only a port
  // change (NAT rebinding) keeps the congestion state.
  if (addressChanged) {
    path.cc.reset();
    path.rtt.reset();
  }
  path.lastReceivedAt = now;
  if (path.state === 'failed' || path.state === 'suspect') recoverPath(conn, path, now);
  conn.emit({ type: 'path-up', path: path.info() });
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

function peerRole(conn: Connection): 'client' | 'server' {
  return conn.role === 'client' ? 'server' : 'client';
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
    path.rtt.update(Math.max(now - path.challengeSentAt, 0.01), 0, 0);
    path.setState('active', now);
    // One quick probe: a second RTT sample right away, so a slow first
    // exchange does not keep the scheduler off this path for long.
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

