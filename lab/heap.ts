/**
 * A binary min-heap of timed items: the simulator's event queue (virtual
 * clock) and the emulator's delivery queue (real clock) both keep theirs in
 * one.
 *
 * Ordered by (time, insertion order): items with equal times come out in the
 * order they were pushed, so a run never depends on heap internals. Keys are
 * kept in parallel arrays (no per-entry wrapper object); push and pop are
 * O(log n).
 */
export class EventHeap<T> {
  /** Time of each slot's item. */
  private readonly times: number[] = [];
  /** Insertion sequence number of each slot's item (tie-breaker). */
  private readonly seqs: number[] = [];
  /** The items, in heap order. */
  private readonly items: T[] = [];
  /** Next insertion sequence number. */
  private nextSeq = 0;

  /** Number of items held. */
  get size(): number {
    return this.items.length;
  }

  /** Adds `item` due at `time`. */
  push(time: number, item: T): void {
    if (Number.isNaN(time)) throw new Error('EventHeap.push: time is NaN');
    const seq = this.nextSeq++;
    let i = this.items.length;
    this.times.push(time);
    this.seqs.push(seq);
    this.items.push(item);
    // Sift up: move parents down until the slot for (time, seq) is found.
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.before(parent, time, seq)) break;
      this.move(i, parent);
      i = parent;
    }
    this.put(i, time, seq, item);
  }

  /** Time of the earliest item, or Infinity when empty. */
  peekTime(): number {
    return this.items.length > 0 ? this.times[0]! : Infinity;
  }

  /** The earliest item without removing it. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** Removes and returns the earliest item (undefined when empty). */
  pop(): T | undefined {
    const items = this.items;
    if (items.length === 0) return undefined;
    const top = items[0]!;
    const lastTime = this.times.pop()!;
    const lastSeq = this.seqs.pop()!;
    const lastItem = items.pop()!;
    const size = items.length;
    if (size === 0) return top;
    // Sift down the former last entry from the root.
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      const right = child + 1;
      if (right < size && this.before(right, this.times[child]!, this.seqs[child]!)) child = right;
      if (!this.before(child, lastTime, lastSeq)) break;
      this.move(i, child);
      i = child;
    }
    this.put(i, lastTime, lastSeq, lastItem);
    return top;
  }

  /** Removes every item; returns them (in no particular order). */
  clear(): T[] {
    this.times.length = 0;
    this.seqs.length = 0;
    return this.items.splice(0);
  }

  /** Whether the item in `slot` comes before (time, seq). */
  private before(slot: number, time: number, seq: number): boolean {
    const t = this.times[slot]!;
    return t < time || (t === time && this.seqs[slot]! < seq);
  }

  /** Copies slot `from` into slot `to`. */
  private move(to: number, from: number): void {
    this.times[to] = this.times[from]!;
    this.seqs[to] = this.seqs[from]!;
    this.items[to] = this.items[from]!;
  }

  /** Writes an item into `slot`. */
  private put(slot: number, time: number, seq: number, item: T): void {
    this.times[slot] = time;
    this.seqs[slot] = seq;
    this.items[slot] = item;
  }
}
