/**
 * Where outgoing packets are written: consecutive pieces of one shared
 * slab, instead of a new zero-filled buffer per packet.
 *
 * A packet's buffer must stay untouched until the io layer has handed it
 * to the kernel (node's `send()` may queue it), so a piece that left in a
 * Transmit is never written again: the cursor only moves forward, and a
 * full slab is dropped (the garbage collector frees it when the last
 * packet cut from it is gone) and a new one begun. A packet being built
 * takes room for its largest size and is written in place, at absolute
 * offsets of the slab; finish() cuts the one view of it that leaves in its
 * Transmit and gives back what it did not use, so the next packet follows
 * right after it. A packet abandoned
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

/**
 * Takes room for one packet of at most `size` bytes: afterwards
 * `packetRoom.buf` is the buffer to write it in (the slab, or a buffer of
 * its own for a packet larger than a slab) and `packetRoom.start` where in
 * it the packet begins. The packet is written in place, at absolute
 * offsets: no view of the slab per packet until cutPacket().
 */
export function takePacketRoom(size: number): void {
  if (size > SLAB_SIZE) {
    packetRoom.buf = new Uint8Array(size);
    packetRoom.start = 0;
    return;
  }
  if (cursor + size > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    cursor = 0;
    slabStats.slabs++;
  }
  packetRoom.buf = slab;
  packetRoom.start = cursor;
  lastStart = cursor;
  cursor += size;
}

/** Where the last takePacketRoom() put its packet (read it at once: the next call moves it). */
export const packetRoom = { buf: slab, start: 0 };

/** Start of the last room taken in the current slab. */
let lastStart = -1;

/**
 * The packet at `buf[start, start + used)`, its room taken by
 * takePacketRoom(): the bytes it does not use go back to the slab if it
 * was the last room taken (the next packet follows right after it).
 * Returns the packet's bytes, the one view made of it.
 */
export function cutPacket(buf: Uint8Array, start: number, used: number): Uint8Array {
  if (buf === slab && start === lastStart) cursor = start + used;
  return buf.subarray(start, start + used);
}
