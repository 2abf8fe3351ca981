/**
 * A link's delivery record, for measuring what it carried over time.
 */

/** Delivery record of a link: flat arrays, one entry per delivery. */
export class DeliveryLog {
  /** Time of each delivery (ms, on the clock of the link's user). */
  readonly times: number[] = [];
  /** Size of each delivered datagram (bytes). */
  readonly bytes: number[] = [];

  /** Bytes delivered in [from, to). */
  bytesBetween(from: number, to: number): number {
    let sum = 0;
    const times = this.times;
    for (let i = lowerBound(times, from); i < times.length && times[i]! < to; i++) sum += this.bytes[i]!;
    return sum;
  }

  /** Delivered throughput in bits per second over [from, to). */
  throughputBps(from: number, to: number): number {
    return (this.bytesBetween(from, to) * 8000) / (to - from);
  }

  /** Throughput (bit/s) per bucket of `bucketMs` from `from` to `to`. */
  series(from: number, to: number, bucketMs: number): number[] {
    const out: number[] = [];
    for (let t = from; t < to; t += bucketMs) out.push(this.throughputBps(t, Math.min(t + bucketMs, to)));
    return out;
  }
}

/** First index whose value is >= x in an ascending array. */
function lowerBound(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
