/**
 * Constant-time comparison of MACs and tags. (The per-frame HMACs of
 * protocol version 1 are gone: every frame now travels inside an AEAD-
 * protected packet, which authenticates it with the same keys.)
 */
import { timingSafeEqual } from 'node:crypto';

/** Constant-time comparison of two MACs. */
export function macEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
