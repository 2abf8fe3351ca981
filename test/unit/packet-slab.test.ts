import { describe, expect, it } from 'vitest';
import { SLAB_SIZE, cutPacket, packetRoom, slabStats, takePacketRoom } from '../../src/core/packet-slab.js';

/** Takes room for `size` bytes and returns where it is. */
function take(size: number): { buf: Uint8Array; start: number } {
  takePacketRoom(size);
  return { buf: packetRoom.buf, start: packetRoom.start };
}

describe('packet slab', () => {
  it('never hands out bytes of a packet already returned', () => {
    const sent: { bytes: Uint8Array; fill: number }[] = [];
    for (let i = 0; i < 200; i++) {
      const room = take(1472);
      expect(room.buf.length - room.start).toBeGreaterThanOrEqual(1472);
      const used = 100 + ((i * 37) % 1300);
      room.buf.fill(i & 0xff, room.start, room.start + used);
      sent.push({ bytes: cutPacket(room.buf, room.start, used), fill: i & 0xff });
    }
    // Every packet still holds what was written into it, and only that.
    for (const s of sent) expect(s.bytes.every((b) => b === s.fill)).toBe(true);
    expect(sent.map((s) => s.bytes.length)).toEqual(sent.map((_, i) => 100 + ((i * 37) % 1300)));
  });

  it('gives the unused tail of the last room back: the next packet follows it', () => {
    const a = take(1472);
    const packet = cutPacket(a.buf, a.start, 200);
    expect(packet.byteOffset).toBe(a.buf.byteOffset + a.start);
    const b = take(1472);
    if (b.buf === a.buf) expect(b.start).toBe(a.start + 200);
    else expect(b.start).toBe(0); // a new slab began
  });

  it('a room abandoned before the next was taken keeps its bytes', () => {
    const a = take(1000);
    const b = take(1000);
    cutPacket(a.buf, a.start, 10); // not the last one taken: nothing moves
    const c = take(1000);
    if (c.buf === b.buf) expect(c.start).toBe(b.start + 1000);
    if (a.buf === b.buf) expect(b.start).toBe(a.start + 1000);
  });

  it('begins a new slab when the room does not fit, and serves oversize packets alone', () => {
    const before = slabStats.slabs;
    for (let i = 0; i < Math.ceil(SLAB_SIZE / 1472) + 1; i++) {
      const r = take(1472);
      cutPacket(r.buf, r.start, 1472);
    }
    expect(slabStats.slabs).toBeGreaterThan(before);
    const big = take(SLAB_SIZE + 1);
    expect(big.buf.length).toBe(SLAB_SIZE + 1);
    expect(big.start).toBe(0);
    // The slab's cursor did not move for it: the next room follows the last one in the slab.
    const r1 = take(100);
    cutPacket(r1.buf, r1.start, 100);
    const r2 = take(100);
    expect(r2.start).toBe(r1.start + 100);
  });
});
