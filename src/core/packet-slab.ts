/**
 * Where outgoing packets are written: consecutive pieces of one shared
 * slab, instead of a new zero-filled buffer per packet.
 *
 * A packet's buffer must stay untouched until the io layer has handed it
 * to the kernel (node's `send()` may queue it), so a piece that left in a
 * Transmit is never written again: the cursor only moves forward, and a
 * full slab is dropped (the garbage collector frees it when the last
 * packet cut from it is gone) and a new one begun. A packet being built
 * takes room for its largest size; finish() gives back what it did not use
 * (`trim`), so the next packet follows right after it. A packet abandoned
 * before it was sealed keeps its piece: nothing holds it, and nothing
 * reads it.
 *
 * The core is synchronous, so one slab serves every connection of the
 * process. Nothing in a piece is zeroed: writers fill every byte they send
 * (PADDING frames write their zeros).
 */

/** Bytes per slab: 44 packets of 1472 bytes. */
export const SLAB_SIZE = 64 * 1024;

let slab = new Uint8Array(SLAB_SIZE);
let cursor = 0;

/** Counters for tests and the bench: slabs begun (including the first). */
export const slabStats = { slabs: 1 };

/** A piece of `size` bytes no Transmit holds, for one packet. */
export function takePacketBuffer(size: number): Uint8Array {
  if (size > SLAB_SIZE) return new Uint8Array(size);
  if (cursor + size > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    cursor = 0;
    slabStats.slabs++;
  }
  const piece = slab.subarray(cursor, cursor + size);
  cursor += size;
  return piece;
}

/**
 * The packet in `piece` (the last one taken) uses only its first `used`
 * bytes: the rest goes back to the slab. Returns the packet's bytes.
 * A piece that is not the last one taken keeps its room.
 */
export function trimPacketBuffer(piece: Uint8Array, used: number): Uint8Array {
  if (piece.buffer === slab.buffer && piece.byteOffset + piece.length === cursor) cursor = piece.byteOffset + used;
  return piece.subarray(0, used);
}
