import { describe, expect, it } from 'vitest';
import { SortedMap } from '../../src/core/data/sorted-map.js';
import { Rng } from '../../lab/random.js';

describe('SortedMap (AVL)', () => {
  it('agrees with a naive model over random operations, and stays balanced', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const rng = new Rng(seed);
      const map = new SortedMap<number>();
      const model = new Map<number, number>();
      for (let op = 0; op < 2000; op++) {
        const key = rng.int(0, 300);
        const r = rng.next();
        if (r < 0.5) {
          map.set(key, op);
          model.set(key, op);
        } else if (r < 0.75) {
          expect(map.delete(key)).toBe(model.delete(key));
        } else if (r < 0.8) {
          // takeBelow: the entries below `key`, in key order, gone from the map.
          const below = [...model.entries()].filter(([k]) => k < key).sort((a, b) => a[0] - b[0]);
          expect(map.takeBelow(key)).toEqual(below);
          for (const [k] of below) model.delete(k);
          if (seed <= 10) expect(map.isAvl).toBe(true);
        } else {
          const keys = [...model.keys()].sort((a, b) => a - b);
          const floor = keys.filter((k) => k <= key).at(-1);
          const ceil = keys.find((k) => k >= key);
          expect(map.floor(key)?.[0]).toBe(floor);
          expect(map.ceiling(key)?.[0]).toBe(ceil);
          expect(map.get(key)).toBe(model.get(key));
          expect(map.min()?.[0]).toBe(keys[0]);
          expect(map.max()?.[0]).toBe(keys.at(-1));
        }
        expect(map.size).toBe(model.size);
      }
      expect([...map.entries()]).toEqual([...model.entries()].sort((a, b) => a[0] - b[0]));
      expect(map.height).toBeLessThanOrEqual(Math.ceil(1.45 * Math.log2(map.size + 2)));
      expect(map.isAvl).toBe(true);
    }
  });

  it('takeBelow splits any tree in O(k + log n) node visits and leaves an AVL tree', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const rng = new Rng(seed);
      const n = 1 << rng.int(8, 16);
      const map = new SortedMap<number>();
      for (let i = 0; i < n; i++) map.set(rng.int(0, 1 << 30), i);
      const split = rng.int(0, 1 << 30);
      const expected = [...map.entries()].filter(([k]) => k < split);
      const before = map.visits;
      expect(map.takeBelow(split)).toEqual(expected);
      // One visit per entry taken, and a few per level of the path to the split (joins included).
      expect(map.visits - before).toBeLessThanOrEqual(expected.length + 4 * Math.ceil(1.45 * Math.log2(n + 2)) ** 2);
      expect(map.isAvl).toBe(true);
      // dropBelow: the same split, the entries below dropped unvisited (the caller knows how many).
      const more = [...map.entries()];
      const at = more.length > 0 ? more[Math.floor(more.length / 2)]![0] : 0;
      const below = more.filter(([k]) => k < at).length;
      const visits = map.visits;
      map.dropBelow(at, below);
      expect(map.visits - visits).toBeLessThanOrEqual(4 * Math.ceil(1.45 * Math.log2(n + 2)) ** 2);
      expect([...map.entries()]).toEqual(more.filter(([k]) => k >= at));
      expect(map.size).toBe(more.length - below);
      expect(map.isAvl).toBe(true);
    }
  });

  it('stays shallow for keys inserted in order, reverse order and alternating', () => {
    for (const keys of [
      Array.from({ length: 100_000 }, (_, i) => i),
      Array.from({ length: 100_000 }, (_, i) => 100_000 - i),
      Array.from({ length: 100_000 }, (_, i) => (i % 2 === 0 ? i : 200_000 - i)),
    ]) {
      const map = new SortedMap<null>();
      for (const k of keys) map.set(k, null);
      expect(map.size).toBe(100_000);
      expect(map.height).toBeLessThanOrEqual(25);
    }
  });
});
