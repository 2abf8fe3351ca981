/**
 * CoupledGroup: the paths of one connection whose congestion controllers are
 * coupled (LIA, RFC 6356; OLIA). One group per connection; each coupled
 * controller joins it when created and reads the other members' windows and
 * smoothed RTTs when its window grows.
 *
 * Membership:
 *  - a controller joins at construction and leaves for good with `dispose()`;
 *  - a member *takes part* in the coupling (is counted in cwnd_total and in
 *    alpha) only from its first RTT sample (first ACK) until its `reset()`:
 *    `failPath()` resets a failed or closed path's controller, which takes it
 *    out of the sums at once, and its next ACK (the path works again) puts it
 *    back. A path that never carried an ACK-eliciting packet to completion
 *    (validating, or a backup that only saw probes) is not counted either.
 *
 * No allocation per call; at most a few members (maxPaths).
 */

import { SharedBottleneckDetector, type BottleneckPathSource } from '../cc/shared-bottleneck.js';
import type { RandomSource } from '../types.js';
import type { RandomInt } from './congestion.js';

/** Random integers in [0, n) from a source of random bytes (uniform enough for timing jitter). */
export function randomInt(random: RandomSource): RandomInt {
  return (n: number) => {
    const b = random(4);
    return ((b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0) % n;
  };
}

/** What the group reads of a coupled controller. */
export interface CoupledMember {
  /** Congestion window, bytes (fractional allowed). */
  readonly cwndBytes: number;
  /** Smoothed RTT of the path, ms (> 0 while taking part). */
  readonly srttMs: number;
  /** Counted in the sums (has an RTT sample and was not reset since). */
  readonly coupled: boolean;
}

export class CoupledGroup {
  /** Every member that joined and did not dispose. */
  private readonly list: CoupledMember[] = [];
  /** Random integers in [0, n) for the connection's controllers (BBR's probe timing), if the connection gave a source. */
  readonly random: RandomInt | undefined;
  /**
   * Which of the connection's paths share a bottleneck, and so are carried
   * as one flow there (src/core/cc/shared-bottleneck.ts). Off without
   * `paths`, and for the coupled controllers, which need no detection.
   */
  readonly bottlenecks: SharedBottleneckDetector;

  /**
   * `random`: the connection's injected random bytes (none: controllers use
   * a fixed sequence). `paths`: the connection's paths, for shared-bottleneck
   * detection (none: no detection).
   */
  constructor(random?: RandomSource, paths: (() => readonly BottleneckPathSource[]) | null = null) {
    this.random = random === undefined ? undefined : randomInt(random);
    this.bottlenecks = new SharedBottleneckDetector(true, paths);
  }

  /** Number of members (taking part or not). */
  get size(): number {
    return this.list.length;
  }

  /** The members (read-only view). */
  get members(): readonly CoupledMember[] {
    return this.list;
  }

  /** Adds `m` (idempotent). */
  join(m: CoupledMember): void {
    if (!this.list.includes(m)) this.list.push(m);
  }

  /** Removes `m` (idempotent). */
  leave(m: CoupledMember): void {
    const i = this.list.indexOf(m);
    if (i >= 0) this.list.splice(i, 1);
  }

  /** cwnd_total: the sum of the windows of the members taking part, bytes. */
  totalWindow(): number {
    let sum = 0;
    for (const m of this.list) if (m.coupled) sum += m.cwndBytes;
    return sum;
  }

  /**
   * RFC 6356 §3 (equation 2):
   *   "alpha = cwnd_total * max_i(cwnd_i/rtt_i^2) / (sum_i(cwnd_i/rtt_i))^2"
   * over the members taking part. Dimensionless (RTT units cancel), so
   * windows in bytes and RTTs in ms serve. 1 when nobody takes part (a lone
   * path is then plain Reno).
   */
  liaAlpha(): number {
    let total = 0;
    let best = 0;
    let denom = 0;
    for (const m of this.list) {
      if (!m.coupled) continue;
      const w = m.cwndBytes;
      const r = m.srttMs;
      total += w;
      const q = w / (r * r);
      if (q > best) best = q;
      denom += w / r;
    }
    if (denom <= 0) return 1;
    return (total * best) / (denom * denom);
  }

  /** sum_p(cwnd_p / rtt_p), bytes per ms, over the members taking part (OLIA's denominator). */
  rateSum(): number {
    let sum = 0;
    for (const m of this.list) if (m.coupled) sum += m.cwndBytes / m.srttMs;
    return sum;
  }

  /** Members taking part. */
  coupledCount(): number {
    let n = 0;
    for (const m of this.list) if (m.coupled) n++;
    return n;
  }
}
