/**
 * The handshake's packets as received: the server's view of the client's
 * Initial (keys, path 0, the answer queued) and the client's view of the
 * server's Handshake (FINISHED checked, path 0 chosen) and of a Retry.
 */
import type { Frame } from '../wire/types.js';
import type { Connection } from './connection.js';
import { sameAddress } from './connection.js';
import { verifyFinished, type HelloFrame } from './handshake.js';
import { openMeshPaths } from './pm/path-manager.js';
import { handleRefusal } from './refusal.js';
import { countDrop } from './stats.js';
import type { SocketAddress } from './types.js';

/** Decoded byte fields are views into the datagram: keep copies of what outlives it. */
export function copyHello(hello: HelloFrame): HelloFrame {
  return {
    ...hello,
    cid: hello.cid.slice(),
    publicKey: hello.publicKey.slice(),
    nonce: hello.nonce.slice(),
    cookie: hello.cookie.slice(),
    params: { ...hello.params },
  };
}

export function findFrame<T extends Frame['type']>(frames: Frame[], type: T): Extract<Frame, { type: T }> | undefined {
  return frames.find((f) => f.type === type) as Extract<Frame, { type: T }> | undefined;
}

/** Server: the client's first flight. Creates path 0 and answers with HELLO + FINISHED. */
export function handleInitial(
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
  conn.onPeerAlive(now);
  conn.emit({ type: 'connected' });
}

/** Client: the server's HELLO + FINISHED. The path it came on becomes path 0. */
export function handleHandshake(conn: Connection, frames: Frame[], local: SocketAddress, remote: SocketAddress, now: number): void {
  if (conn.role !== 'client' || conn.state !== 'handshake') {
    countDrop(conn.drops, conn.role === 'client' ? 'handshake-duplicate' : 'unexpected-handshake');
    return;
  }
  const hello = findFrame(frames, 'hello');
  const finished = findFrame(frames, 'finished');
  const close = findFrame(frames, 'close');
  if (hello === undefined && close !== undefined) {
    handleRefusal(conn, close, local, remote);
    return;
  }
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
  conn.onPeerAlive(now);
  conn.emit({ type: 'connected' });
  conn.emit({ type: 'path-up', path: path0.info() });
  // Confirm the handshake to the server at once (it validates path 0).
  path0.probesPending = 1;
  openMeshPaths(conn, now);
}

/** Client: a stateless retry; repeat the Initial with the cookie. */
export function handleRetry(conn: Connection, frames: Frame[]): void {
  const retry = findFrame(frames, 'retry');
  if (conn.role !== 'client' || conn.state !== 'handshake' || retry === undefined || conn.cookie.length > 0) {
    countDrop(conn.drops, 'unexpected-retry');
    return;
  }
  conn.cookie = retry.cookie;
  conn.initialQueue = [...conn.firstContact];
}

