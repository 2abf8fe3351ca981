/**
 * The handshake's packets as received: the server's view of the client's
 * Initial (keys, path 0, the answer queued) and the client's view of the
 * server's Handshake (FINISHED checked, path 0 chosen) and of a Retry.
 */
import type { Frame } from '../wire/types.js';
import type { Connection } from './connection.js';
import { sameAddress } from './address.js';
import { cipherById } from './crypto/aead.js';
import { KeyPhases } from './crypto/key-phases.js';
import { fingerprint, keyFingerprint } from './crypto/keys.js';
import { macEqual } from './crypto/macs.js';
import { retryIntegrityTag, TAG16 } from './crypto/tokens.js';
import { CloseCode } from './errors.js';
import { clientSecrets, PROTOCOL_VERSION, serverSecrets } from './handshake.js';
import { openMeshPaths } from './pm/path-manager.js';
import { handleRefusal } from './refusal.js';
import { countDrop } from './stats.js';
import type { SocketAddress } from './types.js';
import { finishClose } from './close.js';
import { onPathValidated } from './pm/local-addresses.js';

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
  if (conn.helloReceived) {
    // A retransmitted Initial: our Handshake packet was lost. Answer again
    // on path 0 if it came the same way (anti-amplification still holds),
    // unless the client confirmed the handshake since (it has our answer,
    // and we kept nothing of it).
    const path0 = conn.pathsById.get(0);
    if (conn.handshake !== null && path0 !== undefined && sameAddress(path0.remote, remote) && sameAddress(path0.local, local)) {
      path0.unvalidatedBytesReceived += size;
      conn.handshakeResponsePending = true;
    } else {
      countDrop(conn.drops, 'initial-duplicate');
    }
    return;
  }
  const cipher = cipherById(hello.cipher);
  if (hello.version !== PROTOCOL_VERSION || cipher === null) {
    countDrop(conn.drops, 'bad-version');
    return;
  }
  // The server answers with the client's cipher.
  const side = conn.handshake!;
  side.hello.cipher = hello.cipher;
  const proof = serverSecrets(side, conn.staticKey!, hello);
  if (proof === null) {
    countDrop(conn.drops, 'bad-key');
    return;
  }
  const { secrets } = proof;
  conn.helloReceived = true;
  conn.protection = new KeyPhases(cipher, secrets.serverSecret, secrets.clientSecret, conn.options.keyUpdateInterval);
  conn.handshakeProof = { identity: proof.identity, finished: { type: 'finished', mac: proof.finished } };
  conn.peerFingerprint = keyFingerprint(conn.staticKey!);
  conn.remoteCid = hello.cid.slice();
  conn.sendWindow.update(hello.params.initialMaxData);
  const path0 = conn.newPath(0, local, remote, now);
  path0.amplificationLimited = true;
  path0.unvalidatedBytesReceived = size;
  path0.setState('active', now);
  conn.addPath(path0);
  conn.handshakeResponsePending = true;
  // Half-open until the client's first protected packet arrives on path 0
  // (receive.ts confirmHandshake): nothing is announced before that.
}

/** Client: the server's HELLO + FINISHED. The path it came on becomes path 0. */
export function handleHandshake(conn: Connection, frames: Frame[], local: SocketAddress, remote: SocketAddress, now: number): void {
  if (conn.role !== 'client' || conn.state !== 'handshake') {
    countDrop(conn.drops, conn.role === 'client' ? 'handshake-duplicate' : 'unexpected-handshake');
    return;
  }
  const hello = findFrame(frames, 'hello');
  const identity = findFrame(frames, 'identity');
  const finished = findFrame(frames, 'finished');
  const close = findFrame(frames, 'close');
  if (hello === undefined && close !== undefined) {
    handleRefusal(conn, close, local, remote);
    return;
  }
  if (hello === undefined || identity === undefined || finished === undefined) {
    countDrop(conn.drops, 'handshake-incomplete');
    return;
  }
  const side = conn.handshake!;
  const cipher = cipherById(hello.cipher);
  if (hello.version !== PROTOCOL_VERSION || cipher === null || hello.cipher !== side.hello.cipher) {
    countDrop(conn.drops, 'bad-version');
    return;
  }
  const secrets = clientSecrets(side, hello, identity, finished.mac);
  if (secrets === null) {
    countDrop(conn.drops, 'bad-finished');
    return;
  }
  // FINISHED verified: the sender holds the private half of `identity`.
  const serverFingerprint = fingerprint(identity.staticKey);
  if (conn.serverFingerprint !== null && serverFingerprint !== conn.serverFingerprint) {
    // A pinned client completes the handshake only with the key it was
    // given; whoever else answered gets nothing more (not even a CLOSE).
    countDrop(conn.drops, 'server-key-mismatch');
    finishClose(conn, {
      type: 'closed',
      code: CloseCode.SERVER_KEY_MISMATCH,
      errorCode: 0,
      reason: `the server proved key ${serverFingerprint}, not the pinned ${conn.serverFingerprint}`,
      remote: false,
    });
    return;
  }
  conn.peerFingerprint = serverFingerprint;
  conn.helloReceived = true;
  conn.protection = new KeyPhases(cipher, secrets.clientSecret, secrets.serverSecret, conn.options.keyUpdateInterval);
  conn.remoteCid = hello.cid.slice();
  conn.sendWindow.update(hello.params.initialMaxData);
  const path0 = conn.newPath(0, local, remote, now);
  path0.markValidated();
  path0.setState('active', now);
  // The handshake's round trip is path 0's first RTT sample.
  path0.rtt.update(Math.max(now - conn.initialSentAt, 0.01), 0, 0);
  // The server's first packet is acknowledged at once. Letting that ACK wait
  // for the upload's first data saved 0.9 datagrams per short connection, but
  // cost BBR 1.7-3.2 Mbit/s of 150 in the simulator's hetero-up cell on seeds 1-4
  // (docs/bench.md, "Issue 11: datagrams per handshake").
  path0.ackImmediately = true;
  conn.addPath(path0);
  onPathValidated(conn, path0);
  conn.initialQueue = [];
  conn.initialNextAt = Infinity;
  conn.pendingControl.push({ type: 'reset_token', token: conn.resetToken });
  conn.establish(now);
  conn.emit({ type: 'path-up', path: path0.info() });
  // Confirm the handshake to the server at once (it validates path 0).
  path0.probesPending = 1;
  openMeshPaths(conn, now);
}

/**
 * Client: a stateless Retry. Its last 16 bytes are the integrity tag over
 * our Initial's DCID and the rest of the Retry (crypto/tokens.ts); only
 * then is its cookie taken, and only once: the Initial is repeated with it.
 */
export function handleRetry(conn: Connection, packet: Uint8Array, frames: Frame[]): void {
  if (conn.role !== 'client' || conn.state !== 'handshake' || conn.cookie.length > 0) {
    countDrop(conn.drops, 'unexpected-retry');
    return;
  }
  const end = packet.length - TAG16;
  if (end < 0 || !macEqual(retryIntegrityTag(conn.initialDcid, packet.subarray(0, end)), packet.subarray(end))) {
    countDrop(conn.drops, 'bad-retry-tag');
    return;
  }
  const retry = findFrame(frames, 'retry');
  if (retry === undefined) {
    countDrop(conn.drops, 'unexpected-retry');
    return;
  }
  conn.cookie = retry.cookie.slice();
  conn.initialQueue = [...conn.firstContact];
}
