/**
 * Frame decoders: total, with typed errors (WireError) for anything a
 * peer could send wrong. Byte fields are views into the datagram.
 */
import { WireError } from './errors.js';
import {
  CHALLENGE_LENGTH,
  FINISHED_MAC_LENGTH,
  FrameType,
  HELLO_NONCE_LENGTH,
  MAX_ACK_RANGE_COUNT,
  MAX_COOKIE_LENGTH,
  MAX_REASON_LENGTH,
  PUBLIC_KEY_LENGTH,
  RESET_TOKEN_LENGTH,
  STATIC_KEY_LENGTH,
} from './frames.js';
import { formatIpv4, formatIpv6 } from './ip.js';
import { CID_LENGTH } from './types.js';
import type { AckRange, Frame } from './types.js';
import type { Reader } from './varint.js';

/** fatal: invalid UTF-8 throws; ignoreBOM: a leading U+FEFF is kept, so text round-trips. */
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function badFrame(message: string): never {
  throw new WireError('WIRE_BAD_FRAME', message);
}

/** Reads a cookie (varint length, then bytes) of min..MAX_COOKIE_LENGTH bytes. */
function readCookie(r: Reader, min: number): Uint8Array {
  const n = r.varint();
  if (n < min || n > MAX_COOKIE_LENGTH) badFrame(`cookie length ${n} outside ${min}..${MAX_COOKIE_LENGTH}`);
  return r.bytes(n);
}

/** An ACK frame as decoded: the decoder's result, or a reader's scratch refilled per frame (frame-reader.ts). */
export type AckFrame = Extract<Frame, { type: 'ack' }>;
/** A DATA frame as decoded; `data` is a view into the packet. */
export type DataFrame = Extract<Frame, { type: 'data' }>;

/**
 * RFC 9000 §19.3.1 ACK ranges, refusing any that would go below packet
 * number 0, read into `out`: its `ranges` array is cut to the frame's count
 * and the range objects already in it are overwritten, so a scratch frame
 * refilled per packet allocates nothing once it has held the most ranges.
 */
export function readAckInto(r: Reader, out: AckFrame): AckFrame {
  const pathId = r.varint();
  const largest = r.varint();
  const ackDelay = r.varint();
  const count = r.varint();
  if (count > MAX_ACK_RANGE_COUNT) badFrame(`ack range count ${count} > ${MAX_ACK_RANGE_COUNT}`);
  const firstRange = r.varint();
  // "The smallest packet number in the first range is determined by
  // subtracting the First ACK Range value from the Largest Acknowledged field."
  if (firstRange > largest) badFrame('first ack range goes below 0');
  let smallest = largest - firstRange;
  const ranges = out.ranges;
  setRange(ranges, 0, smallest, largest);
  for (let i = 0; i < count; i++) {
    const gap = r.varint();
    const len = r.varint();
    // "largest = previous_smallest - gap - 2; smallest = largest - ack_range_length"
    const lg = smallest - gap - 2;
    if (lg < 0 || len > lg) badFrame('ack range goes below 0');
    smallest = lg - len;
    setRange(ranges, i + 1, smallest, lg);
  }
  if (ranges.length !== count + 1) ranges.length = count + 1;
  out.pathId = pathId;
  out.ackDelay = ackDelay;
  return out;
}

/** Sets ranges[i], reusing the object there. */
function setRange(ranges: AckRange[], i: number, smallest: number, largest: number): void {
  const range = ranges[i];
  if (range === undefined) ranges.push({ smallest, largest });
  else {
    range.smallest = smallest;
    range.largest = largest;
  }
}

function readAck(r: Reader): Frame {
  return readAckInto(r, { type: 'ack', pathId: 0, ackDelay: 0, ranges: [] });
}

/** A DATA frame's fields read into `out` (its bytes a view into the packet). */
export function readDataInto(r: Reader, fin: boolean, out: DataFrame): DataFrame {
  out.data = r.bytes(readDataHeader(r, out));
  out.fin = fin;
  return out;
}

/**
 * A DATA frame's offset (into `out`) and length (returned), checked, after
 * its type byte; its bytes follow. frame-reader.ts's scan then skips them.
 */
export function readDataHeader(r: Reader, out: DataFrame): number {
  const offset = r.varint();
  const length = r.varint();
  if (offset + length > Number.MAX_SAFE_INTEGER) badFrame('data offset + length exceeds MAX_SAFE_INTEGER');
  out.offset = offset;
  return length;
}

function readData(r: Reader, fin: boolean): Frame {
  return readDataInto(r, fin, { type: 'data', offset: 0, fin, data: EMPTY });
}

