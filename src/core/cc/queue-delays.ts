/**
 * A path's queueing delay over time, as shared-bottleneck detection keeps it
 * (shared-bottleneck.ts): the mean and the minimum of the samples in each
 * bin of BIN_MS over the last WINDOW_BINS bins, one slot per bin reused as
 * time moves on, and a short-term floor for the standby path's re-checks.
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
  /**
   * Short-term floor: the least sample of the current window of TRICKLE_MS / 4,
   * and of the window before it if that one ended just before this began.
   * A floor, not a mean: a host that runs the sender or the receiver late
   * adds delay to some samples and never takes any away, and in the loaded
   * namespace lab a lead's 12 ms mean held samples of 180 ms where the
   * bottleneck could queue 20 ms at most (docs/bench.md, "A standby split by
   * host delay").
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

  /** The short-term floor of the queueing delay (see recentMin), NaN if no sample in the last TRICKLE_MS. */
  recentFloor(now: number): number {
    if (now - this.latestAt > TRICKLE_MS || this.recentMin === Infinity) return NaN;
    return Math.min(this.recentMin, this.previousMin);
  }
}

