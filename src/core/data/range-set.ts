/**
 * A set of non-negative integers kept as sorted, disjoint, coalesced
 * half-open ranges [start, end). Used for the data sequence space: what was
 * received, what was acknowledged, what must be re-sent.
 *
 * Storage is two flat number arrays (starts, ends). The common case —
 * adding at or just after the end — is O(1); anything else binary-searches
 * and splices.
 */
export class RangeSet {
  /** starts[i] is the first value of range i; strictly increasing. */
  private starts: number[] = [];
  /** ends[i] is one past the last value of range i; ends[i] < starts[i + 1]. */
  private ends: number[] = [];
  /** Sum of (end - start) over all ranges, kept up to date. */
  private covered = 0;

  constructor() {}

  /** Number of disjoint ranges. */
  get rangeCount(): number {
    return this.starts.length;
  }

  /** Number of values covered. */
  get total(): number {
    return this.covered;
  }

  /** Smallest covered value, or undefined when empty. */
  get min(): number | undefined {
    return this.starts.length === 0 ? undefined : this.starts[0];
  }

  /** End (exclusive) of the last range, or undefined when empty. */
  get max(): number | undefined {
    const n = this.ends.length;
    return n === 0 ? undefined : this.ends[n - 1];
  }

  first(): [number, number] | undefined {
    return this.starts.length === 0 ? undefined : [this.starts[0]!, this.ends[0]!];
  }

  last(): [number, number] | undefined {
    const n = this.starts.length;
    return n === 0 ? undefined : [this.starts[n - 1]!, this.ends[n - 1]!];
  }

  /** Range i in ascending order; throws RangeError when out of bounds. */
  at(i: number): [number, number] {
    if (!Number.isInteger(i) || i < 0 || i >= this.starts.length) {
      throw new RangeError(`RangeSet.at: index ${i} out of bounds`);
    }
    return [this.starts[i]!, this.ends[i]!];
  }

  *[Symbol.iterator](): IterableIterator<[number, number]> {
    for (let i = 0; i < this.starts.length; i++) yield [this.starts[i]!, this.ends[i]!];
  }

  *descending(): Generator<[number, number]> {
    for (let i = this.starts.length - 1; i >= 0; i--) yield [this.starts[i]!, this.ends[i]!];
  }

  /**
   * Cover [start, end). Returns how many values were newly covered
   * (0 for a pure duplicate or an empty range).
   */
  add(start: number, end: number): number {
    if (!(end > start)) return 0;
    checkRange(start, end);
    const starts = this.starts;
    const ends = this.ends;
    const n = starts.length;
    // Fast paths: append after the last range, or extend it.
    if (n === 0 || start > ends[n - 1]!) {
      starts.push(start);
      ends.push(end);
      this.covered += end - start;
      return end - start;
    }
    if (start >= starts[n - 1]!) {
      const lastEnd = ends[n - 1]!;
      if (end <= lastEnd) return 0;
      ends[n - 1] = end;
      this.covered += end - lastEnd;
      return end - lastEnd;
    }
    // General case: ranges i..j-1 overlap or touch [start, end).
    const i = lowerBound(ends, start); // first range with end >= start
    const j = upperBound(starts, end); // first range with start > end
    if (i === j) {
      starts.splice(i, 0, start);
      ends.splice(i, 0, end);
      this.covered += end - start;
      return end - start;
    }
    let overlap = 0;
    for (let k = i; k < j; k++) {
      const s = Math.max(starts[k]!, start);
      const e = Math.min(ends[k]!, end);
      if (e > s) overlap += e - s;
    }
    const newStart = Math.min(start, starts[i]!);
    const newEnd = Math.max(end, ends[j - 1]!);
    starts.splice(i, j - i, newStart);
    ends.splice(i, j - i, newEnd);
    const added = end - start - overlap;
    this.covered += added;
    return added;
  }

  /** Uncover [start, end). */
  remove(start: number, end: number): void {
    if (!(end > start)) return;
    const starts = this.starts;
    const ends = this.ends;
    const i = upperBound(ends, start); // first range with end > start
    const j = lowerBound(starts, end); // first range with start >= end
    if (i >= j) return;
    const firstStart = starts[i]!;
    const lastEnd = ends[j - 1]!;
    let removed = 0;
    for (let k = i; k < j; k++) removed += ends[k]! - starts[k]!;
    const keepLeft = firstStart < start;
    const keepRight = lastEnd > end;
    if (keepLeft) removed -= start - firstStart;
    if (keepRight) removed -= lastEnd - end;
    if (keepLeft && keepRight && j - i === 1) {
      // Punch a hole inside one range: split it in two.
      starts.splice(i + 1, 0, end);
      ends.splice(i, 0, start);
    } else {
      // Rewrite the surviving pieces in place, then drop the rest.
      let w = i;
      if (keepLeft) ends[w++] = start;
      if (keepRight) {
        starts[w] = end;
        ends[w++] = lastEnd;
      }
      if (j > w) {
        starts.splice(w, j - w);
        ends.splice(w, j - w);
      }
    }
    this.covered -= removed;
  }

  /** Drop every value below `value` (trim the front). */
  removeBelow(value: number): void {
    const starts = this.starts;
    const ends = this.ends;
    if (starts.length === 0 || value <= starts[0]!) return;
    const k = upperBound(ends, value); // first range with end > value
    let removed = 0;
    for (let m = 0; m < k; m++) removed += ends[m]! - starts[m]!;
    if (k > 0) {
      starts.splice(0, k);
      ends.splice(0, k);
    }
    if (starts.length > 0 && starts[0]! < value) {
      removed += value - starts[0]!;
      starts[0] = value;
    }
    this.covered -= removed;
  }

  clear(): void {
    this.starts.length = 0;
    this.ends.length = 0;
    this.covered = 0;
  }

  has(value: number): boolean {
    const i = this.indexContaining(value);
    return i >= 0;
  }

  /** True when every value of [start, end) is covered (an empty range is). */
  covers(start: number, end: number): boolean {
    if (!(end > start)) return true;
    const i = this.indexContaining(start);
    return i >= 0 && end <= this.ends[i]!;
  }

  /** Smallest value >= from that is not covered. */
  firstGapFrom(from: number): number {
    const i = this.indexContaining(from);
    return i >= 0 ? this.ends[i]! : from;
  }

  /** The sub-ranges of [start, end) that are not covered, ascending. */
  missing(start: number, end: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    if (!(end > start)) return out;
    const starts = this.starts;
    const ends = this.ends;
    let cursor = start;
    for (let k = upperBound(ends, start); k < starts.length && starts[k]! < end; k++) {
      if (starts[k]! > cursor) out.push([cursor, starts[k]!]);
      cursor = Math.max(cursor, ends[k]!);
    }
    if (cursor < end) out.push([cursor, end]);
    return out;
  }

  /** Index of the range holding value, or -1. */
  private indexContaining(value: number): number {
    const k = upperBound(this.starts, value) - 1; // last range with start <= value
    return k >= 0 && value < this.ends[k]! ? k : -1;
  }
}

function checkRange(start: number, end: number): void {
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0) {
    throw new RangeError(`RangeSet: invalid range [${start}, ${end})`);
  }
}

/** First index i with a[i] >= x (a ascending). */
function lowerBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** First index i with a[i] > x (a ascending). */
function upperBound(a: readonly number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid]! <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
