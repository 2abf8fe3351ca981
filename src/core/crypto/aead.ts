/**
 * Packet protection: one AEAD key of one direction and one key phase.
 *
 * "The nonce, N, is formed by combining the packet protection IV with the
 * packet number." (RFC 9001 §5.3) With one packet number space per path,
 * the path ID joins it, as in multipath QUIC:
 *
 *   nonce = iv XOR (path ID as 32 bits ‖ packet number as 64 bits)
 *
 * Path IDs are below 2^32 and packet numbers below 2^53 (a JS number), so
 * no (path, packet number) pair repeats under one key, on any path. The
 * packet's header (everything before the frames) is the associated data.
 *
 * Sealing runs the cipher over the frames already written in the packet
 * buffer and writes the ciphertext back over them, then the tag after
 * them: no concatenation, one copy. node:crypto has no in-place or
 * re-keyed AEAD call; one createCipheriv per packet is the cheapest it
 * offers (bench/security-micro.ts, docs/protocol.md "Costs"). The key is kept
 * as raw bytes, not a KeyObject: a packet costs the same either way
 * (docs/bench.md, "Issue 11, second slice"), and a KeyObject costs a
 * handshake about 3 µs per key and an idle connection about 300 bytes.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';

/** The AEADs a connection may use (the `cipher` option). */
export const CIPHER_NAMES = ['aes-128-gcm', 'chacha20-poly1305'] as const;
export type CipherName = (typeof CIPHER_NAMES)[number];

/** The cipher's number in HELLO. */
export const CipherId: Record<CipherName, number> = { 'aes-128-gcm': 1, 'chacha20-poly1305': 2 };

/** The cipher named by a HELLO's number, or null. */
export function cipherById(id: number): CipherName | null {
  for (const name of CIPHER_NAMES) if (CipherId[name] === id) return name;
  return null;
}

/** Key length of each cipher, bytes. */
export const KEY_LENGTH: Record<CipherName, number> = { 'aes-128-gcm': 16, 'chacha20-poly1305': 32 };
/** IV (nonce) length, bytes. */
export const IV_LENGTH = 12;
/** Authentication tag length, bytes (both ciphers). */
export const TAG_LENGTH = 16;
/** Path IDs must stay below this for nonces to stay unique. */
export const MAX_PATH_ID = 2 ** 32;

/** The smallest common interface of node's GCM and ChaCha20-Poly1305 ciphers. */
interface AeadCipher {
  setAAD(data: Uint8Array): unknown;
  update(data: Uint8Array): Buffer;
  final(): Buffer;
  getAuthTag(): Buffer;
}
interface AeadDecipher {
  setAAD(data: Uint8Array): unknown;
  setAuthTag(tag: Uint8Array): unknown;
  update(data: Uint8Array): Buffer;
  final(): Buffer;
}

/** Scratch nonce, rebuilt for every packet (the core is synchronous). */
const nonce = Buffer.alloc(IV_LENGTH);

/** Longest header or tag copyOut() serves from scratch. */
const SCRATCH_MAX = 64;
/** Scratch arrays by length (the AAD and the tag must be whole arrays of their exact length). */
const scratch: Uint8Array[] = [];

/**
 * A copy of `buf[from, to)` in a scratch array of that length, reused by the
 * next call: node's crypto copies an AAD and a tag when handed them, and a
 * view of the packet instead (subarray) is an object per call, two or
 * three per packet (docs/bench.md, "Landed: fewer views per packet").
 */
function copyOut(buf: Uint8Array, from: number, to: number): Uint8Array {
  const length = to - from;
  if (length > SCRATCH_MAX) return buf.subarray(from, to);
  let out = scratch[length];
  if (out === undefined) out = scratch[length] = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = buf[from + i]!;
  return out;
}

