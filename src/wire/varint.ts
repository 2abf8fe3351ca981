/**
 * QUIC variable-length integers (RFC 9000 §16) and the bounds-checked Reader
 * every decoder reads through.
 *
 * RFC 9000 §16: "The QUIC variable-length integer encoding reserves the two
 * most significant bits of the first byte to encode the base-2 logarithm of
 * the integer encoding length in bytes. The integer value is encoded on the
 * remaining bits, in network byte order."
 *
 *   2MSB  length  usable bits  range
 *   00    1       6            0..63
 *   01    2       14           0..16383
 *   10    4       30           0..1073741823
 *   11    8       62           0..2^62-1 (we stop at Number.MAX_SAFE_INTEGER)
 */
import { WireError } from './errors.js';

/** Largest value held in 1, 2 and 4 bytes. */
const MAX_1 = 63;
const MAX_2 = 16383;
const MAX_4 = 1073741823;
/** 2^32, to split 8-byte values into two 32-bit halves. */
const TWO_32 = 4294967296;
/** Largest high half (bits 32..61) whose value stays <= Number.MAX_SAFE_INTEGER. */
const MAX_HIGH = 0x1fffff;

/** Throws unless `v` is an integer in 0..Number.MAX_SAFE_INTEGER. */
function checkValue(v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new WireError('WIRE_VARINT_RANGE', `cannot encode ${String(v)} as a varint`);
  }
}

/** Throws unless `offset` is an integer position inside (or at the end of) `buf`. */
export function checkOffset(buf: Uint8Array, offset: number): void {
  if (!(buf instanceof Uint8Array)) throw new WireError('WIRE_BAD_VALUE', 'buffer is not a Uint8Array');
  if (!Number.isSafeInteger(offset) || offset < 0 || offset > buf.length) {
    throw new WireError('WIRE_BAD_VALUE', `offset ${String(offset)} outside buffer of ${buf.length}`);
  }
}

/** Bytes needed to encode `v` (1, 2, 4 or 8); throws WIRE_VARINT_RANGE for invalid values. */
export function varintLength(v: number): number {
  checkValue(v);
  if (v <= MAX_1) return 1;
  if (v <= MAX_2) return 2;
  if (v <= MAX_4) return 4;
  return 8;
}

/**
 * Writes `v` at `pos` without any check; the caller has validated `v` (via
 * varintLength) and made room. Returns the position after it.
 */
export function putVarint(buf: Uint8Array, pos: number, v: number): number {
  if (v <= MAX_1) {
    buf[pos] = v;
    return pos + 1;
  }
  if (v <= MAX_2) {
    buf[pos] = 0x40 | (v >>> 8);
    buf[pos + 1] = v & 0xff;
    return pos + 2;
  }
  if (v <= MAX_4) {
    buf[pos] = 0x80 | (v >>> 24);
    buf[pos + 1] = (v >>> 16) & 0xff;
    buf[pos + 2] = (v >>> 8) & 0xff;
    buf[pos + 3] = v & 0xff;
    return pos + 4;
  }
  const high = Math.floor(v / TWO_32);
  const low = v >>> 0;
  buf[pos] = 0xc0 | (high >>> 24);
  buf[pos + 1] = (high >>> 16) & 0xff;
  buf[pos + 2] = (high >>> 8) & 0xff;
  buf[pos + 3] = high & 0xff;
  buf[pos + 4] = low >>> 24;
  buf[pos + 5] = (low >>> 16) & 0xff;
  buf[pos + 6] = (low >>> 8) & 0xff;
  buf[pos + 7] = low & 0xff;
  return pos + 8;
}

/** Writes `v` at `offset` in `buf`, validating both; returns the new offset. */
export function writeVarint(buf: Uint8Array, offset: number, v: number): number {
  const len = varintLength(v);
  checkOffset(buf, offset);
  if (offset + len > buf.length) {
    throw new WireError('WIRE_BUFFER_TOO_SMALL', `varint needs ${len} bytes at ${offset}, buffer is ${buf.length}`);
  }
  return putVarint(buf, offset, v);
}

