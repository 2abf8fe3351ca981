/**
 * A binary min-heap of items by deadline, each item knowing its own place
 * (`heapIndex`), so that moving or removing one costs O(log n) and the
 * earliest deadline O(1). The endpoint keeps one entry per connection in it
 * instead of scanning every connection on each poll (issue #11: the scan
 * was about 30 % of a core at 1,000 idle connections).
 */

/** What the heap holds: a deadline and the item's place in the heap (-1: not in it). */
export interface HeapItem {
  deadline: number;
  heapIndex: number;
}

export class DeadlineHeap<T extends HeapItem> {
  private readonly items: T[] = [];

  get size(): number {
    return this.items.length;
  }

  /** The item with the earliest deadline, or undefined. */
  peek(): T | undefined {
    return this.items[0];
  }

  /** Sets `item`'s deadline (null: takes it out of the heap). */
  set(item: T, deadline: number | null): void {
    if (deadline === null) {
      this.remove(item);
      return;
    }
    if (item.heapIndex < 0) {
      item.deadline = deadline;
      item.heapIndex = this.items.length;
      this.items.push(item);
      this.up(item.heapIndex);
      return;
    }
    const earlier = deadline < item.deadline;
    item.deadline = deadline;
    if (earlier) this.up(item.heapIndex);
    else this.down(item.heapIndex);
  }

  /** Takes `item` out of the heap (nothing if it is not in it). */
  remove(item: T): void {
    const i = item.heapIndex;
    if (i < 0) return;
    item.heapIndex = -1;
    const last = this.items.pop()!;
    if (last === item) return;
    this.items[i] = last;
    last.heapIndex = i;
    this.up(i);
    this.down(last.heapIndex);
  }

  private up(i: number): void {
    const items = this.items;
    const item = items[i]!;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = items[p]!;
      if (parent.deadline <= item.deadline) break;
      items[i] = parent;
      parent.heapIndex = i;
      i = p;
    }
    items[i] = item;
    item.heapIndex = i;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const item = items[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && items[r]!.deadline < items[l]!.deadline ? r : l;
      const child = items[c]!;
      if (child.deadline >= item.deadline) break;
      items[i] = child;
      child.heapIndex = i;
      i = c;
    }
    items[i] = item;
    item.heapIndex = i;
  }
}
