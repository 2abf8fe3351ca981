/**
 * Property tests of the wire codecs, driven by the seeded Rng: random frames
 * and packets round-trip with exact lengths, and decoders are total on
 * random and mutated input. Set WIRE_SEED to replay another seed.
 */
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../lab/random.js';
import { encodeFrame, frameLength } from '../../src/wire/frames.js';
import { decodeFrame } from '../../src/wire/frame-decode.js';
import { Scan, readFrameInPlace, scanFrames } from '../../src/wire/frame-reader.js';
import { formatIpv4, formatIpv6 } from '../../src/wire/ip.js';
import { decodePacket, encodePacket } from '../../src/wire/packet.js';
import { Reader } from '../../src/wire/varint.js';
import { WireError } from '../../src/wire/errors.js';
import type { WireErrorCode } from '../../src/wire/errors.js';
import { PacketType, type AckRange, type Frame, type FrameKind, type PacketHeader } from '../../src/wire/types.js';

const SEED = Number(process.env.WIRE_SEED ?? 0x5eed1);
const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

const DECODE_CODES: ReadonlySet<WireErrorCode> = new Set([
  'WIRE_TRUNCATED',
  'WIRE_VARINT_RANGE',
  'WIRE_BAD_HEADER',
  'WIRE_UNKNOWN_FRAME',
  'WIRE_BAD_FRAME',
  'WIRE_EMPTY_PACKET',
]);

const BOUNDARIES = [0, 63, 64, 16383, 16384, 2 ** 30 - 1, 2 ** 30, 2 ** 32, Number.MAX_SAFE_INTEGER];

/** A varint value, spread over all four encoding lengths and the boundaries. */
function rVarint(rng: Rng): number {
  switch (rng.int(0, 5)) {
    case 0:
      return rng.int(0, 63);
    case 1:
      return rng.int(0, 16383);
    case 2:
      return rng.int(0, 2 ** 30 - 1);
    case 3:
      return rng.int(0, 0x1fffff) * 2 ** 32 + rng.nextUint32();
    case 4:
      return rng.pick(BOUNDARIES);
    default:
      return rng.int(0, 300);
  }
}

/** Valid ACK ranges: descending, separated by at least one missing number, none below 0. */
function rRanges(rng: Rng): AckRange[] {
  const many = rng.chance(0.03);
  const want = many ? 257 : rng.int(1, 12);
  let cur = many ? rng.int(10_000, 2 ** 30) : rng.chance(0.2) ? rng.int(0, 3) : rVarint(rng);
  const ranges: AckRange[] = [];
  while (ranges.length < want) {
    const len = rng.int(0, Math.min(cur, rng.chance(0.8) ? 3 : 100_000));
    const smallest = cur - len;
    ranges.push({ smallest, largest: cur });
    if (smallest < 2) break;
    const gap = rng.int(0, Math.min(smallest - 2, rng.chance(0.8) ? 5 : 2 ** 40));
    cur = smallest - gap - 2;
  }
  return ranges;
}

/** Canonical IPv4 or IPv6 text, with zero runs of every length. */
function rAddress(rng: Rng): string {
  if (rng.chance(0.4)) return formatIpv4(rng.bytes(4));
  const b = rng.bytes(16);
  if (rng.chance(0.1)) {
    b.fill(0, 0, 10);
    b[10] = 0xff;
    b[11] = 0xff;
  } else {
    for (let g = 0; g < 8; g++) if (rng.chance(0.4)) b[2 * g] = b[2 * g + 1] = 0;
  }
  return formatIpv6(b);
}

/** A well-formed string of at most 1024 UTF-8 bytes, mixing 1- to 4-byte characters. */
function rReason(rng: Rng): string {
  const budget = rng.chance(0.1) ? 1024 : rng.int(0, 40);
  let out = rng.chance(0.05) ? '\ufeff' : '';
  let bytes = out.length * 3;
  for (;;) {
    let cp: number;
    let n: number;
    switch (rng.int(0, 3)) {
      case 0:
        [cp, n] = [rng.int(0, 0x7f), 1];
        break;
      case 1:
        [cp, n] = [rng.int(0x80, 0x7ff), 2];
        break;
      case 2:
        cp = rng.int(0x800, 0xfffd - 0x800);
        if (cp >= 0xd800) cp += 0x800; // skip surrogates
        n = 3;
        break;
      default:
        [cp, n] = [rng.int(0x10000, 0x10ffff), 4];
    }
    if (bytes + n > budget) return out;
    out += String.fromCodePoint(cp);
    bytes += n;
  }
}

const KINDS: FrameKind[] = [
  'padding',
  'ping',
  'ack',
  'data_ack',
  'data',
  'path_join',
  'path_challenge',
  'path_response',
  'path_status',
  'path_abandon',
  'add_address',
  'remove_address',
  'close',
  'hello',
  'finished',
  'identity',
  'reset_token',
  'retry',
];