export class PacketKey {
  /**
   * Key and IV, each a copy of its own (they may be views of a larger
   * derivation). Neither is ever a view nor asked for its buffer, so V8
   * keeps both, at 32 bytes or less, inside its heap: no backing store,
   * about 120 bytes of RSS less each for an idle connection (node's crypto
   * reads such an array without moving it out; docs/bench.md, "The next
   * lever for idle RSS").
   */
  private readonly key: Uint8Array;
  private readonly iv: Uint8Array;

  constructor(
    readonly cipher: CipherName,
    key: Uint8Array,
    iv: Uint8Array,
  ) {
    if (key.length !== KEY_LENGTH[cipher] || iv.length !== IV_LENGTH) throw new RangeError(`bad ${cipher} key or IV length`);
    this.key = new Uint8Array(key);
    this.iv = new Uint8Array(iv);
  }

  /**
   * Seals the packet in `buf` that begins at `start`: the header is
   * [start, headerEnd), the frames [headerEnd, payloadEnd); the tag goes to
   * [payloadEnd, payloadEnd + 16), which must fit in `buf`. Returns the
   * sealed packet's length.
   */
  seal(buf: Uint8Array, headerEnd: number, payloadEnd: number, pathId: number, packetNumber: number, start = 0): number {
    this.setNonce(pathId, packetNumber);
    const c = createCipheriv(this.cipher as 'aes-128-gcm', this.key, nonce) as unknown as AeadCipher;
    c.setAAD(copyOut(buf, start, headerEnd));
    const out = c.update(buf.subarray(headerEnd, payloadEnd));
    c.final();
    buf.set(out, headerEnd);
    buf.set(c.getAuthTag(), payloadEnd);
    return payloadEnd + TAG_LENGTH - start;
  }

  /**
   * Opens a packet whose header is [0, headerEnd): returns its frames in
   * the clear (a new buffer), or null if it does not authenticate.
   */
  open(packet: Uint8Array, headerEnd: number, pathId: number, packetNumber: number): Uint8Array | null {
    const end = packet.length - TAG_LENGTH;
    if (end < headerEnd) return null;
    this.setNonce(pathId, packetNumber);
    const d = createDecipheriv(this.cipher as 'aes-128-gcm', this.key, nonce) as unknown as AeadDecipher;
    d.setAAD(copyOut(packet, 0, headerEnd));
    d.setAuthTag(copyOut(packet, end, packet.length));
    const plain = d.update(packet.subarray(headerEnd, end));
    try {
      d.final();
    } catch {
      return null;
    }
    // A plain Uint8Array, not the Buffer node returns: Buffer's slice() is a
    // view, and the core copies what must outlive the packet with slice()
    // (a one-byte fragment must not keep its whole datagram alive).
    return new Uint8Array(plain.buffer, plain.byteOffset, plain.byteLength);
  }

  /** nonce = iv XOR (pathId (32 bits) ‖ packetNumber (64 bits)), big-endian. */
  private setNonce(pathId: number, packetNumber: number): void {
    const iv = this.iv;
    const hi = Math.floor(packetNumber / 0x1_0000_0000);
    const lo = packetNumber >>> 0;
    nonce[0] = iv[0]! ^ (pathId >>> 24);
    nonce[1] = iv[1]! ^ ((pathId >>> 16) & 0xff);
    nonce[2] = iv[2]! ^ ((pathId >>> 8) & 0xff);
    nonce[3] = iv[3]! ^ (pathId & 0xff);
    nonce[4] = iv[4]! ^ (hi >>> 24);
    nonce[5] = iv[5]! ^ ((hi >>> 16) & 0xff);
    nonce[6] = iv[6]! ^ ((hi >>> 8) & 0xff);
    nonce[7] = iv[7]! ^ (hi & 0xff);
    nonce[8] = iv[8]! ^ (lo >>> 24);
    nonce[9] = iv[9]! ^ ((lo >>> 16) & 0xff);
    nonce[10] = iv[10]! ^ ((lo >>> 8) & 0xff);
    nonce[11] = iv[11]! ^ (lo & 0xff);
  }
}