const EMPTY = new Uint8Array(0);

function readAddAddress(r: Reader): Frame {
  const addressId = r.varint();
  const seq = r.varint();
  const flags = r.u8();
  if ((flags & ~3) !== 0) badFrame(`add_address flags 0x${flags.toString(16)} has reserved bits`);
  const v6 = (flags & 2) !== 0;
  const ip = r.bytes(v6 ? 16 : 4);
  const address = v6 ? formatIpv6(ip) : formatIpv4(ip);
  const port = r.u16();
  return { type: 'add_address', addressId, seq, address, port, backup: (flags & 1) !== 0 };
}

function readClose(r: Reader): Frame {
  const errorCode = r.varint();
  const n = r.varint();
  if (n > MAX_REASON_LENGTH) badFrame(`close reason of ${n} bytes > ${MAX_REASON_LENGTH}`);
  const bytes = r.bytes(n);
  let reason: string;
  try {
    reason = utf8Decoder.decode(bytes);
  } catch {
    return badFrame('close reason is not valid UTF-8');
  }
  return { type: 'close', errorCode, reason };
}

function readHello(r: Reader): Frame {
  const version = r.varint();
  const cipher = r.varint();
  const cid = r.bytes(CID_LENGTH);
  const publicKey = r.bytes(PUBLIC_KEY_LENGTH);
  const nonce = r.bytes(HELLO_NONCE_LENGTH);
  const initialMaxData = r.varint();
  const maxPaths = r.varint();
  const idleTimeoutMs = r.varint();
  const maxDatagramSize = r.varint();
  const cookie = readCookie(r, 0);
  return {
    type: 'hello',
    version,
    cipher,
    cid,
    publicKey,
    nonce,
    params: { initialMaxData, maxPaths, idleTimeoutMs, maxDatagramSize },
    cookie,
  };
}

/**
 * Reads one frame. Byte fields are views into the reader's buffer (no copy):
 * copy what must outlive the datagram.
 */
export function decodeFrame(r: Reader): Frame {
  const type = r.u8();
  switch (type) {
    case FrameType.Padding: {
      // A run of zero bytes is one PADDING frame.
      const buf = r.buf;
      let p = r.pos;
      while (p < r.end && buf[p] === 0) p++;
      const length = p - r.pos + 1;
      r.pos = p;
      return { type: 'padding', length };
    }
    case FrameType.Ping:
      return { type: 'ping' };
    case FrameType.Ack:
      return readAck(r);
    case FrameType.DataAck: {
      const cumulative = r.varint();
      return { type: 'data_ack', cumulative, maxData: r.varint() };
    }
    case FrameType.Data:
      return readData(r, false);
    case FrameType.DataFin:
      return readData(r, true);
    case FrameType.PathJoin:
      return { type: 'path_join', pathId: r.varint() };
    case FrameType.PathChallenge: {
      const pathId = r.varint();
      return { type: 'path_challenge', pathId, data: r.bytes(CHALLENGE_LENGTH) };
    }
    case FrameType.PathResponse: {
      const pathId = r.varint();
      return { type: 'path_response', pathId, data: r.bytes(CHALLENGE_LENGTH) };
    }
    case FrameType.PathStatus: {
      const pathId = r.varint();
      const seq = r.varint();
      const status = r.varint();
      if (status > 1) badFrame(`path_status status ${status} is neither 0 (active) nor 1 (backup)`);
      return { type: 'path_status', pathId, seq, backup: status === 1 };
    }
    case FrameType.PathAbandon: {
      const pathId = r.varint();
      return { type: 'path_abandon', pathId, errorCode: r.varint() };
    }
    case FrameType.AddAddress:
      return readAddAddress(r);
    case FrameType.RemoveAddress: {
      const addressId = r.varint();
      return { type: 'remove_address', addressId, seq: r.varint() };
    }
    case FrameType.Close:
      return readClose(r);
    case FrameType.Hello:
      return readHello(r);
    case FrameType.Finished:
      return { type: 'finished', mac: r.bytes(FINISHED_MAC_LENGTH) };
    case FrameType.Identity:
      return { type: 'identity', staticKey: r.bytes(STATIC_KEY_LENGTH) };
    case FrameType.ResetToken:
      return { type: 'reset_token', token: r.bytes(RESET_TOKEN_LENGTH) };
    case FrameType.Retry:
      return { type: 'retry', cookie: readCookie(r, 1) };
    default:
      throw new WireError('WIRE_UNKNOWN_FRAME', `unknown frame type 0x${type.toString(16).padStart(2, '0')}`);
  }
}