function rFrame(rng: Rng, kind: FrameKind): Frame {
  switch (kind) {
    case 'padding':
      return { type: 'padding', length: rng.chance(0.5) ? rng.int(1, 4) : rng.int(1, 1500) };
    case 'ping':
      return { type: 'ping' };
    case 'ack':
      return { type: 'ack', pathId: rVarint(rng), ackDelay: rVarint(rng), ranges: rRanges(rng) };
    case 'data_ack':
      return { type: 'data_ack', cumulative: rVarint(rng), maxData: rVarint(rng) };
    case 'data': {
      const data = rng.bytes(rng.chance(0.1) ? 0 : rng.int(0, rng.chance(0.8) ? 20 : 1400));
      const offset = Math.min(rVarint(rng), Number.MAX_SAFE_INTEGER - data.length);
      return { type: 'data', offset, fin: rng.chance(0.5), data };
    }
    case 'path_join':
      return { type: 'path_join', pathId: rVarint(rng) };
    case 'path_challenge':
      return { type: 'path_challenge', pathId: rVarint(rng), data: rng.bytes(8) };
    case 'path_response':
      return { type: 'path_response', pathId: rVarint(rng), data: rng.bytes(8) };
    case 'path_status':
      return { type: 'path_status', pathId: rVarint(rng), seq: rVarint(rng), backup: rng.chance(0.5) };
    case 'path_abandon':
      return { type: 'path_abandon', pathId: rVarint(rng), errorCode: rVarint(rng) };
    case 'add_address':
      return {
        type: 'add_address',
        addressId: rVarint(rng),
        seq: rVarint(rng),
        address: rAddress(rng),
        port: rng.int(0, 65535),
        backup: rng.chance(0.5),
      };
    case 'remove_address':
      return { type: 'remove_address', addressId: rVarint(rng), seq: rVarint(rng) };
    case 'close':
      return { type: 'close', errorCode: rVarint(rng), reason: rReason(rng) };
    case 'hello':
      return {
        type: 'hello',
        version: rVarint(rng),
        cipher: rVarint(rng),
        cid: rng.bytes(8),
        publicKey: rng.bytes(32),
        nonce: rng.bytes(16),
        params: {
          initialMaxData: rVarint(rng),
          maxPaths: rVarint(rng),
          idleTimeoutMs: rVarint(rng),
          maxDatagramSize: rVarint(rng),
        },
        cookie: rng.bytes(rng.chance(0.3) ? 0 : rng.int(0, 255)),
      };
    case 'finished':
      return { type: 'finished', mac: rng.bytes(32) };
    case 'identity':
      return { type: 'identity', staticKey: rng.bytes(32) };
    case 'reset_token':
      return { type: 'reset_token', token: rng.bytes(16) };
    case 'retry':
      return { type: 'retry', cookie: rng.bytes(rng.int(1, 255)) };
  }
}

function rHeader(rng: Rng): PacketHeader {
  const type = rng.int(0, 3) as PacketType;
  return { type, dcid: rng.bytes(8), pathId: rVarint(rng), packetNumber: rVarint(rng), keyPhase: type === PacketType.Short && rng.chance(0.5) };
}

/** Frames as a decoder sees them: adjacent PADDING frames merge into one. */
function mergePadding(frames: Frame[]): Frame[] {
  const out: Frame[] = [];
  for (const f of frames) {
    const last = out[out.length - 1];
    if (f.type === 'padding' && last?.type === 'padding') out[out.length - 1] = { type: 'padding', length: last.length + f.length };
    else out.push(f);
  }
  return out;
}

function rPacket(rng: Rng): { header: PacketHeader; frames: Frame[] } {
  const n = rng.int(1, 6);
  const frames: Frame[] = [];
  for (let i = 0; i < n; i++) frames.push(rFrame(rng, rng.pick(KINDS)));
  return { header: rHeader(rng), frames };
}

/**
 * Decodes `bytes`; returns the packet or null on a WireError with a decode
 * code (recorded in `seen`), fails on anything else.
 */
function tryDecodePacket(
  bytes: Uint8Array,
  context: string,
  seen?: Set<WireErrorCode>,
): ReturnType<typeof decodePacket> | null {
  try {
    return decodePacket(bytes);
  } catch (e) {
    if (e instanceof WireError && DECODE_CODES.has(e.code)) {
      seen?.add(e.code);
      return null;
    }
    throw new Error(`${context}: decodePacket threw ${String(e)} on ${toHex(bytes)}`);
  }
}

