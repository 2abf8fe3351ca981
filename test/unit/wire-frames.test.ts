import { describe, expect, it } from 'vitest';
import {
  ackFrameLength,
  dataAckFrameLength,
  dataFrameHeaderLength,
  encodeFrame,
  frameLength,
  writeDataAckFrame,
  writeDataFrameHeader,
} from '../../src/wire/frames.js';
import { decodeFrame } from '../../src/wire/frame-decode.js';
import { Reader } from '../../src/wire/varint.js';
import { WireError } from '../../src/wire/errors.js';
import type { Frame } from '../../src/wire/types.js';

const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
/** `n` bytes counting up from `start`. */
const seq = (start: number, n: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff);
const seqHex = (start: number, n: number): string => toHex(seq(start, n));

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof WireError) return e.code;
    throw e;
  }
  throw new Error('expected a WireError, nothing thrown');
}

const mac16 = seq(0xa0, 16);

/**
 * Golden vectors written by hand from docs/protocol.md (varints per RFC 9000
 * §16: 1 byte <= 63, 0x40 prefix <= 16383, 0x80 prefix <= 2^30-1).
 * Each must decode to the value and re-encode to the same bytes.
 */
const golden: [string, string, Frame][] = [
  ['padding', '00 00 00', { type: 'padding', length: 3 }],
  ['ping', '01', { type: 'ping' }],
  [
    // pathId 1, largest 100 (4064), ackDelay 1000 (43e8), 2 more ranges,
    // first range 100-95 = 5; gap 95-90-2 = 3, len 90-80 = 10;
    // gap 80-0-2 = 78 (404e), len 0.
    'ack',
    '02 01 4064 43e8 02 05 03 0a 404e 00',
    {
      type: 'ack',
      pathId: 1,
      ackDelay: 1000,
      ranges: [
        { smallest: 95, largest: 100 },
        { smallest: 80, largest: 90 },
        { smallest: 0, largest: 0 },
      ],
    },
  ],
  ['ack single', '02 00 00 00 00 00', { type: 'ack', pathId: 0, ackDelay: 0, ranges: [{ smallest: 0, largest: 0 }] }],
  // 1_000_000 = 0x0f4240, 2_000_000 = 0x1e8480: 4-byte varints
  ['data_ack', '03 800f4240 801e8480', { type: 'data_ack', cumulative: 1_000_000, maxData: 2_000_000 }],
  ['data', '08 00 05 68656c6c6f', { type: 'data', offset: 0, fin: false, data: hex('68656c6c6f') }],
  // offset 70000 = 0x011170, empty data with FIN
  ['data fin', '09 80011170 00', { type: 'data', offset: 70000, fin: true, data: new Uint8Array(0) }],
  // Protocol version 2: the per-frame MACs and the JOIN nonce are gone (the packet's AEAD authenticates every frame).
  ['path_join', '10 02', { type: 'path_join', pathId: 2 }],
  ['path_challenge', '11 03 1122334455667788', { type: 'path_challenge', pathId: 3, data: hex('1122334455667788') }],
  [
    'path_response',
    '12 03 1122334455667788',
    { type: 'path_response', pathId: 3, data: hex('1122334455667788') },
  ],
  // seq 300 = 0x12c -> 412c; status 1 = backup
  ['path_status backup', '13 01 412c 01', { type: 'path_status', pathId: 1, seq: 300, backup: true }],
  ['path_status active', '13 05 00 00', { type: 'path_status', pathId: 5, seq: 0, backup: false }],
  ['path_abandon', '14 04 07', { type: 'path_abandon', pathId: 4, errorCode: 7 }],
  [
    // seq 5; flags 01 = backup, IPv4; 192.168.1.10; port 4433 = 0x1151
    'add_address v4',
    '15 01 05 01 c0a8010a 1151',
    { type: 'add_address', addressId: 1, seq: 5, address: '192.168.1.10', port: 4433, backup: true },
  ],
  [
    // seq 300 = 412c; flags 02 = IPv6; 2001:db8::1; port 443 = 0x01bb
    'add_address v6',
    '15 02 412c 02 20010db8000000000000000000000001 01bb',
    { type: 'add_address', addressId: 2, seq: 300, address: '2001:db8::1', port: 443, backup: false },
  ],
  ['remove_address', '16 01 06', { type: 'remove_address', addressId: 1, seq: 6 }],
  ['close', '1c 00 03 627965', { type: 'close', errorCode: 0, reason: 'bye' }],
  // "é" is c3 a9 in UTF-8; "😀" (U+1F600) is f0 9f 98 80
  ['close utf8', '1c 02 06 c3a9 f09f9880', { type: 'close', errorCode: 2, reason: 'é😀' }],
  // A leading BOM is kept (decoder runs with ignoreBOM).
  ['close bom', '1c 00 03 efbbbf', { type: 'close', errorCode: 0, reason: '\ufeff' }],
  [
    // version 2; cipher 1 (AES-128-GCM); cid; publicKey 20..3f; nonce
    // 40..4f; initialMaxData 2^20 (80100000); maxPaths 8; idleTimeoutMs
    // 30000 = 0x7530 (80007530); maxDatagramSize 1452 = 0x5ac (45ac); empty cookie
    'hello',
    `30 02 01 0102030405060708 ${seqHex(0x20, 32)} ${seqHex(0x40, 16)} 80100000 08 80007530 45ac 00`,
    {
      type: 'hello',
      version: 2,
      cipher: 1,
      cid: hex('0102030405060708'),
      publicKey: seq(0x20, 32),
      nonce: seq(0x40, 16),
      params: { initialMaxData: 1 << 20, maxPaths: 8, idleTimeoutMs: 30000, maxDatagramSize: 1452 },
      cookie: new Uint8Array(0),
    },
  ],
  [
    // cipher 2 (ChaCha20-Poly1305); cookie of 100 bytes: length 100 = 0x64 -> 2-byte varint 4064
    'hello cookie',
    `30 02 02 0102030405060708 ${seqHex(0x20, 32)} ${seqHex(0x40, 16)} 00 01 00 00 4064 ${seqHex(0, 100)}`,
    {
      type: 'hello',
      version: 2,
      cipher: 2,
      cid: hex('0102030405060708'),
      publicKey: seq(0x20, 32),
      nonce: seq(0x40, 16),
      params: { initialMaxData: 0, maxPaths: 1, idleTimeoutMs: 0, maxDatagramSize: 0 },
      cookie: seq(0, 100),
    },
  ],
  ['finished', `31 ${seqHex(0x80, 32)}`, { type: 'finished', mac: seq(0x80, 32) }],
  ['identity', `33 ${seqHex(0xa0, 32)}`, { type: 'identity', staticKey: seq(0xa0, 32) }],
  ['reset_token', `17 ${seqHex(0xc0, 16)}`, { type: 'reset_token', token: seq(0xc0, 16) }],
  ['retry', '32 04 deadbeef', { type: 'retry', cookie: hex('deadbeef') }],
];

