/** The endpoint's Map key for CIDs and reset tokens: one key per byte string, whatever its length. */
import { describe, expect, it } from 'vitest';
import { bytesKey } from '../../src/core/bytes-key.js';

describe('bytesKey', () => {
  it('differs for every pair of distinct byte strings of lengths 0-17 (random and edge bytes)', () => {
    const seen = new Map<string, string>();
    let seed = 7;
    const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 24;
    for (let len = 0; len <= 17; len++) {
      const samples: number[][] = [new Array<number>(len).fill(0), new Array<number>(len).fill(255)];
      for (let k = 0; k < 200; k++) samples.push(Array.from({ length: len }, next));
      for (const bytes of samples) {
        const hex = Buffer.from(bytes).toString('hex') + `/${len}`;
        const key = bytesKey(Uint8Array.from(bytes));
        const other = seen.get(key);
        if (other !== undefined) expect(other).toBe(hex);
        seen.set(key, hex);
      }
    }
    // A shorter string padded with zeros is not the longer one.
    expect(bytesKey(Uint8Array.of(1, 2, 3))).not.toBe(bytesKey(Uint8Array.of(1, 2, 3, 0)));
    expect(bytesKey(new Uint8Array(7))).not.toBe(bytesKey(new Uint8Array(8)));
  });

  it('is the same for equal bytes in different buffers and views', () => {
    const cid = Uint8Array.of(9, 8, 7, 6, 5, 4, 3, 2);
    const datagram = new Uint8Array(20);
    datagram.set(cid, 1);
    expect(bytesKey(datagram.subarray(1, 9))).toBe(bytesKey(cid));
  });
});
