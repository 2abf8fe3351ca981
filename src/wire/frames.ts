/**
 * Frame types, limits and encoders (decoders: frame-decode.ts). Every
 * frame starts with a one-byte type; integers are QUIC varints unless
 * noted. Layouts are in docs/protocol.md.
 *
 * Encoding is two passes over the frame: `frameSize` validates every field
 * and returns the exact length, then `writeFrame` writes without checks.
 * Nothing is written unless the whole frame fits, and nothing is allocated.
 */
import { WireError } from './errors.js';
import { ipByteLength, parseIpInto } from './ip.js';
import { CID_LENGTH } from './types.js';
import type { AckRange, Frame } from './types.js';
import { checkOffset, putVarint, varintLength } from './varint.js';

/** Frame type bytes. */
export const FrameType = {
  Padding: 0x00,
  Ping: 0x01,
  Ack: 0x02,
  DataAck: 0x03,
  Data: 0x08,
  DataFin: 0x09,
  PathJoin: 0x10,
  PathChallenge: 0x11,
  PathResponse: 0x12,
  PathStatus: 0x13,
  PathAbandon: 0x14,
  AddAddress: 0x15,
  RemoveAddress: 0x16,
  ResetToken: 0x17,
  Close: 0x1c,
  Hello: 0x30,
  Finished: 0x31,
  Retry: 0x32,
  Identity: 0x33,
} as const;

/** X25519 public key in HELLO. */
export const PUBLIC_KEY_LENGTH = 32;
/** Random nonce in HELLO. */
export const HELLO_NONCE_LENGTH = 16;
/** PATH_CHALLENGE / PATH_RESPONSE data. */
export const CHALLENGE_LENGTH = 8;
/** Full HMAC-SHA256 in FINISHED. */
export const FINISHED_MAC_LENGTH = 32;
/** X25519 public key in IDENTITY. */
export const STATIC_KEY_LENGTH = 32;
/** Stateless reset token in RESET_TOKEN (and at the end of a stateless reset). */
export const RESET_TOKEN_LENGTH = 16;
/** Most UTF-8 bytes in a CLOSE reason. */
export const MAX_REASON_LENGTH = 1024;
/** Most bytes in a retry cookie (HELLO, RETRY). */
export const MAX_COOKIE_LENGTH = 255;
/** Most ACK ranges after the first one (the ACK's Range Count field). */
export const MAX_ACK_RANGE_COUNT = 256;

const utf8Encoder = new TextEncoder();

function badValue(message: string): never {
  throw new WireError('WIRE_BAD_VALUE', message);
}

/** Throws unless `v` is a Uint8Array of exactly `len` bytes. */
function checkFixed(v: unknown, len: number, name: string): void {
  if (!(v instanceof Uint8Array) || v.length !== len) badValue(`${name} must be ${len} bytes`);
}

function checkBool(v: unknown, name: string): void {
  if (typeof v !== 'boolean') badValue(`${name} must be a boolean`);
}

/** Length of a cookie field (varint length + bytes), validating min..MAX_COOKIE_LENGTH. */
function cookieSize(cookie: unknown, min: number): number {
  if (!(cookie instanceof Uint8Array) || cookie.length < min || cookie.length > MAX_COOKIE_LENGTH) {
    badValue(`cookie must be ${min}..${MAX_COOKIE_LENGTH} bytes`);
  }
  return varintLength(cookie.length) + cookie.length;
}

/**
 * UTF-8 length of `s`; refuses lone surrogates (they would not round-trip)
 * and anything longer than MAX_REASON_LENGTH bytes.
 */
function reasonLength(s: unknown): number {
  if (typeof s !== 'string') badValue('reason must be a string');
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) badValue('reason has a lone surrogate');
      n += 4;
      i++;
    } else if (c >= 0xdc00 && c <= 0xdfff) badValue('reason has a lone surrogate');
    else n += 3;
    if (n > MAX_REASON_LENGTH) badValue(`reason longer than ${MAX_REASON_LENGTH} UTF-8 bytes`);
  }
  return n;
}

function checkRange(r: AckRange): void {
  if (
    r === null ||
    typeof r !== 'object' ||
    !Number.isSafeInteger(r.smallest) ||
    !Number.isSafeInteger(r.largest) ||
    r.smallest < 0 ||
    r.smallest > r.largest
  ) {
    badValue('ack range must have 0 <= smallest <= largest (safe integers)');
  }
}

