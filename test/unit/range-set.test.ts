import { describe, expect, it } from 'vitest';
import { RangeSet } from '../../src/core/data/range-set.js';
import { Rng } from '../../lab/random.js';

/** Run fn with a seeded Rng; any failure names the seed so it can be replayed. */
function withSeed(seed: number, fn: (rng: Rng) => void): void {
  try {
    fn(new Rng(seed));
  } catch (e) {
    throw new Error(`seed ${seed}: ${(e as Error).message}`, { cause: e });
  }
}

function ranges(set: RangeSet): Array<[number, number]> {
  return [...set];
}

describe('RangeSet', () => {
  it('starts empty', () => {
    const s = new RangeSet();
    expect(s.rangeCount).toBe(0);
    expect(s.total).toBe(0);
    expect(s.min).toBeUndefined();
    expect(s.max).toBeUndefined();
    expect(s.first()).toBeUndefined();
    expect(s.last()).toBeUndefined();
    expect(s.has(0)).toBe(false);
    expect(s.covers(3, 3)).toBe(true);
    expect(s.covers(3, 4)).toBe(false);
    expect(s.firstGapFrom(5)).toBe(5);
    expect(s.missing(2, 7)).toEqual([[2, 7]]);
    expect(() => s.at(0)).toThrow(RangeError);
  });

  it('appends, extends and coalesces at the end', () => {
    const s = new RangeSet();
    expect(s.add(0, 10)).toBe(10);
    expect(s.add(10, 20)).toBe(10); // touching: coalesce
    expect(ranges(s)).toEqual([[0, 20]]);
    expect(s.add(5, 25)).toBe(5); // overlaps the last range
    expect(s.add(30, 40)).toBe(10);
    expect(ranges(s)).toEqual([
      [0, 25],
      [30, 40],
    ]);
    expect(s.total).toBe(35);
    expect(s.min).toBe(0);
    expect(s.max).toBe(40);
    expect(s.last()).toEqual([30, 40]);
  });

  it('counts only newly covered units and merges across gaps', () => {
    const s = new RangeSet();
    s.add(10, 20);
    s.add(30, 40);
    s.add(50, 60);
    expect(s.add(12, 18)).toBe(0); // duplicate
    expect(s.add(0, 5)).toBe(5); // before everything
    expect(s.add(15, 55)).toBe(20); // fills [20,30) and [40,50)
    expect(ranges(s)).toEqual([
      [0, 5],
      [10, 60],
    ]);
    expect(s.add(5, 10)).toBe(5); // exact gap fill
    expect(ranges(s)).toEqual([[0, 60]]);
    expect(s.add(7, 7)).toBe(0);
    expect(s.add(9, 3)).toBe(0);
  });

  it('rejects negative and non-integer ranges', () => {
    const s = new RangeSet();
    expect(() => s.add(-1, 3)).toThrow(RangeError);
    expect(() => s.add(0.5, 3)).toThrow(RangeError);
    expect(s.total).toBe(0);
  });

  it('removes: punch, trim, and across ranges', () => {
    const s = new RangeSet();
    s.add(0, 100);
    s.remove(10, 20);
    expect(ranges(s)).toEqual([
      [0, 10],
      [20, 100],
    ]);
    s.remove(5, 25);
    expect(ranges(s)).toEqual([
      [0, 5],
      [25, 100],
    ]);
    s.remove(90, 200);
    s.remove(0, 5);
    expect(ranges(s)).toEqual([[25, 90]]);
    expect(s.total).toBe(65);
    s.remove(0, 1000);
    expect(s.rangeCount).toBe(0);
    expect(s.total).toBe(0);
  });

  it('removeBelow trims the front', () => {
    const s = new RangeSet();
    s.add(0, 10);
    s.add(20, 30);
    s.add(40, 50);
    s.removeBelow(25);
    expect(ranges(s)).toEqual([
      [25, 30],
      [40, 50],
    ]);
    expect(s.total).toBe(15);
    s.removeBelow(35);
    expect(ranges(s)).toEqual([[40, 50]]);
    s.removeBelow(10);
    expect(ranges(s)).toEqual([[40, 50]]);
  });

  it('answers membership queries', () => {
    const s = new RangeSet();
    s.add(10, 20);
    s.add(30, 40);
    expect(s.has(9)).toBe(false);
    expect(s.has(10)).toBe(true);
    expect(s.has(19)).toBe(true);
    expect(s.has(20)).toBe(false);
    expect(s.covers(10, 20)).toBe(true);
    expect(s.covers(15, 21)).toBe(false);
    expect(s.covers(19, 31)).toBe(false);
    expect(s.firstGapFrom(0)).toBe(0);
    expect(s.firstGapFrom(12)).toBe(20);
    expect(s.firstGapFrom(20)).toBe(20);
    expect(s.missing(0, 50)).toEqual([
      [0, 10],
      [20, 30],
      [40, 50],
    ]);
    expect(s.missing(12, 35)).toEqual([[20, 30]]);
    expect(s.missing(12, 18)).toEqual([]);
    expect(s.at(1)).toEqual([30, 40]);
    expect([...s.descending()]).toEqual([
      [30, 40],
      [10, 20],
    ]);
    s.clear();
    expect(s.rangeCount).toBe(0);
    expect(s.total).toBe(0);
  });

  it('handles offsets near 2^53', () => {
    const s = new RangeSet();
    const big = Number.MAX_SAFE_INTEGER - 100;
    expect(s.add(big, big + 50)).toBe(50);
    expect(s.add(big + 50, big + 100)).toBe(50);
    expect(ranges(s)).toEqual([[big, big + 100]]);
    expect(s.firstGapFrom(big + 10)).toBe(big + 100);
  });

  it('matches a boolean-array model over 2,000 random op sequences', () => {
    const U = 100; // universe [0, U)
    for (let seed = 1; seed <= 2000; seed++) {
      withSeed(seed, (rng) => {
        const s = new RangeSet();
        const model = new Array<boolean>(U).fill(false);
        const ops = rng.int(1, 25);
        for (let op = 0; op < ops; op++) {
          const a = rng.int(0, U - 1);
          const b = rng.int(0, U);
          const [lo, hi] = a <= b ? [a, b] : [b, a];
          const kind = rng.int(0, 99);
          if (kind < 55) {
            // Favour appends, the common case.
            const last = s.max ?? 0;
            const [st, en] = rng.chance(0.4) && last < U ? [last + rng.int(0, 3), last + rng.int(4, 20)] : [lo, hi];
            const clampedEnd = Math.min(en, U);
            let fresh = 0;
            for (let v = st; v < clampedEnd; v++) {
              if (!model[v]) fresh++;
              model[v] = true;
            }
            same(s.add(st, clampedEnd), st < clampedEnd ? fresh : 0, `add(${st},${clampedEnd})`);
          } else if (kind < 85) {
            s.remove(lo, hi);
            for (let v = lo; v < hi; v++) model[v] = false;
          } else if (kind < 98) {
            s.removeBelow(lo);
            for (let v = 0; v < lo; v++) model[v] = false;
          } else {
            s.clear();
            model.fill(false);
          }
          checkAgainstModel(s, model, rng);
        }
      });
    }
  });
});

