/**
 * A windowed maximum over a virtual clock of whole steps (BBR's ProbeBW
 * cycles for max_bw, packet-timed rounds for extra_acked): the largest value
 * seen during the last `length` steps, the current one included. One slot
 * per step, reused as the clock moves on; no allocation after construction.
 *
 * draft-ietf-ccwg-bbr uses "UpdateWindowedMaxFilter(filter, value, time,
 * window_length)" and points to Kathleen Nichols' algorithm; with windows of
 * 2 and 10 steps, a slot per step is as cheap and exact.
 */
export class WindowedMax {
  /** Best value seen in each step's slot. */
  private readonly values: number[];
  /** The step each slot holds (−1 = empty). */
  private readonly steps: number[];

  constructor(readonly capacity: number) {
    this.values = new Array<number>(capacity).fill(0);
    this.steps = new Array<number>(capacity).fill(-1);
  }

  /**
   * Records `value` at step `time` and returns the maximum over steps
   * (time − length, time], `length` ≤ capacity (a shorter window is how BBR
   * remembers one round of extra_acked in Startup).
   */
  update(value: number, time: number, length = this.capacity): number {
    const i = time % this.capacity;
    if (this.steps[i] !== time) {
      this.steps[i] = time;
      this.values[i] = value;
    } else if (value > this.values[i]!) {
      this.values[i] = value;
    }
    return this.best(time, length);
  }

  /** The maximum over steps (time − length, time]; 0 when none. */
  best(time: number, length = this.capacity): number {
    let best = 0;
    for (let i = 0; i < this.capacity; i++) {
      const s = this.steps[i]!;
      if (s < 0 || s > time || s <= time - length) continue;
      if (this.values[i]! > best) best = this.values[i]!;
    }
    return best;
  }

  /** Forgets everything. */
  reset(): void {
    this.values.fill(0);
    this.steps.fill(-1);
  }
}