/** Reads one varint through `reader` (same as `reader.varint()`). */
export function readVarint(reader: Reader): number {
  return reader.varint();
}

/**
 * A cursor over `buf[pos..end)`. Every read is bounds-checked and throws
 * WIRE_TRUNCATED past `end`, so decoders built on it are total.
 */
export class Reader {
  /** The underlying bytes (reset() alone moves it). */
  buf: Uint8Array;
  /** Next byte to read. */
  pos: number;
  /** One past the last readable byte (reset() alone moves it). */
  end: number;

  constructor(buf: Uint8Array, pos = 0, end = buf.length) {
    if (!(buf instanceof Uint8Array)) throw new WireError('WIRE_BAD_VALUE', 'reader input is not a Uint8Array');
    if (!Number.isSafeInteger(pos) || !Number.isSafeInteger(end) || pos < 0 || pos > end || end > buf.length) {
      throw new WireError('WIRE_BAD_VALUE', `bad reader bounds ${String(pos)}..${String(end)} of ${buf.length}`);
    }
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  /**
   * Reads `buf` from its start to its end, as a new Reader(buf) would: the
   * receive path reuses two readers instead of making two per datagram.
   */
  reset(buf: Uint8Array): this {
    if (!(buf instanceof Uint8Array)) throw new WireError('WIRE_BAD_VALUE', 'reader input is not a Uint8Array');
    this.buf = buf;
    this.pos = 0;
    this.end = buf.length;
    return this;
  }

  /** Bytes left to read. */
  get remaining(): number {
    return this.end - this.pos;
  }

  /** Throws WIRE_TRUNCATED unless `n` more bytes are readable. */
  private need(n: number, what: string): void {
    if (this.end - this.pos < n) {
      throw new WireError('WIRE_TRUNCATED', `${what}: need ${n} bytes at ${this.pos}, have ${this.end - this.pos}`);
    }
  }

  /** One unsigned byte. */
  u8(): number {
    this.need(1, 'u8');
    return this.buf[this.pos++]!;
  }

  /** A 16-bit unsigned big-endian integer. */
  u16(): number {
    this.need(2, 'u16');
    const v = (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  /** The next `n` bytes as a view into the buffer (no copy). */
  bytes(n: number): Uint8Array {
    const start = this.pos;
    this.skip(n);
    return this.buf.subarray(start, this.pos);
  }

  /** Moves past the next `n` bytes with the checks of `bytes`, making no view (a view costs 100-200 ns). */
  skip(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0) throw new WireError('WIRE_BAD_VALUE', `bad byte count ${String(n)}`);
    this.need(n, 'bytes');
    this.pos += n;
  }

  /** One QUIC varint; WIRE_VARINT_RANGE above Number.MAX_SAFE_INTEGER. */
  varint(): number {
    this.need(1, 'varint');
    const buf = this.buf;
    const p = this.pos;
    const first = buf[p]!;
    const prefix = first >>> 6;
    if (prefix === 0) {
      this.pos = p + 1;
      return first;
    }
    if (prefix === 1) {
      this.need(2, 'varint');
      this.pos = p + 2;
      return ((first & 0x3f) << 8) | buf[p + 1]!;
    }
    if (prefix === 2) {
      this.need(4, 'varint');
      this.pos = p + 4;
      return ((first & 0x3f) * 0x1000000 + ((buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!));
    }
    this.need(8, 'varint');
    const high = (first & 0x3f) * 0x1000000 + ((buf[p + 1]! << 16) | (buf[p + 2]! << 8) | buf[p + 3]!);
    if (high > MAX_HIGH) {
      throw new WireError('WIRE_VARINT_RANGE', `varint at ${p} exceeds Number.MAX_SAFE_INTEGER`);
    }
    const low = ((buf[p + 4]! << 24) | (buf[p + 5]! << 16) | (buf[p + 6]! << 8) | buf[p + 7]!) >>> 0;
    this.pos = p + 8;
    return high * TWO_32 + low;
  }
}