function modelRanges(model: boolean[]): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let v = 0; v < model.length; v++) {
    if (!model[v]) continue;
    if (out.length > 0 && out[out.length - 1]![1] === v) out[out.length - 1]![1] = v + 1;
    else out.push([v, v + 1]);
  }
  return out;
}

/** Cheap equality check for the property loop (vitest's expect is slow per call). */
function same(actual: unknown, expected: unknown, what: string): void {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`${what}: got ${a}, want ${e}`);
}

function checkAgainstModel(s: RangeSet, model: boolean[], rng: Rng): void {
  const want = modelRanges(model);
  same(ranges(s), want, 'ranges');
  same([...s.descending()], [...want].reverse(), 'descending');
  same(s.rangeCount, want.length, 'rangeCount');
  same(s.total, model.filter(Boolean).length, 'total');
  same(s.min ?? null, want[0]?.[0] ?? null, 'min');
  same(s.max ?? null, want[want.length - 1]?.[1] ?? null, 'max');
  same(s.first() ?? null, want[0] ?? null, 'first');
  same(s.last() ?? null, want[want.length - 1] ?? null, 'last');
  for (let i = 0; i < want.length; i++) same(s.at(i), want[i], `at(${i})`);
  const U = model.length;
  for (let k = 0; k < 4; k++) {
    const v = rng.int(0, U + 2);
    same(s.has(v), model[v] === true, `has(${v})`);
    let gap = v;
    while (model[gap]) gap++;
    same(s.firstGapFrom(v), gap, `firstGapFrom(${v})`);
    const a = rng.int(0, U);
    const b = rng.int(a, U);
    let all = true;
    for (let x = a; x < b; x++) all &&= model[x]!;
    same(s.covers(a, b), all, `covers(${a},${b})`);
    const miss = modelRanges(model.map((m, x) => !m && x >= a && x < b));
    same(s.missing(a, b), miss, `missing(${a},${b})`);
  }
}
