/**
 * Whole packets: a header followed by one or more frames up to the end of
 * the datagram (no length field: one packet per datagram).
 */
import { WireError } from './errors.js';
import { frameLength, writeFrame } from './frames.js';
import { decodeFrame } from './frame-decode.js';
import { decodeHeader, encodeHeader, headerLength } from './header.js';
import type { Frame, PacketHeader } from './types.js';
import { Reader } from './varint.js';

/** A decoded packet. */
export interface DecodedPacket {
  /** The header; its dcid is a view into the datagram. */
  header: PacketHeader;
  /** Frames in wire order; byte fields are views into the datagram. */
  frames: Frame[];
}

/**
 * Decodes one datagram. Total: returns a packet or throws a WireError.
 * RFC 9000 §12.4: "An endpoint MUST treat receipt of a packet containing no
 * frames as a connection error" — here WIRE_EMPTY_PACKET.
 */
export function decodePacket(datagram: Uint8Array): DecodedPacket {
  const reader = new Reader(datagram);
  const header = decodeHeader(reader);
  const frames: Frame[] = [];
  while (reader.remaining > 0) frames.push(decodeFrame(reader));
  if (frames.length === 0) throw new WireError('WIRE_EMPTY_PACKET', 'packet carries no frame');
  return { header, frames };
}

/** Exact encoded length of a packet, validating header and every frame. */
export function packetLength(header: PacketHeader, frames: readonly Frame[]): number {
  if (!Array.isArray(frames) || frames.length === 0) {
    throw new WireError('WIRE_BAD_VALUE', 'a packet needs at least one frame');
  }
  let len = headerLength(header);
  for (const f of frames) len += frameLength(f);
  return len;
}

/**
 * Encodes a packet. With `buf`, writes from offset 0 and returns the view
 * `buf.subarray(0, length)` (no allocation); without, allocates exactly.
 * Nothing is written if anything is invalid or does not fit.
 */
export function encodePacket(header: PacketHeader, frames: readonly Frame[], buf?: Uint8Array): Uint8Array {
  const len = packetLength(header, frames);
  let out: Uint8Array;
  if (buf === undefined) out = new Uint8Array(len);
  else {
    if (!(buf instanceof Uint8Array)) throw new WireError('WIRE_BAD_VALUE', 'buffer is not a Uint8Array');
    if (len > buf.length) {
      throw new WireError('WIRE_BUFFER_TOO_SMALL', `packet needs ${len} bytes, buffer is ${buf.length}`);
    }
    out = buf;
  }
  let pos = encodeHeader(header, out, 0);
  for (const f of frames) pos = writeFrame(f, out, pos);
  return out.subarray(0, pos);
}