/** Decodes frames from `bytes` until the end or a WireError; fails on anything else. */
function tryDecodeFrames(bytes: Uint8Array, context: string): void {
  const r = new Reader(bytes);
  try {
    while (r.remaining > 0) {
      const before = r.pos;
      decodeFrame(r);
      if (r.pos <= before || r.pos > r.end) throw new Error(`reader did not advance correctly (${before} -> ${r.pos})`);
    }
  } catch (e) {
    if (e instanceof WireError && DECODE_CODES.has(e.code)) return;
    throw new Error(`${context}: decodeFrame threw ${String(e)} on ${toHex(bytes)}`);
  }
}

/** Decoded values must always be encodable again, to the same value. */
function checkStable(p: ReturnType<typeof decodePacket>, context: string): void {
  let again: ReturnType<typeof decodePacket>;
  try {
    again = decodePacket(encodePacket(p.header, p.frames));
  } catch (e) {
    throw new Error(`${context}: re-encoding a decoded packet threw ${String(e)}`);
  }
  if (!isDeepStrictEqual(again, p)) throw new Error(`${context}: re-encoded packet decodes differently`);
}


/** The bulk path's frame kinds, which wire/frame-reader.ts reads in place. */
const HOT: FrameKind[] = ['padding', 'ping', 'ack', 'data_ack', 'data'];

/** A frame as it stands now (the in-place reader's scratch is overwritten by the next frame). */
function copyFrame(f: Frame): Frame {
  return f.type === 'ack' ? { ...f, ranges: f.ranges.map((r) => ({ ...r })) } : { ...f };
}

/** decodeFrame to the end: the frames, or the first error (code and message). */
function decodeAll(bytes: Uint8Array): { frames: Frame[]; error: string | null } {
  const r = new Reader(bytes);
  const frames: Frame[] = [];
  try {
    while (r.remaining > 0) frames.push(decodeFrame(r));
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    return { frames, error: `${e.code} ${e.message}` };
  }
  return { frames, error: null };
}

/**
 * The two passes of receive.ts over `bytes`, checked against decodeFrame:
 * the scan throws exactly what decodeFrame throws first; without another
 * kind of frame it finds the same frames, and says which elicit an ACK;
 * with one, it stops at that frame, after the same frames.
 */
function checkInPlace(bytes: Uint8Array, context: string): void {
  const generic = decodeAll(bytes);
  const r = new Reader(bytes);
  let kinds: number;
  try {
    kinds = scanFrames(r);
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    expect(`${e.code} ${e.message}`, context).toBe(generic.error);
    return;
  }
  const stop = r.pos;
  r.pos = 0;
  const frames: Frame[] = [];
  while (r.pos < stop) frames.push(copyFrame(readFrameInPlace(r)!));
  expect(r.pos, context).toBe(stop);
  if ((kinds & Scan.Other) === 0) {
    expect(generic.error, context).toBeNull();
    if (!isDeepStrictEqual(frames, generic.frames)) expect(frames, context).toEqual(generic.frames);
  } else {
    expect(readFrameInPlace(r), context).toBeNull();
    if (!isDeepStrictEqual(frames, generic.frames.slice(0, frames.length))) expect(frames, context).toEqual(generic.frames.slice(0, frames.length));
    if (generic.frames.length > frames.length) expect(HOT, context).not.toContain(generic.frames[frames.length]!.type);
  }
  const eliciting = frames.some((f) => f.type === 'ping' || f.type === 'data');
  expect((kinds & Scan.AckEliciting) !== 0, context).toBe(eliciting);
  expect((kinds & Scan.Data) !== 0, context).toBe(frames.some((f) => f.type === 'data'));
}

