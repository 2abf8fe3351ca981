/**
 * DeliveryQueue: datagrams waiting for their delivery time, behind one timer.
 *
 * A binary min-heap ordered by (time, insertion order), so datagrams due at
 * the same time leave in the order they came, and a single `setTimeout`
 * armed for the earliest one. When it fires, everything due (within
 * `slackMs`, because Node's timers have millisecond granularity and may fire
 * a little early or late) is delivered in order and the timer is re-armed.
 * This holds far higher packet rates than one timer per datagram.
 */

/** Fire items due within this many ms of now (timer granularity is 1 ms). */
export const DEFAULT_SLACK_MS = 0.5;

export class DeliveryQueue<T> {
  /** Due time of each heap slot. */
  private readonly times: number[] = [];
  /** Insertion number of each slot (tie-breaker: FIFO among equal times). */
  private readonly seqs: number[] = [];
  /** Items in heap order. */
  private readonly items: T[] = [];
  /** Next insertion number. */
  private nextSeq = 0;
  /** The one timer, armed for `armedFor`. */
  private timer: NodeJS.Timeout | null = null;
  /** Due time the timer is armed for (Infinity when disarmed). */
  private armedFor = Infinity;
  /** The timer does not keep the process alive. */
  private unrefed = false;

  /**
   * @param deliver called with each item when it is due, in order
   * @param now the clock (ms, monotonic)
   * @param slackMs deliver items due within this long of now
   */
  constructor(
    private readonly deliver: (item: T) => void,
    private readonly now: () => number,
    private readonly slackMs = DEFAULT_SLACK_MS,
  ) {}

  /** Items waiting. */
  get size(): number {
    return this.items.length;
  }

  /** Queues `item` for delivery at `time` (ms on the clock). */
  push(time: number, item: T): void {
    const { times, seqs, items } = this;
    const seq = this.nextSeq++;
    let i = items.length;
    times.push(time);
    seqs.push(seq);
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent]!;
      if (pt < time || (pt === time && seqs[parent]! < seq)) break;
      times[i] = pt;
      seqs[i] = seqs[parent]!;
      items[i] = items[parent]!;
      i = parent;
    }
    times[i] = time;
    seqs[i] = seq;
    items[i] = item;
    if (time < this.armedFor) this.arm(time);
  }

  /** Drops every item without delivering it; returns them. */
  clear(): T[] {
    const out = this.items.splice(0);
    this.times.length = 0;
    this.seqs.length = 0;
    this.disarm();
    return out;
  }

  /** Stops the timer for good (items stay, undelivered). */
  close(): void {
    this.disarm();
    this.armedFor = -Infinity; // never re-arm
  }

  /** Lets the process exit while items are waiting. */
  unref(): void {
    this.unrefed = true;
    this.timer?.unref();
  }

  /** Undoes unref(). */
  ref(): void {
    this.unrefed = false;
    this.timer?.ref();
  }

  /** Delivers everything due; re-arms for the rest. */
  private fire = (): void => {
    this.timer = null;
    this.armedFor = Infinity;
    const limit = this.now() + this.slackMs;
    while (this.items.length > 0 && this.times[0]! <= limit) {
      this.deliver(this.pop());
    }
    if (this.items.length > 0) this.arm(this.times[0]!);
  };

  /** Arms the timer for `time`, replacing an earlier arming. */
  private arm(time: number): void {
    if (this.armedFor === -Infinity) return; // closed
    if (this.timer !== null) clearTimeout(this.timer);
    this.armedFor = time;
    const wait = time - this.now();
    this.timer = setTimeout(this.fire, wait > 1 ? Math.floor(wait) : 1);
    if (this.unrefed) this.timer.unref();
  }

  /** Stops the timer. */
  private disarm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = Infinity;
  }

  /** Removes the earliest item. */
  private pop(): T {
    const { times, seqs, items } = this;
    const top = items[0]!;
    const lastTime = times.pop()!;
    const lastSeq = seqs.pop()!;
    const last = items.pop()!;
    const n = items.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        let c = l;
        if (r < n && (times[r]! < times[l]! || (times[r] === times[l] && seqs[r]! < seqs[l]!))) c = r;
        if (times[c]! > lastTime || (times[c] === lastTime && seqs[c]! > lastSeq)) break;
        times[i] = times[c]!;
        seqs[i] = seqs[c]!;
        items[i] = items[c]!;
        i = c;
      }
      times[i] = lastTime;
      seqs[i] = lastSeq;
      items[i] = last;
    }
    return top;
  }
}