/**
 * Exact length of an ACK frame, validating it: 1..MAX_ACK_RANGE_COUNT+1
 * ranges, descending, with at least one unacknowledged number between two
 * ranges (RFC 9000 §19.3.1: gap = previous smallest - current largest - 2 >= 0).
 */
export function ackFrameLength(pathId: number, ackDelay: number, ranges: readonly AckRange[]): number {
  if (!Array.isArray(ranges) || ranges.length < 1 || ranges.length > MAX_ACK_RANGE_COUNT + 1) {
    badValue(`ack needs 1..${MAX_ACK_RANGE_COUNT + 1} ranges`);
  }
  const first = ranges[0]!;
  checkRange(first);
  let n =
    1 +
    varintLength(pathId) +
    varintLength(first.largest) +
    varintLength(ackDelay) +
    varintLength(ranges.length - 1) +
    varintLength(first.largest - first.smallest);
  let prevSmallest = first.smallest;
  for (let i = 1; i < ranges.length; i++) {
    const r = ranges[i]!;
    checkRange(r);
    const gap = prevSmallest - r.largest - 2;
    if (gap < 0) badValue('ack ranges must be descending and separated by a gap');
    n += varintLength(gap) + varintLength(r.largest - r.smallest);
    prevSmallest = r.smallest;
  }
  return n;
}

/** Length of a DATA frame's header (type, offset, length) before its `length` bytes. */
export function dataFrameHeaderLength(offset: number, length: number): number {
  const n = 1 + varintLength(offset) + varintLength(length);
  if (offset + length > Number.MAX_SAFE_INTEGER) badValue('data offset + length exceeds MAX_SAFE_INTEGER');
  return n;
}

/**
 * Writes a DATA frame header at `pos`; the caller then copies exactly
 * `length` stream bytes at the returned position. Checks that the header and
 * the bytes both fit in `buf`.
 */
export function writeDataFrameHeader(buf: Uint8Array, pos: number, offset: number, length: number, fin: boolean): number {
  const n = dataFrameHeaderLength(offset, length);
  checkBool(fin, 'fin');
  checkOffset(buf, pos);
  if (pos + n + length > buf.length) {
    throw new WireError('WIRE_BUFFER_TOO_SMALL', `data frame needs ${n + length} bytes at ${pos}, buffer is ${buf.length}`);
  }
  buf[pos] = fin ? FrameType.DataFin : FrameType.Data;
  return putVarint(buf, putVarint(buf, pos + 1, offset), length);
}

/** Bytes of a DATA_ACK frame (frameLength() of one, and the hot path's, without a frame object). */
export function dataAckFrameLength(cumulative: number, maxData: number): number {
  return 1 + varintLength(cumulative) + varintLength(maxData);
}

/**
 * Writes a DATA_ACK frame at `pos` (encodeFrame's, and the hot path's
 * without a frame object); the caller made room (dataAckFrameLength).
 * Returns the position after it.
 */
export function writeDataAckFrame(buf: Uint8Array, pos: number, cumulative: number, maxData: number): number {
  buf[pos] = FrameType.DataAck;
  return putVarint(buf, putVarint(buf, pos + 1, cumulative), maxData);
}

/** The PING frame: it has no fields, so one object serves every packet (never written). */
export const PING_FRAME: Frame = Object.freeze({ type: 'ping' as const });

/**
 * Does a frame of this type make its packet ack-eliciting? "Ack-eliciting
 * packet: A packet that contains frames other than ACK, PADDING, and
 * CONNECTION_CLOSE" (RFC 9000 §2); here DATA_ACK is not either, since it
 * rides on every ACK. The one rule for both ends: the sender tracks a
 * packet as ack-eliciting exactly when the receiver will acknowledge it as
 * such (a window update marked ack-eliciting by its sender alone went
 * unacknowledged).
 */
export function isAckElicitingFrame(type: Frame['type']): boolean {
  return type !== 'ack' && type !== 'padding' && type !== 'data_ack' && type !== 'close';
}

