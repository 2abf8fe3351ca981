/**
 * The one-round-trip handshake.
 *
 *   client → server  Initial:   HELLO(version, cipher, CID, e_c, nonce, params, cookie)
 *   server → client  Handshake: HELLO(version, cipher, CID, e_s, nonce, params),
 *                               IDENTITY(s_s), FINISHED
 *
 * Both sides compute X25519(e_c, e_s) and X25519(e_c, s_s) (the server with
 * its halves) and feed them, salted with the transcript's hash, to HKDF
 * (crypto/key-schedule.ts). FINISHED proves the server derived the same
 * secrets, so it holds the private half of s_s; a client pinned to a key
 * (`serverKey`) compares s_s's fingerprint with its pin. The client's first
 * protected packet proves the same of the client, and confirms the
 * handshake on the server.
 */
import { encodeFrame, frameLength } from '../wire/frames.js';
import type { Frame, TransportParams } from '../wire/types.js';
import { CipherId, type CipherName } from './crypto/aead.js';
import { finishedMac, handshakeSecrets, type HandshakeSecrets } from './crypto/key-schedule.js';
import { x25519, x25519KeyPair, x25519LongTermKey, x25519PublicKey, x25519With, type X25519KeyPair } from './crypto/keys.js';
import { macEqual } from './crypto/macs.js';
import type { ConnectionOptions } from './options.js';
import type { RandomSource } from './types.js';

/** Protocol version carried in HELLO (2: every packet after the handshake is AEAD-protected). */
export const PROTOCOL_VERSION = 2;

export type HelloFrame = Extract<Frame, { type: 'hello' }>;
export type IdentityFrame = Extract<Frame, { type: 'identity' }>;

/** Our half of the handshake: ephemeral key, nonce and the HELLO we send. */
export class HandshakeSide {
  /** Our ephemeral X25519 key. */
  readonly key: X25519KeyPair;
  /** Our HELLO, kept for the transcript and for retransmission. */
  hello: HelloFrame;

  /** `key`: a fresh key pair made ahead of time (src/io/key-pool.ts), else one is made from `random`. */
  constructor(random: RandomSource, cid: Uint8Array, options: ConnectionOptions, cipher: CipherName, key: X25519KeyPair | null = null) {
    this.key = key ?? x25519KeyPair(random(32));
    this.hello = {
      type: 'hello',
      version: PROTOCOL_VERSION,
      cipher: CipherId[cipher],
      cid,
      publicKey: this.key.publicKey,
      nonce: random(16),
      params: transportParams(options),
      cookie: new Uint8Array(0),
    };
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
 * The transcript: the client's HELLO with the cookie left out (it may
 * differ between attempts), the server's HELLO and its IDENTITY.
 */
function transcript(clientHello: HelloFrame, serverHello: HelloFrame, identity: IdentityFrame): Uint8Array[] {
  return [encoded({ ...clientHello, cookie: new Uint8Array(0) }), encoded(serverHello), encoded(identity)];
}

/** Server: the secrets and FINISHED for the client's HELLO, or null if its key is unusable. */
export function serverSecrets(
  side: HandshakeSide,
  staticKey: X25519KeyPair,
  clientHello: HelloFrame,
): { secrets: HandshakeSecrets; identity: IdentityFrame; finished: Uint8Array } | null {
  const clientKey = x25519PublicKey(clientHello.publicKey);
  if (clientKey === null) return null;
  const dhEphemeral = x25519With(side.key.privateKey, clientKey);
  if (dhEphemeral === null) return null;
  const dhStatic = x25519With(staticKey.privateKey, clientKey);
  if (dhStatic === null) return null;
  const identity: IdentityFrame = { type: 'identity', staticKey: staticKey.publicKey };
  const secrets = handshakeSecrets(dhEphemeral, dhStatic, transcript(clientHello, side.hello, identity));
  return { secrets, identity, finished: finishedMac(secrets) };
}

/** Client: the secrets if the server's FINISHED verifies, else null. */
export function clientSecrets(
  side: HandshakeSide,
  serverHello: HelloFrame,
  identity: IdentityFrame,
  finished: Uint8Array,
): HandshakeSecrets | null {
  const dhEphemeral = x25519(side.key.privateKey, serverHello.publicKey);
  if (dhEphemeral === null) return null;
  const staticKey = x25519LongTermKey(identity.staticKey);
  const dhStatic = staticKey === null ? null : x25519With(side.key.privateKey, staticKey);
  if (dhStatic === null) return null;
  const secrets = handshakeSecrets(dhEphemeral, dhStatic, transcript(side.hello, serverHello, identity));
  return macEqual(finishedMac(secrets), finished) ? secrets : null;
}
