/** PathNumbers (src/core/crypto/path-numbers.ts) behaves as the Map it replaces, on random operations. */
import { describe, expect, it } from 'vitest';
import { PathNumbers } from '../../src/core/crypto/path-numbers.js';
import { Rng } from '../../lab/random.js';

describe('PathNumbers', () => {
  it('agrees with a Map over random set/get/delete/clear', () => {
    const rng = new Rng(17);
    const a = new PathNumbers();
    const m = new Map<number, number>();
    for (let i = 0; i < 5000; i++) {
      const id = rng.int(0, 5);
      const op = rng.int(0, 19);
      if (op < 8) {
        const n = rng.int(0, 2 ** 40);
        a.set(id, n);
        m.set(id, n);
      } else if (op < 12) {
        a.delete(id);
        m.delete(id);
      } else if (op === 12) {
        a.clear();
        m.clear();
      }
      expect(a.get(id)).toBe(m.get(id));
      expect(a.has(id)).toBe(m.has(id));
      expect(a.size).toBe(m.size);
    }
  });
});
