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
    const times = this.times;
    const seqs = this.seqs;
    const items = this.items;
    const seq = this.nextSeq++;
    let i = items.length;
    times.push(time);
    seqs.push(seq);
    items.push(item);
    // Sift up: move parents down until the slot for (time, seq) is found.
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
    const n = items.length;
    if (n === 0) return undefined;
    const times = this.times;
    const seqs = this.seqs;
    const top = items[0]!;
    const lastTime = times.pop()!;
    const lastSeq = seqs.pop()!;
    const lastItem = items.pop()!;
    const size = n - 1;
    if (size === 0) return top;
    // Sift down the former last entry from the root.
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      const right = child + 1;
      if (right < size) {
        const ct = times[child]!;
        const rt = times[right]!;
        if (rt < ct || (rt === ct && seqs[right]! < seqs[child]!)) child = right;
      }
      const ct = times[child]!;
      if (lastTime < ct || (lastTime === ct && lastSeq < seqs[child]!)) break;
      times[i] = ct;
      seqs[i] = seqs[child]!;
      items[i] = items[child]!;
      i = child;
    }
    times[i] = lastTime;
    seqs[i] = lastSeq;
    items[i] = lastItem;
    return top;
  }

  /** Removes every item; returns them (in no particular order). */
  clear(): T[] {
    this.times.length = 0;
    this.seqs.length = 0;
    return this.items.splice(0);
  }
}
