/**
 * A path's queueing delay over time, as shared-bottleneck detection keeps it
 * (shared-bottleneck.ts): the mean and the minimum of the samples in each
 * bin of BIN_MS over the last WINDOW_BINS bins, one slot per bin reused as
 * time moves on, and a short-term floor for the standby path's re-checks
 * (no allocation after construction); and the median of a lead's samples
 * over a confirmation pause's windows (MedianWindow: one sort per pause).
 */
import { BIN_MS, QUEUE_MIN_MS, TRICKLE_MS, WINDOW_BINS } from './shared-bottleneck-params.js';

/** One path's queueing-delay history: BIN_MS bins over WINDOW_BINS, and its short-term level. */
export class PathDelays {
  /** Sum and count of samples per bin, and which bin each slot holds. */
  readonly sum = new Float64Array(WINDOW_BINS);
  readonly count = new Uint32Array(WINDOW_BINS);
  readonly min = new Float64Array(WINDOW_BINS);
  readonly bin = new Float64Array(WINDOW_BINS).fill(-1);
  /** The path's queue threshold (from its minimum RTT), ms. */
  threshold = QUEUE_MIN_MS;
  /** Latest sample and its time. */
  latest = 0;
  latestAt = -Infinity;
  /**
   * Short-term floor: the least sample of the current window of TRICKLE_MS / 4,
   * and of the window before it if that one ended just before this began.
   * A floor, not a mean: a host that runs the sender or the receiver late
   * adds delay to some samples and never takes any away: in the loaded
   * namespace lab a lead's mean over 50 ms read 85.7 ms where the
   * bottleneck could queue 20 ms at most (docs/bench.md, "Issue 12: a
   * standby split by host delay").
   */
  recentMin = Infinity;
  previousMin = Infinity;
  recentFrom = -Infinity;
  /** Last time the path saw a queue (mean of a bin ≥ its threshold). */
  lastQueueAt = -Infinity;

  add(q: number, now: number): void {
    const b = Math.floor(now / BIN_MS);
    const i = b % WINDOW_BINS;
    if (this.bin[i] !== b) {
      this.bin[i] = b;
      this.sum[i] = 0;
      this.count[i] = 0;
      this.min[i] = Infinity;
    }
    this.sum[i]! += q;
    this.count[i]!++;
    if (q < this.min[i]!) this.min[i] = q;
    this.latest = q;
    this.latestAt = now;
    if (now - this.recentFrom > TRICKLE_MS / 4) {
      // The window just closed counts only if it ended less than a window ago.
      this.previousMin = now - this.recentFrom <= TRICKLE_MS / 2 ? this.recentMin : Infinity;
      this.recentFrom = now;
      this.recentMin = Infinity;
    }
    if (q < this.recentMin) this.recentMin = q;
  }

  /** Mean of the bin `b`, or NaN without samples. */
  binMean(b: number): number {
    const i = b % WINDOW_BINS;
    return this.bin[i] === b && this.count[i]! > 0 ? this.sum[i]! / this.count[i]! : NaN;
  }

  /** The bin `b` saw only samples above the path's queue threshold (a queue that stood). */
  binStanding(b: number): boolean {
    const i = b % WINDOW_BINS;
    return this.bin[i] === b && this.count[i]! > 0 && this.min[i]! >= this.threshold;
  }

  /** Median of the bin means of bins [from, to] that have samples, NaN if none has. */
  binMedian(from: number, to: number): number {
    const means: number[] = [];
    for (let b = from; b <= to; b++) {
      const m = this.binMean(b);
      if (!Number.isNaN(m)) means.push(m);
    }
    return median(means);
  }

  /** The short-term floor of the queueing delay (see recentMin), NaN if no sample in the last TRICKLE_MS. */
  recentFloor(now: number): number {
    if (now - this.latestAt > TRICKLE_MS || this.recentMin === Infinity) return NaN;
    return Math.min(this.recentMin, this.previousMin);
  }
}

/** Most samples a MedianWindow keeps (a pause's window holds a few dozen at the lab's rates). */
export const MEDIAN_WINDOW_CAP = 512;

/**
 * The lead's samples over one window of a confirmation pause, judged by
 * their median: a late host adds tens of ms to a run of samples, which a
 * mean counts in full (in the loaded lab, 50 samples during one pause had
 * a median of 2.6 ms and a mean of 10.0 ms, with samples up to 39 ms).
 * Samples past MEDIAN_WINDOW_CAP are left out.
 */
export class MedianWindow {
  private readonly values = new Float64Array(MEDIAN_WINDOW_CAP);
  count = 0;

  add(q: number): void {
    if (this.count < MEDIAN_WINDOW_CAP) this.values[this.count++] = q;
  }

  clear(): void {
    this.count = 0;
  }

  /** The median of the samples, NaN without any. */
  median(): number {
    return this.count === 0 ? NaN : median(Array.from(this.values.subarray(0, this.count)));
  }
}

/** The median of `xs` (sorted in place), NaN if empty; of an even count, the mean of the middle two. */
export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  xs.sort((a, b) => a - b);
  const mid = xs.length >> 1;
  return xs.length % 2 === 1 ? xs[mid]! : (xs[mid - 1]! + xs[mid]!) / 2;
}