/** Validates `frame` and returns exactly the number of bytes encodeFrame writes. */
export function frameLength(frame: Frame): number {
  if (frame === null || typeof frame !== 'object') badValue('frame is not an object');
  switch (frame.type) {
    case 'padding':
      if (!Number.isSafeInteger(frame.length) || frame.length < 1) badValue('padding length must be >= 1');
      return frame.length;
    case 'ping':
      return 1;
    case 'ack':
      return ackFrameLength(frame.pathId, frame.ackDelay, frame.ranges);
    case 'data_ack':
      return dataAckFrameLength(frame.cumulative, frame.maxData);
    case 'data':
      if (!(frame.data instanceof Uint8Array)) badValue('data must be a Uint8Array');
      checkBool(frame.fin, 'fin');
      return dataFrameHeaderLength(frame.offset, frame.data.length) + frame.data.length;
    case 'path_join':
      return 1 + varintLength(frame.pathId);
    case 'path_challenge':
      checkFixed(frame.data, CHALLENGE_LENGTH, 'path_challenge data');
      return 1 + varintLength(frame.pathId) + CHALLENGE_LENGTH;
    case 'path_response':
      checkFixed(frame.data, CHALLENGE_LENGTH, 'path_response data');
      return 1 + varintLength(frame.pathId) + CHALLENGE_LENGTH;
    case 'path_status':
      checkBool(frame.backup, 'backup');
      // status is a varint: 0 active, 1 backup (always one byte)
      return 1 + varintLength(frame.pathId) + varintLength(frame.seq) + 1;
    case 'path_abandon':
      return 1 + varintLength(frame.pathId) + varintLength(frame.errorCode);
    case 'add_address': {
      const ipLen = ipByteLength(frame.address);
      if (ipLen === 0) badValue(`not an IPv4 or IPv6 address: ${String(frame.address)}`);
      if (!Number.isInteger(frame.port) || frame.port < 0 || frame.port > 0xffff) badValue('port must be 0..65535');
      checkBool(frame.backup, 'backup');
      return 1 + varintLength(frame.addressId) + varintLength(frame.seq) + 1 + ipLen + 2;
    }
    case 'remove_address':
      return 1 + varintLength(frame.addressId) + varintLength(frame.seq);
    case 'close': {
      const n = reasonLength(frame.reason);
      return 1 + varintLength(frame.errorCode) + varintLength(n) + n;
    }
    case 'hello': {
      checkFixed(frame.cid, CID_LENGTH, 'hello cid');
      checkFixed(frame.publicKey, PUBLIC_KEY_LENGTH, 'hello publicKey');
      checkFixed(frame.nonce, HELLO_NONCE_LENGTH, 'hello nonce');
      const p = frame.params;
      if (p === null || typeof p !== 'object') badValue('hello params missing');
      return (
        1 +
        varintLength(frame.version) +
        varintLength(frame.cipher) +
        CID_LENGTH +
        PUBLIC_KEY_LENGTH +
        HELLO_NONCE_LENGTH +
        varintLength(p.initialMaxData) +
        varintLength(p.maxPaths) +
        varintLength(p.idleTimeoutMs) +
        varintLength(p.maxDatagramSize) +
        cookieSize(frame.cookie, 0)
      );
    }
    case 'finished':
      checkFixed(frame.mac, FINISHED_MAC_LENGTH, 'finished mac');
      return 1 + FINISHED_MAC_LENGTH;
    case 'identity':
      checkFixed(frame.staticKey, STATIC_KEY_LENGTH, 'identity staticKey');
      return 1 + STATIC_KEY_LENGTH;
    case 'reset_token':
      checkFixed(frame.token, RESET_TOKEN_LENGTH, 'reset_token token');
      return 1 + RESET_TOKEN_LENGTH;
    case 'retry':
      return 1 + cookieSize(frame.cookie, 1);
    default:
      return badValue(`unknown frame type ${String((frame as { type: unknown }).type)}`);
  }
}

/** Copies `bytes` at `pos`; returns the position after them. */
function put(buf: Uint8Array, pos: number, bytes: Uint8Array): number {
  buf.set(bytes, pos);
  return pos + bytes.length;
}

/**
 * Writes a frame already validated by frameLength into room already checked;
 * returns the position after it. Internal to src/wire (packet.ts).
 */