describe('frame golden vectors', () => {
  it.each(golden)('%s', (_name, h, frame) => {
    const bytes = hex(h);
    const r = new Reader(bytes);
    expect(decodeFrame(r)).toEqual(frame);
    expect(r.remaining).toBe(0);
    expect(frameLength(frame)).toBe(bytes.length);
    const out = new Uint8Array(bytes.length + 2).fill(0xee);
    expect(encodeFrame(frame, out, 1)).toBe(1 + bytes.length);
    expect(toHex(out)).toBe(`ee${toHex(bytes)}ee`);
  });

  it('returns DATA bytes as a view into the input', () => {
    const bytes = hex('08 00 05 68656c6c6f');
    const f = decodeFrame(new Reader(bytes));
    expect(f.type === 'data' && f.data.buffer === bytes.buffer && f.data.byteOffset === 3).toBe(true);
  });

  it('padding stops at the first non-zero byte and at the reader end', () => {
    const r = new Reader(hex('00 00 01 00 00 00'), 0, 5);
    expect(decodeFrame(r)).toEqual({ type: 'padding', length: 2 });
    expect(decodeFrame(r)).toEqual({ type: 'ping' });
    expect(decodeFrame(r)).toEqual({ type: 'padding', length: 2 });
    expect(r.pos).toBe(5);
  });
});

