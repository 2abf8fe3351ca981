/**
 * The connections of an endpoint that may have something to do (datagrams
 * to send, events to give, a deadline to refresh): an array that keeps each
 * member's index on the member, so adding, removing and asking are O(1),
 * walking it needs no iterator, and once it has grown nothing is allocated.
 *
 * A Set did the same with an iterator per walk (a walk per poll), and its
 * table, which a delete leaves a hole in, was rebuilt every few add/delete
 * cycles: about 240 bytes of garbage per 1 KiB round trip
 * (bench/rr-alloc.ts). Removing moves the last member into the hole, so the
 * order is not the order of arrival; a round robin goes by the list's
 * cursor instead (`next`, `advance`: EndpointCore.pollTransmit).
 */

/** A member carries its own place in the list: -1 while it is not in one. */
export interface BusyMember {
  busyIndex: number;
}

export class BusyList<T extends BusyMember> {
  /** Members in [0, size); the slots past size are stale. */
  private readonly items: T[] = [];
  /** Number of members. */
  size = 0;
  /** The round robin's place: the member next() returns. */
  private cursor = 0;

  /** The member at `i` (0 ≤ i < size). */
  at(i: number): T {
    return this.items[i]!;
  }

  /**
   * The member whose turn it is, or undefined if the list is empty. It
   * stays the one next() returns until advance() or its delete(): then the
   * member moved into its place has the turn.
   */
  next(): T | undefined {
    if (this.size === 0) return undefined;
    if (this.cursor >= this.size) this.cursor = 0;
    return this.items[this.cursor];
  }

  /** The turn passes to the next member. */
  advance(): void {
    this.cursor++;
  }

  has(member: T): boolean {
    return member.busyIndex >= 0;
  }

  add(member: T): void {
    if (member.busyIndex >= 0) return;
    member.busyIndex = this.size;
    this.items[this.size++] = member;
  }

  delete(member: T): void {
    const i = member.busyIndex;
    if (i < 0) return;
    const last = this.items[--this.size]!;
    this.items[i] = last;
    last.busyIndex = i;
    // No member is held past size: a forgotten connection must be collectable.
    this.items[this.size] = undefined as unknown as T;
    member.busyIndex = -1;
  }
}