export function writeFrame(frame: Frame, buf: Uint8Array, pos: number): number {
  switch (frame.type) {
    case 'padding':
      buf.fill(0, pos, pos + frame.length);
      return pos + frame.length;
    case 'ping':
      buf[pos] = FrameType.Ping;
      return pos + 1;
    case 'ack':
      return writeAckFrame(buf, pos, frame.pathId, frame.ackDelay, frame.ranges);
    case 'data_ack':
      return writeDataAckFrame(buf, pos, frame.cumulative, frame.maxData);
    case 'data': {
      buf[pos] = frame.fin ? FrameType.DataFin : FrameType.Data;
      const p = putVarint(buf, putVarint(buf, pos + 1, frame.offset), frame.data.length);
      return put(buf, p, frame.data);
    }
    case 'path_join':
      buf[pos] = FrameType.PathJoin;
      return putVarint(buf, pos + 1, frame.pathId);
    case 'path_challenge':
      buf[pos] = FrameType.PathChallenge;
      return put(buf, putVarint(buf, pos + 1, frame.pathId), frame.data);
    case 'path_response':
      buf[pos] = FrameType.PathResponse;
      return put(buf, putVarint(buf, pos + 1, frame.pathId), frame.data);
    case 'path_status': {
      buf[pos] = FrameType.PathStatus;
      const p = putVarint(buf, putVarint(buf, pos + 1, frame.pathId), frame.seq);
      return putVarint(buf, p, frame.backup ? 1 : 0);
    }
    case 'path_abandon':
      buf[pos] = FrameType.PathAbandon;
      return putVarint(buf, putVarint(buf, pos + 1, frame.pathId), frame.errorCode);
    case 'add_address': {
      buf[pos] = FrameType.AddAddress;
      const flagsAt = putVarint(buf, putVarint(buf, pos + 1, frame.addressId), frame.seq);
      const ipLen = parseIpInto(frame.address, buf, flagsAt + 1);
      buf[flagsAt] = (frame.backup ? 1 : 0) | (ipLen === 16 ? 2 : 0);
      let p = flagsAt + 1 + ipLen;
      buf[p++] = frame.port >>> 8;
      buf[p++] = frame.port & 0xff;
      return p;
    }
    case 'remove_address':
      buf[pos] = FrameType.RemoveAddress;
      return putVarint(buf, putVarint(buf, pos + 1, frame.addressId), frame.seq);
    case 'close': {
      buf[pos] = FrameType.Close;
      let p = putVarint(buf, pos + 1, frame.errorCode);
      const n = reasonLength(frame.reason);
      p = putVarint(buf, p, n);
      if (n > 0) utf8Encoder.encodeInto(frame.reason, buf.subarray(p, p + n));
      return p + n;
    }
    case 'hello': {
      buf[pos] = FrameType.Hello;
      let p = putVarint(buf, pos + 1, frame.version);
      p = putVarint(buf, p, frame.cipher);
      p = put(buf, p, frame.cid);
      p = put(buf, p, frame.publicKey);
      p = put(buf, p, frame.nonce);
      p = putVarint(buf, p, frame.params.initialMaxData);
      p = putVarint(buf, p, frame.params.maxPaths);
      p = putVarint(buf, p, frame.params.idleTimeoutMs);
      p = putVarint(buf, p, frame.params.maxDatagramSize);
      return put(buf, putVarint(buf, p, frame.cookie.length), frame.cookie);
    }
    case 'finished':
      buf[pos] = FrameType.Finished;
      return put(buf, pos + 1, frame.mac);
    case 'identity':
      buf[pos] = FrameType.Identity;
      return put(buf, pos + 1, frame.staticKey);
    case 'reset_token':
      buf[pos] = FrameType.ResetToken;
      return put(buf, pos + 1, frame.token);
    case 'retry':
      buf[pos] = FrameType.Retry;
      return put(buf, putVarint(buf, pos + 1, frame.cookie.length), frame.cookie);
  }
}

/**
 * Writes an ACK frame from its fields, already validated by ackFrameLength,
 * into room already checked; returns the position after it. The ranges are
 * read, not kept: the receiver's own list can be written without a copy.
 */
export function writeAckFrame(buf: Uint8Array, pos: number, pathId: number, ackDelay: number, ranges: readonly AckRange[]): number {
  const first = ranges[0]!;
  buf[pos] = FrameType.Ack;
  let p = putVarint(buf, pos + 1, pathId);
  p = putVarint(buf, p, first.largest);
  p = putVarint(buf, p, ackDelay);
  p = putVarint(buf, p, ranges.length - 1);
  p = putVarint(buf, p, first.largest - first.smallest);
  let prevSmallest = first.smallest;
  for (let i = 1; i < ranges.length; i++) {
    const r = ranges[i]!;
    p = putVarint(buf, p, prevSmallest - r.largest - 2);
    p = putVarint(buf, p, r.largest - r.smallest);
    prevSmallest = r.smallest;
  }
  return p;
}

/** Writes `frame` at `offset` in `buf`; returns the offset after it (offset + frameLength(frame)). */
export function encodeFrame(frame: Frame, buf: Uint8Array, offset: number): number {
  const len = frameLength(frame);
  checkOffset(buf, offset);
  if (offset + len > buf.length) {
    throw new WireError('WIRE_BUFFER_TOO_SMALL', `${frame.type} frame needs ${len} bytes at ${offset}, buffer is ${buf.length}`);
  }
  return writeFrame(frame, buf, offset);
}
