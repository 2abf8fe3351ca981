/**
 * Packet header codec.
 *
 *   byte 0: 0 1 0 0 0 K t t   fixed bits 0b01, three zero bits, key phase K
 *                             (Short packets only), 2-bit type
 *   dcid:   CID_LENGTH bytes, at offset 1 (where a QUIC short header has it)
 *   pathId: varint
 *   packetNumber: varint (full, never truncated)
 *
 * The header travels in the clear and is the associated data of the
 * packet's AEAD (src/core/crypto/aead.ts): it cannot be changed unseen.
 */
import { WireError } from './errors.js';
import { CID_LENGTH, PacketType } from './types.js';
import type { PacketHeader } from './types.js';
import { checkOffset, putVarint, varintLength } from './varint.js';
import type { Reader } from './varint.js';

/** Top two bits of byte 0 must be 0b01; the next three must be zero. */
const FIXED_MASK = 0xf8;
const FIXED_BITS = 0x40;
/** The key phase bit (RFC 9001 §6 uses the same position in QUIC's short header). */
const KEY_PHASE_BIT = 0x04;
/** The packet type bits. */
const TYPE_MASK = 0x03;

/** The packet type encoded in first byte `b`, or -1 if `b` is not a valid header byte. */
function typeOf(b: number): number {
  if ((b & FIXED_MASK) !== FIXED_BITS) return -1;
  const t = b & TYPE_MASK;
  // Only Short packets are protected, so only they have a key phase.
  if ((b & KEY_PHASE_BIT) !== 0 && t !== PacketType.Short) return -1;
  return t;
}

/** Validates `h` and returns its encoded length. */
export function headerLength(h: PacketHeader): number {
  if (h === null || typeof h !== 'object') throw new WireError('WIRE_BAD_VALUE', 'header is not an object');
  if (!Number.isInteger(h.type) || h.type < 0 || h.type > PacketType.Retry) {
    throw new WireError('WIRE_BAD_VALUE', `bad packet type ${String(h.type)}`);
  }
  if (typeof h.keyPhase !== 'boolean' || (h.keyPhase && h.type !== PacketType.Short)) {
    throw new WireError('WIRE_BAD_VALUE', 'keyPhase must be a boolean, and true only in a Short packet');
  }
  if (!(h.dcid instanceof Uint8Array) || h.dcid.length !== CID_LENGTH) {
    throw new WireError('WIRE_BAD_VALUE', `dcid must be ${CID_LENGTH} bytes`);
  }
  return 1 + CID_LENGTH + varintLength(h.pathId) + varintLength(h.packetNumber);
}

/** Writes `h` at `offset` in `buf`; returns the offset after it. */
export function encodeHeader(h: PacketHeader, buf: Uint8Array, offset: number): number {
  const len = headerLength(h);
  checkOffset(buf, offset);
  if (offset + len > buf.length) {
    throw new WireError('WIRE_BUFFER_TOO_SMALL', `header needs ${len} bytes at ${offset}, buffer is ${buf.length}`);
  }
  buf[offset] = FIXED_BITS | (h.keyPhase ? KEY_PHASE_BIT : 0) | h.type;
  buf.set(h.dcid, offset + 1);
  const pos = putVarint(buf, offset + 1 + CID_LENGTH, h.pathId);
  return putVarint(buf, pos, h.packetNumber);
}

/**
 * Writes a Short header at `start` in `buf` from values the core already
 * holds valid (a CID_LENGTH-byte dcid, varint-sized path ID and packet
 * number): the hot path's header, with no header object and no checks.
 * Returns where the header ends. Same bytes as encodeHeader.
 */
export function writeShortHeader(buf: Uint8Array, dcid: Uint8Array, pathId: number, packetNumber: number, keyPhase: boolean, start = 0): number {
  buf[start] = FIXED_BITS | (keyPhase ? KEY_PHASE_BIT : 0) | PacketType.Short;
  buf.set(dcid, start + 1);
  const pos = putVarint(buf, start + 1 + CID_LENGTH, pathId);
  return putVarint(buf, pos, packetNumber);
}

/** Reads a header; `dcid` is a view into the reader's buffer. */
export function decodeHeader(reader: Reader): PacketHeader {
  const first = reader.u8();
  const type = typeOf(first);
  if (type < 0) throw new WireError('WIRE_BAD_HEADER', `bad first byte 0x${first.toString(16).padStart(2, '0')}`);
  const dcid = reader.bytes(CID_LENGTH);
  const pathId = reader.varint();
  const packetNumber = reader.varint();
  return { type: type as PacketType, dcid, pathId, packetNumber, keyPhase: (first & KEY_PHASE_BIT) !== 0 };
}

/**
 * Reads a Short header into `out` and returns it, or returns null having
 * read nothing for another packet type: the receive path's header, with no
 * header object and no dcid view (the endpoint matched the dcid already;
 * `out.dcid` is left as it is). Throws as decodeHeader does.
 */
export function readShortHeader(reader: Reader, out: PacketHeader): PacketHeader | null {
  if (reader.remaining < 1 || typeOf(reader.buf[reader.pos]!) !== PacketType.Short) return null;
  const first = reader.u8();
  reader.skip(CID_LENGTH);
  out.pathId = reader.varint();
  out.packetNumber = reader.varint();
  out.keyPhase = (first & KEY_PHASE_BIT) !== 0;
  return out;
}

/** The dcid of `datagram` as a view (no copy), or null if it cannot be a packet of ours. */
export function peekDcid(datagram: Uint8Array): Uint8Array | null {
  if (!(datagram instanceof Uint8Array) || datagram.length < 1 + CID_LENGTH) return null;
  if (typeOf(datagram[0]!) < 0) return null;
  return datagram.subarray(1, 1 + CID_LENGTH);
}

/** Whether `datagram` could be a packet of ours (as peekDcid) whose dcid is `cid`, compared in place. */
export function dcidEquals(datagram: Uint8Array, cid: Uint8Array): boolean {
  if (datagram.length < 1 + CID_LENGTH || typeOf(datagram[0]!) < 0) return false;
  for (let i = 0; i < CID_LENGTH; i++) if (datagram[1 + i] !== cid[i]) return false;
  return true;
}

/** The packet type of `datagram` from its first byte, or null if that byte is invalid. */
export function peekPacketType(datagram: Uint8Array): PacketType | null {
  if (!(datagram instanceof Uint8Array) || datagram.length < 1) return null;
  const type = typeOf(datagram[0]!);
  return type < 0 ? null : (type as PacketType);
}