describe('frame decode errors', () => {
  const bad: [string, string, string][] = [
    ['unknown type 04', '04', 'WIRE_UNKNOWN_FRAME'],
    ['unknown type ff', 'ff 00', 'WIRE_UNKNOWN_FRAME'],
    ['empty input', '', 'WIRE_TRUNCATED'],
    ['ack first range below 0', '02 00 05 00 00 06', 'WIRE_BAD_FRAME'],
    ['ack gap below 0', '02 00 05 00 01 00 04 00', 'WIRE_BAD_FRAME'],
    ['ack range length below 0', '02 00 0a 00 01 00 00 09', 'WIRE_BAD_FRAME'],
    ['ack 257 ranges', '02 00 05 00 4101 00', 'WIRE_BAD_FRAME'],
    ['ack truncated ranges', '02 00 3f 00 02 00 01 01', 'WIRE_TRUNCATED'],
    ['ack huge largest', '02 00 c020000000000000 00 00 00', 'WIRE_VARINT_RANGE'],
    ['data past MAX_SAFE_INTEGER', '08 c01fffffffffffff 01 00', 'WIRE_BAD_FRAME'],
    ['data truncated', '08 00 05 6865', 'WIRE_TRUNCATED'],
    ['data huge length', '08 00 bfffffff 00', 'WIRE_TRUNCATED'],
    ['path_challenge truncated', '11 03 1122', 'WIRE_TRUNCATED'],
    ['path_status 2', '13 00 00 02', 'WIRE_BAD_FRAME'],
    ['add_address reserved flag', '15 01 00 04 c0a8010a 1151', 'WIRE_BAD_FRAME'],
    ['add_address truncated v6', '15 01 00 02 c0a8010a 1151', 'WIRE_TRUNCATED'],
    ['remove_address truncated', '16 01', 'WIRE_TRUNCATED'],
    ['close bad utf8', '1c 00 01 ff', 'WIRE_BAD_FRAME'],
    ['close lone surrogate in utf8', '1c 00 03 eda080', 'WIRE_BAD_FRAME'],
    ['close overlong utf8', '1c 00 02 c0af', 'WIRE_BAD_FRAME'],
    ['close reason 1025 bytes', '1c 00 4401', 'WIRE_BAD_FRAME'],
    ['hello cookie 256', `30 02 01 0102030405060708 ${seqHex(0x20, 32)} ${seqHex(0x40, 16)} 00 00 00 00 4100`, 'WIRE_BAD_FRAME'],
    ['hello truncated', `30 02 01 0102030405060708 ${seqHex(0x20, 31)}`, 'WIRE_TRUNCATED'],
    ['identity short', `33 ${seqHex(0, 31)}`, 'WIRE_TRUNCATED'],
    ['finished short', `31 ${seqHex(0, 31)}`, 'WIRE_TRUNCATED'],
    ['retry empty cookie', '32 00', 'WIRE_BAD_FRAME'],
    ['retry cookie 256', '32 4100', 'WIRE_BAD_FRAME'],
  ];
  it.each(bad)('%s', (_name, h, code) => {
    expect(codeOf(() => decodeFrame(new Reader(hex(h))))).toBe(code);
  });

  it('accepts a close reason of exactly 1024 bytes and an ack of 257 ranges', () => {
    const reason = new Uint8Array(1024).fill(0x61);
    const f = decodeFrame(new Reader(new Uint8Array([0x1c, 0x00, 0x44, 0x00, ...reason])));
    expect(f.type === 'close' && f.reason.length).toBe(1024);
    // largest 600, first range 0, then 256 x (gap 0, len 0): 600, 598, ..., 88
    const body = [0x02, 0x00, 0x42, 0x58, 0x00, 0x41, 0x00, 0x00];
    for (let i = 0; i < 256; i++) body.push(0, 0);
    const ack = decodeFrame(new Reader(Uint8Array.from(body)));
    expect(ack.type === 'ack' && ack.ranges.length).toBe(257);
    expect(ack.type === 'ack' && ack.ranges[256]).toEqual({ smallest: 88, largest: 88 });
  });
});

