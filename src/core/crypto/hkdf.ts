/**
 * HKDF-SHA256 (RFC 5869) from node's HMAC. node:crypto's hkdfSync gives
 * the same bytes but makes a KeyObject of the input every call: a packet
 * key (28 or 44 bytes) costs about 18 µs through it and 11 through two
 * HMACs (docs/bench.md, "Issue 11, handshake and idle-memory slice"), and
 * every handshake derives two.
 *
 * RFC 5869 §2.2: "PRK = HMAC-Hash(salt, IKM)", where salt, "if not
 * provided, it is set to a string of HashLen zeros".
 * §2.3: "T(0) = empty string (zero length)",
 * "T(1) = HMAC-Hash(PRK, T(0) | info | 0x01)",
 * "T(2) = HMAC-Hash(PRK, T(1) | info | 0x02)", ...,
 * "OKM = first L octets of T".
 */
import { createHmac } from 'node:crypto';

const HASH_LENGTH = 32;
const ZERO_SALT = Buffer.alloc(HASH_LENGTH);
/** At most 255 blocks (RFC 5869 §2.3: L <= 255*HashLen). */
const COUNTER = Array.from({ length: 256 }, (_, i) => Buffer.of(i));

/** HKDF-SHA256(ikm, salt, info) → `length` bytes (a new buffer of its own). */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (length < 1 || length > 255 * HASH_LENGTH) throw new RangeError('bad HKDF output length');
  const prk = createHmac('sha256', salt.length > 0 ? salt : ZERO_SALT).update(ikm).digest();
  const blocks = Math.ceil(length / HASH_LENGTH);
  const out = new Uint8Array(blocks * HASH_LENGTH);
  let previous: Buffer | null = null;
  for (let i = 1; i <= blocks; i++) {
    const h = createHmac('sha256', prk);
    if (previous !== null) h.update(previous);
    h.update(info);
    h.update(COUNTER[i]!);
    previous = h.digest();
    out.set(previous, (i - 1) * HASH_LENGTH);
  }
  // A whole number of blocks (a 32-byte secret) is returned as it is: a
  // view would move a small array's bytes out of V8's heap (aead.ts).
  return length === out.length ? out : out.subarray(0, length);
}
