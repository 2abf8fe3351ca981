import { describe, expect, it } from 'vitest';
import { ReceivedPackets } from '../../src/core/path/received-packets.js';
import type { AckRange } from '../../src/wire/types.js';
import { Rng } from '../../lab/random.js';

function withSeed(seed: number, fn: (rng: Rng) => void): void {
  try {
    fn(new Rng(seed));
  } catch (e) {
    throw new Error(`seed ${seed}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * Naive model of the specified behaviour: a bitmap of accepted numbers and a
 * floor; a new oldest range is refused when full; otherwise when the ranges
 * exceed maxRanges the oldest is dropped and the floor rises above it.
 */
class Model {
  readonly got: Uint8Array;
  floor = 0;
  ranges: AckRange[] = [];
  /** Largest number accepted so far. */
  top = -1;
  constructor(
    readonly maxRanges: number,
    size: number,
  ) {
    this.got = new Uint8Array(size);
  }
  /** Descending maximal runs of accepted numbers at or above the floor. */
  private compute(): AckRange[] {
    const out: AckRange[] = [];
    let hi = -1;
    for (let pn = this.top; pn >= this.floor - 1; pn--) {
      const has = pn >= this.floor && this.got[pn] === 1;
      if (has && hi < 0) hi = pn;
      if (!has && hi >= 0) {
        out.push({ smallest: pn + 1, largest: hi });
        hi = -1;
      }
    }
    return out;
  }
  receive(pn: number): boolean {
    if (pn < this.floor || this.got[pn] === 1) return false;
    const oldest = this.ranges[this.ranges.length - 1];
    if (this.ranges.length >= this.maxRanges && oldest !== undefined && pn < oldest.smallest - 1) return false;
    this.got[pn] = 1;
    if (pn > this.top) this.top = pn;
    this.ranges = this.compute();
    if (this.ranges.length > this.maxRanges) {
      this.floor = this.ranges[this.ranges.length - 1]!.largest + 1;
      this.ranges.pop();
    }
    return true;
  }
}

describe('ReceivedPackets', () => {
  it('builds descending ranges and reports duplicates', () => {
    const rp = new ReceivedPackets();
    expect(rp.largest).toBeNull();
    expect(rp.ranges()).toEqual([]);
    for (const pn of [0, 1, 2, 5, 6, 9]) expect(rp.onReceived(pn, true, 0)).toBe(true);
    expect(rp.ranges()).toEqual([
      { smallest: 9, largest: 9 },
      { smallest: 5, largest: 6 },
      { smallest: 0, largest: 2 },
    ]);
    expect(rp.onReceived(5, true, 0)).toBe(false);
    expect(rp.onReceived(0, false, 0)).toBe(false);
    expect(rp.onReceived(9, true, 0)).toBe(false);
    // Filling gaps merges ranges.
    expect(rp.onReceived(3, true, 0)).toBe(true);
    expect(rp.onReceived(4, true, 0)).toBe(true);
    expect(rp.onReceived(8, true, 0)).toBe(true);
    expect(rp.onReceived(7, true, 0)).toBe(true);
    expect(rp.ranges()).toEqual([{ smallest: 0, largest: 9 }]);
    expect(rp.largest).toBe(9);
    // ranges() returns copies.
    const copy = rp.ranges();
    copy[0]!.largest = 100;
    expect(rp.ranges()[0]!.largest).toBe(9);
  });

  it('matches a naive model under random arrivals (reordering, duplicates, range cap)', () => {
    for (const seed of [1, 2, 3, 0xbeef, 0xc0ffee]) {
      withSeed(seed, (rng) => {
        const maxRanges = rng.pick([4, 8, 32, 1000]);
        const rp = new ReceivedPackets({ maxRanges });
        const steps = 3000;
        const model = new Model(maxRanges, steps + 1);
        let next = 0;
        const pending: number[] = [];
        for (let step = 0; step < steps; step++) {
          // The network: packets go into a reordering buffer, some are lost, some duplicated.
          if (rng.chance(0.7)) {
            if (!rng.chance(0.1)) pending.push(next);
            next++;
          }
          if (pending.length > 0 && rng.chance(0.8)) {
            const i = rng.chance(0.7) ? 0 : rng.int(0, pending.length - 1);
            const pn = pending[i]!;
            if (!rng.chance(0.1)) pending.splice(i, 1); // else it arrives again later (duplicate)
            const ok = rp.onReceived(pn, true, step);
            const want = model.receive(pn);
            const got = rp.ranges();
            // Cheap comparison first; expect() only on a mismatch (keeps the suite fast).
            const same =
              ok === want &&
              got.length === model.ranges.length &&
              got.every((r, j) => r.smallest === model.ranges[j]!.smallest && r.largest === model.ranges[j]!.largest);
            if (!same) {
              expect(ok, `pn ${pn} at step ${step}`).toBe(want);
              expect(got, `ranges at step ${step}`).toEqual(model.ranges);
            }
            expect(got.length <= maxRanges).toBe(true);
          }
        }
      });
    }
  });

  it('caps ranges at maxRanges, newest kept, and refuses packets below the floor', () => {
    const rp = new ReceivedPackets({ maxRanges: 3 });
    for (const pn of [0, 2, 4]) rp.onReceived(pn, true, 0);
    expect(rp.rangeCount).toBe(3);
    rp.onReceived(6, true, 0); // drops {0}; floor = 1
    expect(rp.ranges()).toEqual([
      { smallest: 6, largest: 6 },
      { smallest: 4, largest: 4 },
      { smallest: 2, largest: 2 },
    ]);
    expect(rp.onReceived(0, true, 0)).toBe(false); // below the floor: duplicate
    expect(rp.onReceived(1, true, 0)).toBe(true); // extends {2}
    expect(rp.ranges()[2]).toEqual({ smallest: 1, largest: 2 });
    rp.onReceived(8, true, 0); // drops {1..2}; floor = 3
    expect(rp.onReceived(3, true, 0)).toBe(true); // adjacent to {4}: allowed
    expect(rp.ranges()).toEqual([
      { smallest: 8, largest: 8 },
      { smallest: 6, largest: 6 },
      { smallest: 3, largest: 4 },
    ]);
    expect(rp.onReceived(2, true, 0)).toBe(false);
    expect(rp.onReceived(1, true, 0)).toBe(false);
  });

  it('forgetBelow drops acknowledged history and raises the floor', () => {
    const rp = new ReceivedPackets();
    for (const pn of [0, 1, 2, 5, 6, 9]) rp.onReceived(pn, true, 0);
    rp.forgetBelow(6);
    expect(rp.ranges()).toEqual([
      { smallest: 9, largest: 9 },
      { smallest: 6, largest: 6 },
    ]);
    expect(rp.onReceived(3, true, 0)).toBe(false);
    expect(rp.onReceived(7, true, 0)).toBe(true);
  });

  it('ackNeeded: every N ack-eliciting packets, immediately on a gap or reordering, else at the deadline', () => {
    const rp = new ReceivedPackets({ ackEveryN: 2, maxAckDelay: 25 });
    expect(rp.ackNeeded(0)).toBe(false);
    expect(rp.ackDeadline).toBeNull();
    rp.onReceived(0, true, 100);
    expect(rp.hasUnacked).toBe(true);
    expect(rp.ackNeeded(100)).toBe(false);
    expect(rp.ackDeadline).toBe(125);
    expect(rp.ackNeeded(124.9)).toBe(false);
    expect(rp.ackNeeded(125)).toBe(true);
    rp.onReceived(1, true, 101);
    expect(rp.ackNeeded(101)).toBe(true); // 2 pending
    rp.onAckSent(101);
    expect(rp.ackNeeded(200)).toBe(false);
    expect(rp.ackDeadline).toBeNull();
    expect(rp.hasUnacked).toBe(false);

    // Non-ack-eliciting packets never ask for an ACK (nor set a deadline).
    rp.onReceived(2, false, 102);
    rp.onReceived(3, false, 103);
    expect(rp.hasUnacked).toBe(true);
    expect(rp.ackNeeded(1000)).toBe(false);
    expect(rp.ackDeadline).toBeNull();

    // Gap: 5 after 3 -> immediate.
    rp.onReceived(5, true, 104);
    expect(rp.ackNeeded(104)).toBe(true);
    rp.onAckSent(104);
    // Reordered (below largest) -> immediate.
    rp.onReceived(4, true, 105);
    expect(rp.ackNeeded(105)).toBe(true);
    rp.onAckSent(105);
    // In order again -> delayed.
    rp.onReceived(6, true, 106);
    expect(rp.ackNeeded(106)).toBe(false);

    // ackEveryN can change at run time.
    rp.ackEveryN = 1;
    expect(rp.ackNeeded(106)).toBe(true);
  });

  it('ack delay: integer microseconds since the largest arrived', () => {
    const rp = new ReceivedPackets();
    expect(rp.ackDelayMicros(5)).toBe(0);
    rp.onReceived(10, true, 1.25);
    rp.onReceived(4, true, 3); // not the largest: does not move the reference time
    expect(rp.ackDelayMicros(4.0005)).toBe(2750);
    expect(Number.isInteger(rp.ackDelayMicros(7.123456))).toBe(true);
    rp.onReceived(11, true, 8);
    expect(rp.ackDelayMicros(8)).toBe(0);
  });
});