describe('frame encode validation', () => {
  const b8 = new Uint8Array(8);
  const bad: [string, Frame, string][] = [
    ['padding 0', { type: 'padding', length: 0 }, 'WIRE_BAD_VALUE'],
    ['ack no ranges', { type: 'ack', pathId: 0, ackDelay: 0, ranges: [] }, 'WIRE_BAD_VALUE'],
    ['ack smallest > largest', { type: 'ack', pathId: 0, ackDelay: 0, ranges: [{ smallest: 3, largest: 2 }] }, 'WIRE_BAD_VALUE'],
    [
      'ack adjacent ranges',
      { type: 'ack', pathId: 0, ackDelay: 0, ranges: [{ smallest: 5, largest: 6 }, { smallest: 2, largest: 4 }] },
      'WIRE_BAD_VALUE',
    ],
    [
      'ack ascending ranges',
      { type: 'ack', pathId: 0, ackDelay: 0, ranges: [{ smallest: 1, largest: 1 }, { smallest: 5, largest: 6 }] },
      'WIRE_BAD_VALUE',
    ],
    [
      'ack 258 ranges',
      {
        type: 'ack',
        pathId: 0,
        ackDelay: 0,
        ranges: Array.from({ length: 258 }, (_, i) => ({ smallest: 1000 - 2 * i, largest: 1000 - 2 * i })),
      },
      'WIRE_BAD_VALUE',
    ],
    ['ack negative delay', { type: 'ack', pathId: 0, ackDelay: -1, ranges: [{ smallest: 0, largest: 0 }] }, 'WIRE_VARINT_RANGE'],
    ['data_ack fraction', { type: 'data_ack', cumulative: 0.5, maxData: 0 }, 'WIRE_VARINT_RANGE'],
    ['data past MAX_SAFE', { type: 'data', offset: Number.MAX_SAFE_INTEGER, fin: false, data: b8 }, 'WIRE_BAD_VALUE'],
    ['path_join negative id', { type: 'path_join', pathId: -1 }, 'WIRE_VARINT_RANGE'],
    ['path_challenge data 9', { type: 'path_challenge', pathId: 0, data: new Uint8Array(9) }, 'WIRE_BAD_VALUE'],
    ['path_response data 9', { type: 'path_response', pathId: 0, data: new Uint8Array(9) }, 'WIRE_BAD_VALUE'],
    ['add_address port', { type: 'add_address', addressId: 0, seq: 0, address: '1.2.3.4', port: 65536, backup: false }, 'WIRE_BAD_VALUE'],
    ['add_address address', { type: 'add_address', addressId: 0, seq: 0, address: '1.2.3', port: 1, backup: false }, 'WIRE_BAD_VALUE'],
    ['remove_address seq', { type: 'remove_address', addressId: 0, seq: -1 }, 'WIRE_VARINT_RANGE'],
    ['close 1025 bytes', { type: 'close', errorCode: 0, reason: 'a'.repeat(1025) }, 'WIRE_BAD_VALUE'],
    ['close 513 two-byte chars', { type: 'close', errorCode: 0, reason: 'é'.repeat(513) }, 'WIRE_BAD_VALUE'],
    ['close lone surrogate', { type: 'close', errorCode: 0, reason: 'a\ud800b' }, 'WIRE_BAD_VALUE'],
    [
      'hello publicKey 31',
      {
        type: 'hello',
        version: 2,
        cipher: 1,
        cid: b8,
        publicKey: new Uint8Array(31),
        nonce: mac16,
        params: { initialMaxData: 0, maxPaths: 0, idleTimeoutMs: 0, maxDatagramSize: 0 },
        cookie: new Uint8Array(0),
      },
      'WIRE_BAD_VALUE',
    ],
    [
      'hello cookie 256',
      {
        type: 'hello',
        version: 2,
        cipher: 1,
        cid: b8,
        publicKey: new Uint8Array(32),
        nonce: mac16,
        params: { initialMaxData: 0, maxPaths: 0, idleTimeoutMs: 0, maxDatagramSize: 0 },
        cookie: new Uint8Array(256),
      },
      'WIRE_BAD_VALUE',
    ],
    ['finished mac 16', { type: 'finished', mac: mac16 }, 'WIRE_BAD_VALUE'],
    ['identity key 31', { type: 'identity', staticKey: new Uint8Array(31) }, 'WIRE_BAD_VALUE'],
    ['reset_token 8', { type: 'reset_token', token: b8 }, 'WIRE_BAD_VALUE'],
    ['retry empty', { type: 'retry', cookie: new Uint8Array(0) }, 'WIRE_BAD_VALUE'],
    ['unknown type', { type: 'nope' } as unknown as Frame, 'WIRE_BAD_VALUE'],
  ];
  it.each(bad)('%s', (_name, frame, code) => {
    const buf = new Uint8Array(2048);
    expect(codeOf(() => frameLength(frame))).toBe(code);
    expect(codeOf(() => encodeFrame(frame, buf, 0))).toBe(code);
    expect(buf.every((x) => x === 0)).toBe(true);
  });

  it('accepts the limits exactly', () => {
    expect(frameLength({ type: 'close', errorCode: 0, reason: 'é'.repeat(512) })).toBe(1 + 1 + 2 + 1024);
    expect(frameLength({ type: 'close', errorCode: 0, reason: '😀'.repeat(256) })).toBe(1 + 1 + 2 + 1024);
    expect(frameLength({ type: 'retry', cookie: new Uint8Array(255) })).toBe(1 + 2 + 255);
  });

  it('refuses a buffer too small without writing', () => {
    const frame: Frame = { type: 'path_challenge', pathId: 0, data: new Uint8Array(8).fill(1) };
    const buf = new Uint8Array(10);
    expect(codeOf(() => encodeFrame(frame, buf, 2))).toBe('WIRE_BUFFER_TOO_SMALL');
    expect(buf.every((x) => x === 0)).toBe(true);
    expect(encodeFrame(frame, buf, 0)).toBe(10);
  });
});

