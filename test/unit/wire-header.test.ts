import { describe, expect, it } from 'vitest';
import { dcidEquals, decodeHeader, encodeHeader, headerLength, peekDcid, peekPacketType, readShortHeader } from '../../src/wire/header.js';
import { Reader } from '../../src/wire/varint.js';
import { WireError } from '../../src/wire/errors.js';
import { PacketType } from '../../src/wire/types.js';
import type { PacketHeader } from '../../src/wire/types.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof WireError) return e.code;
    throw e;
  }
  throw new Error('expected a WireError, nothing thrown');
}

const dcid = hex('0102030405060708');

// Golden vectors written by hand from the layout in docs/protocol.md:
// 0b01000Ktt (K: key phase, Short only), dcid (8), varint pathId, varint
// packetNumber. Regenerated for protocol version 2 (the key phase bit).
const golden: [string, PacketHeader][] = [
  ['40 0102030405060708 00 00', { type: PacketType.Initial, dcid, pathId: 0, packetNumber: 0, keyPhase: false }],
  ['41 0102030405060708 00 3f', { type: PacketType.Handshake, dcid, pathId: 0, packetNumber: 63, keyPhase: false }],
  ['42 0102030405060708 01 5234', { type: PacketType.Short, dcid, pathId: 1, packetNumber: 0x1234, keyPhase: false }],
  ['46 0102030405060708 01 5234', { type: PacketType.Short, dcid, pathId: 1, packetNumber: 0x1234, keyPhase: true }],
  ['42 0102030405060708 4040 80004000', { type: PacketType.Short, dcid, pathId: 64, packetNumber: 16384, keyPhase: false }],
  ['43 0102030405060708 07 c01fffffffffffff', { type: PacketType.Retry, dcid, pathId: 7, packetNumber: Number.MAX_SAFE_INTEGER, keyPhase: false }],
];

describe('packet header', () => {
  it.each(golden)('%s', (h, header) => {
    const bytes = hex(h);
    const r = new Reader(bytes);
    const got = decodeHeader(r);
    expect(got).toEqual(header);
    expect(r.remaining).toBe(0);
    expect(got.dcid.buffer).toBe(bytes.buffer);
    expect(headerLength(header)).toBe(bytes.length);
    const out = new Uint8Array(bytes.length);
    expect(encodeHeader(header, out, 0)).toBe(bytes.length);
    expect(toHex(out)).toBe(toHex(bytes));
  });

  it('refuses bad first bytes', () => {
    // top bits must be 0b01, bits 5..3 zero; the key phase bit (0x04) only with type 2 (Short)
    for (const b of [0x00, 0x03, 0x80, 0xc2, 0x44, 0x45, 0x47, 0x48, 0x4a, 0x4f, 0x50, 0x60, 0x70, 0xff]) {
      const bytes = new Uint8Array(11);
      bytes[0] = b;
      expect(codeOf(() => decodeHeader(new Reader(bytes))), b.toString(16)).toBe('WIRE_BAD_HEADER');
      expect(peekPacketType(bytes)).toBeNull();
      expect(peekDcid(bytes)).toBeNull();
    }
  });

  it('reports truncation', () => {
    for (const h of ['', '42', '42 01020304050607', '42 0102030405060708', '42 0102030405060708 00', '42 0102030405060708 00 40']) {
      expect(codeOf(() => decodeHeader(new Reader(hex(h)))), h).toBe('WIRE_TRUNCATED');
    }
  });

  it('peeks dcid and type without decoding', () => {
    const bytes = hex('42 0102030405060708 ffff');
    expect(peekPacketType(bytes)).toBe(PacketType.Short);
    const view = peekDcid(bytes)!;
    expect(toHex(view)).toBe('0102030405060708');
    expect(view.buffer).toBe(bytes.buffer);
    expect(peekDcid(hex('42 01020304050607'))).toBeNull();
    expect(peekDcid(new Uint8Array(0))).toBeNull();
    expect(peekPacketType(new Uint8Array(0))).toBeNull();
    expect(peekPacketType(hex('43'))).toBe(PacketType.Retry);
  });

  it('validates the header it encodes', () => {
    const ok: PacketHeader = { type: PacketType.Short, dcid, pathId: 0, packetNumber: 0, keyPhase: false };
    const buf = new Uint8Array(32);
    expect(codeOf(() => encodeHeader({ ...ok, type: 4 as PacketType }, buf, 0))).toBe('WIRE_BAD_VALUE');
    expect(codeOf(() => encodeHeader({ ...ok, dcid: new Uint8Array(7) }, buf, 0))).toBe('WIRE_BAD_VALUE');
    expect(codeOf(() => encodeHeader({ ...ok, type: PacketType.Initial, keyPhase: true }, buf, 0))).toBe('WIRE_BAD_VALUE');
    expect(codeOf(() => encodeHeader({ ...ok, pathId: -1 }, buf, 0))).toBe('WIRE_VARINT_RANGE');
    expect(codeOf(() => encodeHeader({ ...ok, packetNumber: 0.5 }, buf, 0))).toBe('WIRE_VARINT_RANGE');
    expect(codeOf(() => encodeHeader(ok, new Uint8Array(10), 0))).toBe('WIRE_BUFFER_TOO_SMALL');
    expect(codeOf(() => encodeHeader(ok, buf, 30))).toBe('WIRE_BUFFER_TOO_SMALL');
    expect(buf.every((x) => x === 0)).toBe(true);
  });
});

describe('the receive path’s Short header and dcid shortcuts', () => {
  it('readShortHeader reads what decodeHeader reads of a Short header, into the object given, and nothing of another type', () => {
    const out: PacketHeader = { type: PacketType.Short, dcid: new Uint8Array(0), pathId: -1, packetNumber: -1, keyPhase: false };
    for (const [bytes, want] of golden) {
      const r = new Reader(hex(bytes));
      const got = readShortHeader(r, out);
      if (want.type !== PacketType.Short) {
        expect(got).toBeNull();
        expect(r.pos).toBe(0);
        continue;
      }
      expect(got).toBe(out);
      expect({ pathId: out.pathId, packetNumber: out.packetNumber, keyPhase: out.keyPhase }).toEqual({ pathId: want.pathId, packetNumber: want.packetNumber, keyPhase: want.keyPhase });
      const d = new Reader(hex(bytes));
      decodeHeader(d);
      expect(r.pos).toBe(d.pos);
    }
    // Truncated: the same error as decodeHeader.
    expect(codeOf(() => readShortHeader(new Reader(hex('42 01020304')), out))).toBe('WIRE_TRUNCATED');
    expect(codeOf(() => decodeHeader(new Reader(hex('42 01020304'))))).toBe('WIRE_TRUNCATED');
  });

  it('dcidEquals matches the dcid peekDcid sees, in place, and only for a valid first byte', () => {
    for (const [bytes] of golden) {
      const b = hex(bytes);
      expect(dcidEquals(b, dcid)).toBe(true);
      expect(dcidEquals(b, hex('0102030405060709'))).toBe(false);
      expect(toHex(peekDcid(b)!)).toBe(toHex(dcid));
    }
    expect(dcidEquals(hex('00 0102030405060708 00 00'), dcid)).toBe(peekDcid(hex('00 0102030405060708 00 00')) !== null);
    expect(dcidEquals(hex('42 01020304050607'), dcid)).toBe(false);
  });
});
