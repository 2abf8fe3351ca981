/**
 * The endpoint's deadline heap (src/core/deadline-heap.ts) against a plain
 * scan: random sets, moves and removals; the earliest deadline must always
 * be the scan's minimum, and every item's place must be its own.
 */
import { describe, expect, it } from 'vitest';
import { DeadlineHeap, type HeapItem } from '../../src/core/deadline-heap.js';

/** A seeded generator (xorshift32). */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

describe('DeadlineHeap', () => {
  it('always yields the earliest deadline through random sets, moves and removals', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = rng(seed);
      const items: (HeapItem & { id: number; in: boolean })[] = Array.from({ length: 200 }, (_, id) => ({ id, deadline: 0, heapIndex: -1, in: false }));
      const heap = new DeadlineHeap<(typeof items)[number]>();
      const wrong: string[] = [];
      for (let step = 0; step < 5_000; step++) {
        const item = items[Math.floor(random() * items.length)]!;
        const r = random();
        if (r < 0.15) {
          heap.remove(item);
          item.in = false;
        } else if (r < 0.25) {
          heap.set(item, null);
          item.in = false;
        } else {
          heap.set(item, Math.floor(random() * 1000));
          item.in = true;
        }
        // Popping the minimum, as handleTimeout does.
        if (random() < 0.1 && heap.size > 0) {
          const top = heap.peek()!;
          heap.remove(top);
          (top as (typeof items)[number]).in = false;
        }
        const live = items.filter((i) => i.in);
        const min = live.length === 0 ? undefined : Math.min(...live.map((i) => i.deadline));
        if (heap.size !== live.length) wrong.push(`step ${step}: size ${heap.size}, want ${live.length}`);
        if (heap.peek()?.deadline !== min) wrong.push(`step ${step}: earliest ${heap.peek()?.deadline}, want ${min}`);
        for (const i of items) if (i.heapIndex >= 0 !== i.in) wrong.push(`step ${step}: item ${i.id} misplaced`);
      }
      expect(wrong.slice(0, 5)).toEqual([]);
    }
  });
});
