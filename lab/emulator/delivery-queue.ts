/**
 * DeliveryQueue: datagrams waiting for their delivery time, behind one timer.
 *
 * The items wait in an EventHeap (../heap.ts, the simulator's own), ordered
 * by (time, insertion order), so datagrams due at the same time leave in the
 * order they came; a single `setTimeout` is armed for the earliest one. When
 * it fires, everything due (within `slackMs`, because Node's timers have
 * millisecond granularity and may fire a little early or late) is delivered
 * in order and the timer is re-armed. This holds far higher packet rates
 * than one timer per datagram.
 */
import { EventHeap } from '../heap.js';

/** Fire items due within this many ms of now (timer granularity is 1 ms). */
export const DEFAULT_SLACK_MS = 0.5;

export class DeliveryQueue<T> {
  /** The items, by due time. */
  private readonly heap = new EventHeap<T>();
  /** The one timer, armed for `armedFor`. */
  private timer: NodeJS.Timeout | null = null;
  /** Due time the timer is armed for (Infinity when disarmed, -Infinity once closed). */
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
    return this.heap.size;
  }

  /** Queues `item` for delivery at `time` (ms on the clock). */
  push(time: number, item: T): void {
    this.heap.push(time, item);
    if (time < this.armedFor) this.arm(time);
  }

  /** Drops every item without delivering it; returns them. */
  clear(): T[] {
    this.disarm();
    return this.heap.clear();
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
    const heap = this.heap;
    const limit = this.now() + this.slackMs;
    while (heap.peekTime() <= limit) this.deliver(heap.pop()!);
    if (heap.size > 0) this.arm(heap.peekTime());
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
    if (this.armedFor !== -Infinity) this.armedFor = Infinity;
  }
}
