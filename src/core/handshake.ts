/**
 * The one-round-trip handshake: the client's Initial carries HELLO (its CID,
 * an ephemeral X25519 key, a nonce, its transport parameters); the server's
 * Handshake packet carries its own HELLO and FINISHED, an HMAC over both
 * HELLOs under a key only the two ends can derive. Keys come from HKDF over
 * the X25519 shared secret salted with both nonces.
 */
import { encodeFrame, frameLength } from '../wire/frames.js';
import type { Frame, TransportParams } from '../wire/types.js';
import { deriveKeys, ephemeralKey, sharedSecret, type ConnectionKeys, type EphemeralKey } from './crypto/keys.js';
import { finishedMac, macEqual } from './crypto/macs.js';
import type { ConnectionOptions } from './options.js';
import type { RandomSource } from './types.js';

/** Protocol version carried in HELLO. */
export const PROTOCOL_VERSION = 1;

export type HelloFrame = Extract<Frame, { type: 'hello' }>;

/** Our half of the handshake: key, nonce and the HELLO we send. */
export class HandshakeSide {
  /** Our ephemeral X25519 key. */
  readonly key: EphemeralKey;
  /** Our HELLO, kept for the transcript and for retransmission. */
  hello: HelloFrame;

  constructor(random: RandomSource, cid: Uint8Array, options: ConnectionOptions) {
    this.key = ephemeralKey(random(32));
    this.hello = {
      type: 'hello',
      version: PROTOCOL_VERSION,
      cid,
      publicKey: this.key.publicKey,
      nonce: random(16),
      params: transportParams(options),
      cookie: new Uint8Array(0),
    };
  }

  /** Keys from the peer's HELLO, or null if its key is unusable. */
  derive(peer: HelloFrame, weAreClient: boolean): ConnectionKeys | null {
    const secret = sharedSecret(this.key, peer.publicKey);
    if (secret === null) return null;
    const clientNonce = weAreClient ? this.hello.nonce : peer.nonce;
    const serverNonce = weAreClient ? peer.nonce : this.hello.nonce;
    return deriveKeys(secret, clientNonce, serverNonce);
  }
}

/** The transport parameters we announce. */
export function transportParams(options: ConnectionOptions): TransportParams {
  return {
    initialMaxData: options.receiveWindow,
    maxPaths: options.maxPaths,
    idleTimeoutMs: options.idleTimeout,
    maxDatagramSize: options.maxDatagramSize,
  };
}

function encoded(frame: Frame): Uint8Array {
  const out = new Uint8Array(frameLength(frame));
  encodeFrame(frame, out, 0);
  return out;
}

/**
 * FINISHED's MAC: over the client's and the server's HELLO as encoded, with
 * the cookie left out of the client's (it may differ between attempts).
 */
export function handshakeMac(keys: ConnectionKeys, clientHello: HelloFrame, serverHello: HelloFrame): Uint8Array {
  return finishedMac(keys.finishedKey, [
    encoded({ ...clientHello, cookie: new Uint8Array(0) }),
    encoded(serverHello),
  ]);
}

/** Checks the server's FINISHED. */
export function verifyFinished(
  keys: ConnectionKeys,
  clientHello: HelloFrame,
  serverHello: HelloFrame,
  mac: Uint8Array,
): boolean {
  return macEqual(handshakeMac(keys, clientHello, serverHello), mac);
}
