/**
 * Handshake keys: ephemeral X25519 from injected random bytes, HKDF into the
 * connection's keys. Only node:crypto's pure functions are used, so the core
 * stays deterministic under a seeded random source.
 */
import { createPrivateKey, createPublicKey, diffieHellman, hkdfSync, type KeyObject } from 'node:crypto';

/** DER prefix of a PKCS#8 X25519 private key (RFC 8410); the 32 raw bytes follow. */
const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
/** DER prefix of an SPKI X25519 public key (RFC 8410); the 32 raw bytes follow. */
const SPKI_X25519_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

export interface EphemeralKey {
  /** Private key object for the Diffie-Hellman step. */
  privateKey: KeyObject;
  /** Raw 32-byte public key, as sent in HELLO. */
  publicKey: Uint8Array;
}

/** Builds an X25519 key pair from 32 random bytes. */
export function ephemeralKey(secret: Uint8Array): EphemeralKey {
  if (secret.length !== 32) throw new RangeError('X25519 secret must be 32 bytes');
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_X25519_PREFIX, secret]),
    format: 'der',
    type: 'pkcs8',
  });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return { privateKey, publicKey: new Uint8Array(spki.subarray(spki.length - 32)) };
}

/**
 * X25519 shared secret with the peer's raw public key, or null if the peer's
 * key is malformed or of low order (an all-zero shared secret, RFC 7748 §6.1).
 */
export function sharedSecret(own: EphemeralKey, peerPublicKey: Uint8Array): Uint8Array | null {
  if (peerPublicKey.length !== 32) return null;
  try {
    const publicKey = createPublicKey({
      key: Buffer.concat([SPKI_X25519_PREFIX, peerPublicKey]),
      format: 'der',
      type: 'spki',
    });
    const secret = diffieHellman({ privateKey: own.privateKey, publicKey });
    if (secret.every((b) => b === 0)) return null;
    return new Uint8Array(secret);
  } catch {
    return null;
  }
}

/** The keys a connection derives from its handshake. */
export interface ConnectionKeys {
  /** Authenticates joins, path responses and address adverts (HMAC-SHA256). */
  authKey: Uint8Array;
  /** Authenticates the server's FINISHED over the handshake transcript. */
  finishedKey: Uint8Array;
}

const KEY_INFO = Buffer.from('mpudp v1 connection keys');

/** HKDF-SHA256 (RFC 5869) from the shared secret, salted with both nonces. */
export function deriveKeys(secret: Uint8Array, clientNonce: Uint8Array, serverNonce: Uint8Array): ConnectionKeys {
  const salt = Buffer.concat([clientNonce, serverNonce]);
  const okm = new Uint8Array(hkdfSync('sha256', secret, salt, KEY_INFO, 64));
  return { authKey: okm.subarray(0, 32), finishedKey: okm.subarray(32, 64) };
}
