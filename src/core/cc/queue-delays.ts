/**
 * A path's queueing delay over time, as shared-bottleneck detection keeps it
 * (shared-bottleneck.ts): the mean and the minimum of the samples in each
 * bin of BIN_MS over the last WINDOW_BINS bins, one slot per bin reused as
 * time moves on, and a short-term level for the standby path's re-checks.
 * No allocation after construction.
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
  /** Short-term level: mean of the samples in the last TRICKLE_MS / 4. */
  recentSum = 0;
  recentCount = 0;
  recentFrom = 0;
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
      this.recentFrom = now;
      this.recentSum = 0;
      this.recentCount = 0;
    }
    this.recentSum += q;
    this.recentCount++;
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

  /** Mean queueing delay over bins [from, to], NaN without samples. */
  mean(from: number, to: number): number {
    let s = 0;
    let n = 0;
    for (let b = from; b <= to; b++) {
      const i = b % WINDOW_BINS;
      if (this.bin[i] === b && this.count[i]! > 0) {
        s += this.sum[i]!;
        n += this.count[i]!;
      }
    }
    return n > 0 ? s / n : NaN;
  }

  /** The short-term level (recent samples), NaN if none in the last TRICKLE_MS. */
  recent(now: number): number {
    if (now - this.latestAt > TRICKLE_MS || this.recentCount === 0) return NaN;
    return this.recentSum / this.recentCount;
  }
}

