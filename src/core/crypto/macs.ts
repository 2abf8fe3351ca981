/**
 * The HMACs that let only the two ends of a handshake open paths, answer
 * path challenges and advertise addresses. Each MAC binds a label, the
 * sender's role (so a MAC cannot be reflected back to its author) and the
 * fields it protects. Truncated to 16 bytes: RFC 8684 truncates MP_JOIN's
 * HMAC to 64 bits in the SYN/ACK and keeps 160 bits in the third ACK; 128
 * bits keeps forgery out of reach while saving space in every packet.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const MAC_LENGTH = 16;

export type Role = 'client' | 'server';


function mac(key: Uint8Array, label: string, role: Role, parts: (Uint8Array | number | string)[]): Uint8Array {
  const h = createHmac('sha256', key);
  h.update(label);
  h.update(role === 'client' ? 'C' : 'S');
  for (const part of parts) {
    if (typeof part === 'number') h.update(String(part) + '|');
    else if (typeof part === 'string') h.update(part + '|');
    else h.update(part);
  }
  return new Uint8Array(h.digest().subarray(0, MAC_LENGTH));
}

/** MAC of a PATH_JOIN: the joining side's role, the path ID and its fresh nonce. */
export function joinMac(key: Uint8Array, role: Role, pathId: number, nonce: Uint8Array): Uint8Array {
  return mac(key, 'join', role, [pathId, nonce]);
}

/** MAC of a PATH_RESPONSE: proves the responder holds the keys and saw the challenge. */
export function responseMac(key: Uint8Array, role: Role, pathId: number, data: Uint8Array): Uint8Array {
  return mac(key, 'resp', role, [pathId, data]);
}

/** MAC of an ADD_ADDRESS. */
export function addAddressMac(
  key: Uint8Array,
  role: Role,
  addressId: number,
  address: string,
  port: number,
  backup: boolean,
): Uint8Array {
  return mac(key, 'add', role, [addressId, address, port, backup ? 1 : 0]);
}

/** MAC of a REMOVE_ADDRESS. */
export function removeAddressMac(key: Uint8Array, role: Role, addressId: number): Uint8Array {
  return mac(key, 'remove', role, [addressId]);
}

/** Constant-time comparison of two MACs. */
export function macEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
