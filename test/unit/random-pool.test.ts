/**
 * The io layer's pooled random source (src/io/random-pool.ts): every call
 * gets bytes of its own (a copy, never a view of the pool) and no two calls
 * get the same bytes, across refills too.
 */
import { describe, expect, it } from 'vitest';
import { POOL_SIZE, RandomPool } from '../../src/io/random-pool.js';

describe('RandomPool', () => {
  it('hands out copies of fresh bytes, never the same twice, across refills and for sizes above the pool', () => {
    const pool = new RandomPool();
    const seen = new Set<string>();
    let total = 0;
    for (let i = 0; total < 3 * POOL_SIZE; i++) {
      const n = [8, 16, 32, 12, 200][i % 5]!;
      const b = pool.take(n);
      expect(b.length).toBe(n);
      // Its own buffer: keeping it does not keep the pool alive.
      expect(b.buffer.byteLength).toBe(n);
      const hex = Buffer.from(b).toString('hex');
      expect(seen.has(hex)).toBe(false);
      seen.add(hex);
      total += n;
    }
    const big = pool.take(POOL_SIZE + 1);
    expect(big.length).toBe(POOL_SIZE + 1);
    expect(big.some((x) => x !== 0)).toBe(true);
  });
});