describe('hot-path helpers', () => {
  it('writeDataFrameHeader + copy equals encodeFrame', () => {
    const data = seq(0, 300);
    const offset = 123456;
    const expected = new Uint8Array(frameLength({ type: 'data', offset, fin: true, data }));
    encodeFrame({ type: 'data', offset, fin: true, data }, expected, 0);
    // 09, offset 0x01e240 (8001e240), length 300 = 0x12c (412c)
    expect(toHex(expected.subarray(0, 7))).toBe('098001e240412c');
    const buf = new Uint8Array(expected.length);
    const hl = dataFrameHeaderLength(offset, data.length);
    expect(hl).toBe(7);
    const p = writeDataFrameHeader(buf, 0, offset, data.length, true);
    expect(p).toBe(hl);
    buf.set(data, p);
    expect(toHex(buf)).toBe(toHex(expected));
  });

  it('writeDataFrameHeader checks room for the bytes too', () => {
    const buf = new Uint8Array(10);
    expect(codeOf(() => writeDataFrameHeader(buf, 0, 0, 8, false))).toBe('WIRE_BUFFER_TOO_SMALL');
    expect(writeDataFrameHeader(buf, 0, 0, 7, false)).toBe(3);
    expect(codeOf(() => dataFrameHeaderLength(-1, 0))).toBe('WIRE_VARINT_RANGE');
    expect(codeOf(() => dataFrameHeaderLength(Number.MAX_SAFE_INTEGER, 1))).toBe('WIRE_BAD_VALUE');
  });

  it('writeDataAckFrame and dataAckFrameLength equal encodeFrame and frameLength, at every varint size', () => {
    for (const [cumulative, maxData] of [
      [0, 0],
      [63, 64],
      [16383, 16384],
      [1_073_741_823, 1_073_741_824],
      [2 ** 40, Number.MAX_SAFE_INTEGER],
    ] as const) {
      const frame: Frame = { type: 'data_ack', cumulative, maxData };
      const expected = new Uint8Array(frameLength(frame) + 2);
      const end = encodeFrame(frame, expected, 1);
      expect(dataAckFrameLength(cumulative, maxData)).toBe(frameLength(frame));
      const buf = new Uint8Array(expected.length);
      expect(writeDataAckFrame(buf, 1, cumulative, maxData)).toBe(end);
      expect(toHex(buf)).toBe(toHex(expected));
      expect(decodeFrame(new Reader(buf, 1, end))).toEqual(frame);
    }
  });

  it('ackFrameLength equals frameLength', () => {
    const ranges = [
      { smallest: 95, largest: 100 },
      { smallest: 80, largest: 90 },
    ];
    expect(ackFrameLength(1, 1000, ranges)).toBe(frameLength({ type: 'ack', pathId: 1, ackDelay: 1000, ranges }));
    // 02, pathId, largest 4064, delay 43e8, count, first, gap, len
    expect(ackFrameLength(1, 1000, ranges)).toBe(10);
  });
});
