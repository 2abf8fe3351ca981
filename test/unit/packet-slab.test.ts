import { describe, expect, it } from 'vitest';
import { SLAB_SIZE, slabStats, takePacketBuffer, trimPacketBuffer } from '../../src/core/packet-slab.js';

describe('packet slab', () => {
  it('never hands out bytes of a packet already returned', () => {
    const sent: { bytes: Uint8Array; fill: number }[] = [];
    for (let i = 0; i < 200; i++) {
      const piece = takePacketBuffer(1472);
      expect(piece.length).toBe(1472);
      const used = 100 + ((i * 37) % 1300);
      piece.fill(i & 0xff, 0, used);
      sent.push({ bytes: trimPacketBuffer(piece, used), fill: i & 0xff });
    }
    // Every packet still holds what was written into it.
    for (const s of sent) expect(s.bytes.every((b) => b === s.fill)).toBe(true);
  });

  it('gives the unused tail of the last piece back: the next packet follows it', () => {
    const a = takePacketBuffer(1472);
    const packet = trimPacketBuffer(a, 200);
    const b = takePacketBuffer(1472);
    if (b.buffer === a.buffer) expect(b.byteOffset).toBe(packet.byteOffset + 200);
    else expect(b.byteOffset).toBe(0); // a new slab began
  });

  it('a piece abandoned before the next was taken keeps its room', () => {
    const a = takePacketBuffer(1000);
    const b = takePacketBuffer(1000);
    trimPacketBuffer(a, 10); // not the last one taken: nothing moves
    const c = takePacketBuffer(1000);
    if (c.buffer === b.buffer) expect(c.byteOffset).toBe(b.byteOffset + 1000);
    if (a.buffer === b.buffer) expect(b.byteOffset).toBe(a.byteOffset + 1000);
  });

  it('begins a new slab when the piece does not fit, and serves oversize packets alone', () => {
    const before = slabStats.slabs;
    for (let i = 0; i < Math.ceil(SLAB_SIZE / 1472) + 1; i++) trimPacketBuffer(takePacketBuffer(1472), 1472);
    expect(slabStats.slabs).toBeGreaterThan(before);
    const big = takePacketBuffer(SLAB_SIZE + 1);
    expect(big.length).toBe(SLAB_SIZE + 1);
    expect(big.byteOffset).toBe(0);
  });
});
