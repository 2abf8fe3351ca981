import { describe, expect, it } from 'vitest';
import { decodePacket, encodePacket, packetLength } from '../../src/wire/packet.js';
import { WireError } from '../../src/wire/errors.js';
import { PacketType } from '../../src/wire/types.js';
import type { Frame, PacketHeader } from '../../src/wire/types.js';

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
const header: PacketHeader = { type: PacketType.Short, dcid, pathId: 1, packetNumber: 5, keyPhase: false };

describe('packet', () => {
  it('golden: Short packet with PING, DATA_ACK and DATA', () => {
    // header 42 dcid 01 05; PING 01; DATA_ACK 03 00 80010000 (65536);
    // DATA 08 offset 0 len 2 "hi"
    const bytes = hex('42 0102030405060708 01 05  01  03 00 80010000  08 00 02 6869');
    const frames: Frame[] = [
      { type: 'ping' },
      { type: 'data_ack', cumulative: 0, maxData: 65536 },
      { type: 'data', offset: 0, fin: false, data: hex('6869') },
    ];
    expect(decodePacket(bytes)).toEqual({ header, frames });
    expect(packetLength(header, frames)).toBe(bytes.length);
    expect(toHex(encodePacket(header, frames))).toBe(toHex(bytes));
  });

  it('golden: Initial padded to 1200 bytes', () => {
    const hello: Frame = {
      type: 'hello',
      version: 2,
      cipher: 1,
      cid: hex('1111111111111111'),
      publicKey: new Uint8Array(32).fill(0x22),
      nonce: new Uint8Array(16).fill(0x33),
      params: { initialMaxData: 1, maxPaths: 2, idleTimeoutMs: 3, maxDatagramSize: 4 },
      cookie: new Uint8Array(0),
    };
    const h: PacketHeader = { type: PacketType.Initial, dcid, pathId: 0, packetNumber: 0, keyPhase: false };
    // 11 header + 1+1+1+8+32+16+4+1 = 64 hello = 75; padding 1125
    const frames: Frame[] = [hello, { type: 'padding', length: 1125 }];
    const bytes = encodePacket(h, frames);
    expect(bytes.length).toBe(1200);
    expect(toHex(bytes.subarray(0, 14))).toBe('4001020304050607080000300201');
    expect(bytes.subarray(75).every((b) => b === 0)).toBe(true);
    expect(decodePacket(bytes)).toEqual({ header: h, frames });
  });

  it('writes into a given buffer and returns a view', () => {
    const buf = new Uint8Array(64).fill(0xee);
    const out = encodePacket(header, [{ type: 'ping' }], buf);
    expect(out.buffer).toBe(buf.buffer);
    expect(toHex(out)).toBe('420102030405060708010501');
    expect(buf[12]).toBe(0xee);
  });

  it('refuses too small buffers and empty frame lists without writing', () => {
    const buf = new Uint8Array(12);
    expect(codeOf(() => encodePacket(header, [{ type: 'ping' }, { type: 'ping' }], buf))).toBe('WIRE_BUFFER_TOO_SMALL');
    expect(codeOf(() => encodePacket(header, [], buf))).toBe('WIRE_BAD_VALUE');
    expect(codeOf(() => encodePacket(header, [{ type: 'ping' }, { type: 'padding', length: 0 }], buf))).toBe('WIRE_BAD_VALUE');
    expect(buf.every((b) => b === 0)).toBe(true);
  });

  it('refuses packets without frames, bad headers and bad frames', () => {
    expect(codeOf(() => decodePacket(hex('42 0102030405060708 01 05')))).toBe('WIRE_EMPTY_PACKET');
    expect(codeOf(() => decodePacket(hex('82 0102030405060708 01 05 01')))).toBe('WIRE_BAD_HEADER');
    expect(codeOf(() => decodePacket(hex('42 0102030405060708 01 05 01 05')))).toBe('WIRE_UNKNOWN_FRAME');
    expect(codeOf(() => decodePacket(hex('42 0102030405060708 01 05 01 11 00 1122')))).toBe('WIRE_TRUNCATED');
    expect(codeOf(() => decodePacket(new Uint8Array(0)))).toBe('WIRE_TRUNCATED');
  });
});
