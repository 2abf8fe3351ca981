/**
 * X25519 keys from injected random bytes, and the Diffie-Hellman step. Only
 * node:crypto's pure functions are used, so the core stays deterministic
 * under a seeded random source.
 *
 * Keys are imported as JWK, not DER: on this project's machines a JWK
 * import costs about 75 µs and a DER (PKCS#8) import about 800 µs, and a
 * server pays one import per handshake (docs/protocol.md, "Costs").
 */
import { createHash, createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';

/** Length of an X25519 private scalar and of a public key. */
export const X25519_KEY_LENGTH = 32;

/**
 * Node's JWK import of an OKP private key wants an `x`, but derives the key
 * from `d` alone; the real public key is read back after the import (a unit
 * test holds this against the RFC 7748 §6.1 vectors).
 */
const PLACEHOLDER_X = Buffer.alloc(X25519_KEY_LENGTH).toString('base64url');

export interface X25519KeyPair {
  /** Private key object for the Diffie-Hellman step. */
  privateKey: KeyObject;
  /** Raw 32-byte public key, as sent on the wire. */
  publicKey: Uint8Array;
}

/** An X25519 key pair from a 32-byte private scalar (random bytes, or a stored long-term key). */
export function x25519KeyPair(secret: Uint8Array): X25519KeyPair {
  if (secret.length !== X25519_KEY_LENGTH) throw new RangeError('an X25519 private key is 32 bytes');
  const d = Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength).toString('base64url');
  const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d, x: PLACEHOLDER_X }, format: 'jwk' });
  const x = createPublicKey(privateKey).export({ format: 'jwk' }).x!;
  return { privateKey, publicKey: new Uint8Array(Buffer.from(x, 'base64url')) };
}

/**
 * A peer's raw X25519 public key as a key object, or null if it is not 32
 * bytes or node refuses it. A server uses the client's key twice (with its
 * ephemeral and its long-term key) and imports it once.
 */
export function x25519PublicKey(raw: Uint8Array): KeyObject | null {
  if (raw.length !== X25519_KEY_LENGTH) return null;
  try {
    const x = Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64url');
    return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' });
  } catch {
    return null;
  }
}

/**
 * X25519(own, peer) with the peer's imported key: the shared secret, or
 * null if it is all zero (a low-order key, which RFC 7748 §6.1 says to
 * check for) or node refuses the pair.
 */
export function x25519With(own: KeyObject, peer: KeyObject): Uint8Array | null {
  let secret: Buffer;
  try {
    secret = diffieHellman({ privateKey: own, publicKey: peer });
  } catch {
    return null;
  }
  let any = 0;
  for (let i = 0; i < secret.length; i++) any |= secret[i]!;
  return any === 0 ? null : new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength);
}

/** The long-term key imported last (a client connects to the same server again and again). */
let lastLongTerm: { raw: Uint8Array; key: KeyObject } | null = null;

/**
 * x25519PublicKey for a server's long-term key, remembering the last one
 * imported: a client's handshakes with one server import it once, not once
 * each (about 13 µs a handshake). KeyObjects are immutable, so sharing one
 * is safe.
 */
export function x25519LongTermKey(raw: Uint8Array): KeyObject | null {
  const last = lastLongTerm;
  if (last !== null && last.raw.length === raw.length && Buffer.compare(last.raw, raw) === 0) return last.key;
  const key = x25519PublicKey(raw);
  if (key !== null) lastLongTerm = { raw: raw.slice(), key };
  return key;
}

/**
 * X25519(own, peer): the shared secret with the peer's raw public key, or
 * null if that key is malformed or of low order.
 */
export function x25519(own: KeyObject, peerPublicKey: Uint8Array): Uint8Array | null {
  const peer = x25519PublicKey(peerPublicKey);
  return peer === null ? null : x25519With(own, peer);
}

/** Fingerprints of long-term key pairs, computed once per pair (a server's connections share its pair). */
const fingerprints = new WeakMap<X25519KeyPair, string>();

/** The fingerprint of a long-term key pair's public key (cached). */
export function keyFingerprint(pair: X25519KeyPair): string {
  let fp = fingerprints.get(pair);
  if (fp === undefined) fingerprints.set(pair, (fp = fingerprint(pair.publicKey)));
  return fp;
}

/**
 * The fingerprint of a server's long-term public key: "SHA256:" and the
 * base64url SHA-256 of the 32 raw bytes (SSH prints its fingerprints the
 * same way, in base64).
 */
export function fingerprint(publicKey: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(publicKey).digest('base64url')}`;
}
