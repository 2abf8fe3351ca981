/**
 * An on-path box for attack tests: it reads the clear part of the packets
 * that cross it (the header: destination CID, path ID, packet number) and
 * forges packets of its own the way an attacker on that path would: a
 * correct-looking header followed by the frames it wants the receiver to
 * act on and 16 bytes where an authentication tag would be. It holds no
 * key, so it can guess a tag and nothing more.
 */
import { decodeHeader } from '../../src/wire/header.js';
import { encodePacket } from '../../src/wire/packet.js';
import { PacketType, type Frame, type PacketHeader } from '../../src/wire/types.js';
import { Reader } from '../../src/wire/varint.js';
import { Rng } from '../../lab/random.js';

/** What the box learned from the last packet it saw going one way. */
export interface Observed {
  dcid: Uint8Array;
  pathId: number;
  packetNumber: number;
}

/** The clear header of a Short packet, or null for anything else. */
export function observe(data: Uint8Array): Observed | null {
  try {
    const h = decodeHeader(new Reader(data));
    if (h.type !== PacketType.Short) return null;
    return { dcid: h.dcid.slice(), pathId: h.pathId, packetNumber: h.packetNumber };
  } catch {
    return null;
  }
}

/** A forged Short packet: header, the attacker's frames, then a guessed (all-zero) tag. */
export function forgeShort(seen: Observed, packetNumber: number, frames: Frame[], keyPhase = false): Uint8Array {
  const header: PacketHeader = { type: PacketType.Short, dcid: seen.dcid, pathId: seen.pathId, packetNumber, keyPhase };
  const body = encodePacket(header, frames);
  const out = new Uint8Array(body.length + 16);
  out.set(body);
  return out;
}

/** A copy of `data` with one random bit flipped. */
export function flipBit(data: Uint8Array, rng: Rng): Uint8Array {
  const out = data.slice();
  const i = rng.int(0, out.length - 1);
  out[i]! ^= 1 << rng.int(0, 7);
  return out;
}
