/**
 * Server identity keys as the API takes and prints them: a long-term X25519
 * key pair, text in base64url (43 characters for 32 bytes), and the
 * fingerprint clients pin ("SHA256:" and the base64url SHA-256 of the
 * public key). `mpudp keygen` prints what generateKeyPair() returns.
 */
import { randomBytes } from 'node:crypto';
import { fingerprint, x25519KeyPair } from '../core/crypto/keys.js';
import { invalidArgType, invalidArgValue } from './errors.js';

/** A server identity, as text. */
export interface KeyPair {
  /** The private key (base64url, 32 bytes): `createServer({ key })`. Keep it secret. */
  privateKey: string;
  /** The public key (base64url, 32 bytes): a client's `serverKey`. */
  publicKey: string;
  /** The public key's fingerprint: also accepted as a client's `serverKey`. */
  fingerprint: string;
}

/** A new random server identity. */
export function generateKeyPair(): KeyPair {
  return keyPairFromPrivate(new Uint8Array(randomBytes(32)));
}

/** The identity of a 32-byte private key. */
export function keyPairFromPrivate(privateKey: Uint8Array): KeyPair {
  const { publicKey } = x25519KeyPair(privateKey);
  return {
    privateKey: Buffer.from(privateKey).toString('base64url'),
    publicKey: Buffer.from(publicKey).toString('base64url'),
    fingerprint: fingerprint(publicKey),
  };
}

/** 32 bytes from a Uint8Array or base64/base64url text, or null. */
function key32(value: unknown): Uint8Array | null {
  if (value instanceof Uint8Array) return value.length === 32 ? new Uint8Array(value) : null;
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]{43}=?$/.test(value)) return null;
  const bytes = Buffer.from(value.replace(/\+/g, '-').replace(/\//g, '_').replace(/=$/, ''), 'base64url');
  return bytes.length === 32 ? new Uint8Array(bytes) : null;
}

/** Checks a server's `key` option: its private key as 32 bytes or base64url text. */
export function validatePrivateKey(value: unknown, name: string): Uint8Array {
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) throw invalidArgType(name, 'a string or a Uint8Array', value);
  const key = key32(value);
  if (key === null) throw invalidArgValue(name, value, 'must be a 32-byte X25519 private key (base64url text, as `mpudp keygen` prints, or bytes)');
  return key;
}

/**
 * Checks a client's `serverKey` option: the server's public key (32 bytes
 * or base64url text) or its fingerprint ("SHA256:..."). Returns the
 * fingerprint the handshake must prove.
 */
export function validateServerKey(value: unknown, name: string): string {
  if (typeof value !== 'string' && !(value instanceof Uint8Array)) throw invalidArgType(name, 'a string or a Uint8Array', value);
  if (typeof value === 'string' && value.startsWith('SHA256:')) {
    if (!/^SHA256:[A-Za-z0-9_-]{43}$/.test(value)) throw invalidArgValue(name, value, 'is not a fingerprint of the form SHA256:<43 base64url characters>');
    return value;
  }
  const key = key32(value);
  if (key === null) throw invalidArgValue(name, value, 'must be the server\'s public key (32 bytes, or base64url text) or its fingerprint (SHA256:...)');
  return fingerprint(key);
}
