/**
 * The in-place frame reader of the bulk path: a packet's frames read twice
 * without a frames array or an object per frame. `scanFrames` walks the
 * packet once, validating every frame exactly as `decodeFrame` does and
 * noting which kinds it holds; `readFrameInPlace` then reads one frame at a
 * time into scratch objects reused for every packet.
 *
 * Only the frames of a bulk transfer are read here (PADDING, PING, ACK,
 * DATA_ACK, DATA): at the first frame of any other type the scan stops and
 * says so, and the caller decodes the whole packet with `decodeFrame`,
 * which then reports any error in the same order as before.
 */
import { FrameType, PING_FRAME } from './frames.js';
import { readAckInto, readDataHeader, readDataInto, type AckFrame, type DataFrame } from './frame-decode.js';
import type { Frame } from './types.js';
import type { Reader } from './varint.js';

/** Bits of what `scanFrames` found. */
export const Scan = {
  /** A frame that elicits an ACK (PING, DATA); RFC 9000 §13.2.1. */
  AckEliciting: 1,
  /** A DATA frame. */
  Data: 2,
  /** A frame of another type: read the packet with `decodeFrame`. */
  Other: 4,
} as const;

const ackScratch: AckFrame = { type: 'ack', pathId: 0, ackDelay: 0, ranges: [] };
const dataScratch: DataFrame = { type: 'data', offset: 0, fin: false, data: new Uint8Array(0) };
const dataAckScratch: Extract<Frame, { type: 'data_ack' }> = { type: 'data_ack', cumulative: 0, maxData: 0 };
const paddingScratch: Extract<Frame, { type: 'padding' }> = { type: 'padding', length: 0 };

/**
 * Walks the frames from `r.pos` to `r.end`, validating each and leaving
 * `r.pos` where it stopped: the end, or the first frame of another type
 * (`Scan.Other` set). Throws the WireError `decodeFrame` would.
 */
export function scanFrames(r: Reader): number {
  let found = 0;
  while (r.remaining > 0) {
    const type = r.buf[r.pos];
    if (type === FrameType.Data || type === FrameType.DataFin) {
      // Checked and skipped: no view of the bytes (the second pass makes it).
      r.pos++;
      r.skip(readDataHeader(r, dataScratch));
      found |= Scan.Data | Scan.AckEliciting;
      continue;
    }
    const start = r.pos;
    const frame = readFrameInPlace(r);
    if (frame === null) {
      r.pos = start;
      return found | Scan.Other;
    }
    if (frame.type === 'ping') found |= Scan.AckEliciting;
  }
  return found;
}

/**
 * Reads the next frame when it is one of the bulk path's types, into a
 * scratch object that the next call overwrites (copy what must outlive
 * it; DATA bytes are a view into the packet, as from `decodeFrame`); null
 * (nothing read) for any other type.
 */
export function readFrameInPlace(r: Reader): Frame | null {
  const buf = r.buf;
  switch (buf[r.pos]) {
    case FrameType.Padding: {
      // A run of zero bytes is one PADDING frame (as decodeFrame reads it).
      let p = r.pos + 1;
      while (p < r.end && buf[p] === 0) p++;
      paddingScratch.length = p - r.pos;
      r.pos = p;
      return paddingScratch;
    }
    case FrameType.Ping:
      r.pos++;
      return PING_FRAME;
    case FrameType.Ack:
      r.pos++;
      return readAckInto(r, ackScratch);
    case FrameType.DataAck:
      r.pos++;
      dataAckScratch.cumulative = r.varint();
      dataAckScratch.maxData = r.varint();
      return dataAckScratch;
    case FrameType.Data:
    case FrameType.DataFin: {
      const fin = buf[r.pos++] === FrameType.DataFin;
      return readDataInto(r, fin, dataScratch);
    }
    default:
      return null;
  }
}
