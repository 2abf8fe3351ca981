import { describe, expect, it } from 'vitest';
import { Reader, readVarint, varintLength, writeVarint } from '../../src/wire/varint.js';
import { WireError } from '../../src/wire/errors.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Runs `fn` and returns the WireError code it throws (fails if it throws anything else or nothing). */
function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof WireError) return e.code;
    throw e;
  }
  throw new Error('expected a WireError, nothing thrown');
}

// Boundaries of each encoding length, with the bytes written by hand from RFC 9000 §16.
const boundaries: [number, string][] = [
  [0, '00'],
  [63, '3f'],
  [64, '4040'],
  [16383, '7fff'],
  [16384, '80004000'],
  [2 ** 30 - 1, 'bfffffff'],
  [2 ** 30, 'c000000040000000'],
  [2 ** 32, 'c000000100000000'],
  [Number.MAX_SAFE_INTEGER, 'c01fffffffffffff'],
];

describe('varint', () => {
  it.each(boundaries)('%d encodes as %s and back', (v, h) => {
    expect(varintLength(v)).toBe(h.length / 2);
    const buf = new Uint8Array(h.length / 2 + 2);
    expect(writeVarint(buf, 1, v)).toBe(1 + h.length / 2);
    expect(toHex(buf.subarray(1, 1 + h.length / 2))).toBe(h);
    const r = new Reader(hex(h));
    expect(readVarint(r)).toBe(v);
    expect(r.remaining).toBe(0);
  });

  it('decodes the RFC 9000 §A.1 examples', () => {
    expect(new Reader(hex('9d7f3e7d')).varint()).toBe(494878333);
    expect(new Reader(hex('7bbd')).varint()).toBe(15293);
    expect(new Reader(hex('25')).varint()).toBe(37);
    // Non-minimal encodings are accepted (RFC 9000 §16 allows them).
    expect(new Reader(hex('4025')).varint()).toBe(37);
    // 151288809941952652 is above MAX_SAFE_INTEGER: refused.
    expect(codeOf(() => new Reader(hex('c2197c5eff14e88c')).varint())).toBe('WIRE_VARINT_RANGE');
  });

  it('refuses values above MAX_SAFE_INTEGER on decode', () => {
    expect(codeOf(() => new Reader(hex('c020000000000000')).varint())).toBe('WIRE_VARINT_RANGE');
    expect(codeOf(() => new Reader(hex('ffffffffffffffff')).varint())).toBe('WIRE_VARINT_RANGE');
  });

  it('reports truncation for every length', () => {
    for (const h of ['', '40', '80ffff', 'c0000000000000']) {
      expect(codeOf(() => new Reader(hex(h)).varint())).toBe('WIRE_TRUNCATED');
    }
    // The reader's `end` bounds reads, not the buffer's length.
    expect(codeOf(() => new Reader(hex('4040'), 0, 1).varint())).toBe('WIRE_TRUNCATED');
  });

  it('refuses to encode invalid numbers', () => {
    for (const v of [-1, 1.5, NaN, Infinity, Number.MAX_SAFE_INTEGER + 1, 2 ** 62]) {
      expect(codeOf(() => varintLength(v))).toBe('WIRE_VARINT_RANGE');
      expect(codeOf(() => writeVarint(new Uint8Array(8), 0, v))).toBe('WIRE_VARINT_RANGE');
    }
  });

  it('refuses to write past the buffer and leaves it untouched', () => {
    const buf = new Uint8Array(4);
    expect(codeOf(() => writeVarint(buf, 1, 16384))).toBe('WIRE_BUFFER_TOO_SMALL');
    expect(toHex(buf)).toBe('00000000');
    expect(codeOf(() => writeVarint(buf, 5, 1))).toBe('WIRE_BAD_VALUE');
    expect(codeOf(() => writeVarint(buf, -1, 1))).toBe('WIRE_BAD_VALUE');
  });
});

describe('Reader', () => {
  it('reads u8, u16 and byte views without copying', () => {
    const buf = hex('ff 1234 aabbcc dd');
    const r = new Reader(buf, 0, 6);
    expect(r.u8()).toBe(0xff);
    expect(r.u16()).toBe(0x1234);
    const view = r.bytes(3);
    expect(toHex(view)).toBe('aabbcc');
    expect(view.buffer).toBe(buf.buffer);
    view[0] = 0;
    expect(buf[3]).toBe(0);
    expect(r.remaining).toBe(0);
    expect(codeOf(() => r.u8())).toBe('WIRE_TRUNCATED');
    const r2 = new Reader(hex('1234'), 1);
    expect(codeOf(() => r2.u16())).toBe('WIRE_TRUNCATED');
    expect(r2.pos).toBe(1);
  });

  it('reset() reads a new buffer from its start to its end, as a new Reader would', () => {
    const r = new Reader(hex('0102030405'), 2, 4);
    expect(r.u8()).toBe(3);
    r.reset(hex('aabb'));
    expect(r.pos).toBe(0);
    expect(r.remaining).toBe(2);
    expect(r.u16()).toBe(0xaabb);
    expect(codeOf(() => r.u8())).toBe('WIRE_TRUNCATED');
    expect(codeOf(() => r.reset('x' as unknown as Uint8Array))).toBe('WIRE_BAD_VALUE');
  });

  it('starts at pos and checks its bounds', () => {
    const r = new Reader(hex('0102030405'), 2, 4);
    expect(r.remaining).toBe(2);
    expect(codeOf(() => r.bytes(3))).toBe('WIRE_TRUNCATED');
    expect(r.pos).toBe(2);
    expect(codeOf(() => r.bytes(-1))).toBe('WIRE_BAD_VALUE');
    expect(codeOf(() => new Reader(new Uint8Array(2), 3))).toBe('WIRE_BAD_VALUE');
    expect(codeOf(() => new Reader(new Uint8Array(2), 0, 3))).toBe('WIRE_BAD_VALUE');
    expect(codeOf(() => new Reader(new Uint8Array(2), 2, 1))).toBe('WIRE_BAD_VALUE');
  });
});