describe(`wire properties (seed ${SEED})`, () => {
  it.each(KINDS.map((k, i) => [k, i] as const))('5000 random %s frames round-trip with exact lengths', (kind, i) => {
    const seed = SEED + i;
    const rng = new Rng(seed);
    for (let n = 0; n < 5000; n++) {
      const frame = rFrame(rng, kind);
      const context = `seed ${seed}, ${kind} #${n}`;
      const len = frameLength(frame);
      const buf = new Uint8Array(len + 2).fill(0xee);
      const end = encodeFrame(frame, buf, 1);
      if (end !== 1 + len) throw new Error(`${context}: frameLength ${len} but wrote ${end - 1}`);
      if (buf[0] !== 0xee || buf[len + 1] !== 0xee) throw new Error(`${context}: wrote outside its bytes`);
      const r = new Reader(buf, 1, 1 + len);
      const back = decodeFrame(r);
      if (r.pos !== end) throw new Error(`${context}: decode consumed ${r.pos - 1} of ${len} bytes`);
      if (!isDeepStrictEqual(back, frame)) {
        expect(back, `${context}: ${toHex(buf.subarray(1, end))}`).toEqual(frame);
      }
    }
  });

  it('2000 random packets round-trip', () => {
    const seed = SEED + 100;
    const rng = new Rng(seed);
    for (let n = 0; n < 2000; n++) {
      const p = rPacket(rng);
      const bytes = encodePacket(p.header, p.frames);
      const context = `seed ${seed}, packet #${n}`;
      const back = decodePacket(bytes);
      const expected = { header: p.header, frames: mergePadding(p.frames) };
      if (!isDeepStrictEqual(back, expected)) expect(back, `${context}: ${toHex(bytes)}`).toEqual(expected);
    }
  });

  it('20000 random byte strings decode or throw a WireError', () => {
    const seed = SEED + 200;
    const rng = new Rng(seed);
    let decoded = 0;
    const seen = new Set<WireErrorCode>();
    for (let n = 0; n < 20000; n++) {
      const bytes = rng.bytes(rng.int(0, 80));
      // Half start with a valid header byte so the frame decoders are reached,
      // some with a known frame type right after a short header.
      if (bytes.length > 0 && rng.chance(0.5)) bytes[0] = 0x40 | rng.int(0, 3);
      if (bytes.length > 11 && rng.chance(0.5)) {
        bytes[9] = rng.int(0, 63);
        bytes[10] = rng.int(0, 63);
        bytes[11] = rng.pick([0, 1, 2, 3, 8, 9, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x1c, 0x30, 0x31, 0x32]);
      }
      const context = `seed ${seed}, string #${n}`;
      const p = tryDecodePacket(bytes, context, seen);
      if (p !== null) {
        decoded++;
        checkStable(p, context);
      }
      tryDecodeFrames(bytes, context);
    }
    // The generator must reach the frame decoders, not only fail headers:
    // every decode error occurs, and some strings decode.
    expect([...seen].sort(), `seed ${seed}`).toEqual([...DECODE_CODES].sort());
    expect(decoded, `seed ${seed}`).toBeGreaterThan(10);
  });

  it('5000 mutated valid packets decode or throw a WireError', () => {
    const seed = SEED + 300;
    const rng = new Rng(seed);
    const INTERESTING = [0x00, 0xff, 0x3f, 0x40, 0x7f, 0x80, 0xbf, 0xc0];
    for (let n = 0; n < 5000; n++) {
      const p = rPacket(rng);
      const valid = encodePacket(p.header, p.frames);
      let bytes: Uint8Array;
      const how = rng.int(0, 4);
      if (how === 0) {
        bytes = valid.subarray(0, rng.int(0, valid.length - 1));
      } else if (how === 1) {
        bytes = valid.slice();
        for (let k = rng.int(1, 4); k > 0; k--) bytes[rng.int(0, bytes.length - 1)]! ^= 1 << rng.int(0, 7);
      } else if (how === 2) {
        bytes = valid.slice();
        bytes[rng.int(0, bytes.length - 1)] = rng.pick(INTERESTING);
      } else if (how === 3) {
        const at = rng.int(0, valid.length);
        bytes = new Uint8Array(valid.length + 1);
        bytes.set(valid.subarray(0, at));
        bytes[at] = rng.nextUint32() & 0xff;
        bytes.set(valid.subarray(at), at + 1);
      } else {
        const at = rng.int(0, valid.length - 1);
        bytes = new Uint8Array(valid.length - 1);
        bytes.set(valid.subarray(0, at));
        bytes.set(valid.subarray(at + 1), at);
      }
      const context = `seed ${seed}, mutant #${n} (mutation ${how})`;
      const back = tryDecodePacket(bytes, context);
      if (back !== null) checkStable(back, context);
      tryDecodeFrames(bytes.subarray(Math.min(bytes.length, 11)), context);
    }
  });
  it('the in-place reader agrees with decodeFrame on 5000 frame runs, valid and mutated', () => {
    const seed = SEED + 400;
    const rng = new Rng(seed);
    for (let n = 0; n < 5000; n++) {
      const frames: Frame[] = [];
      for (let i = rng.int(1, 6); i > 0; i--) frames.push(rFrame(rng, rng.chance(0.9) ? rng.pick(HOT) : rng.pick(KINDS)));
      const valid = new Uint8Array(frames.reduce((a, f) => a + frameLength(f), 0));
      frames.reduce((pos, f) => encodeFrame(f, valid, pos), 0);
      let bytes = valid;
      const how = rng.int(0, 3);
      if (how === 1) bytes = valid.subarray(0, rng.int(0, valid.length - 1));
      else if (how === 2) {
        bytes = valid.slice();
        for (let k = rng.int(1, 3); k > 0; k--) bytes[rng.int(0, bytes.length - 1)]! ^= 1 << rng.int(0, 7);
      }
      checkInPlace(bytes, `seed ${seed}, run #${n} (mutation ${how})`);
    }
  });

});
