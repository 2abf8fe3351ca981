/**
 * Received-packet tracking for one path: which packet numbers to acknowledge
 * and when (RFC 9000 §13.2, applied per path).
 *
 * Ranges are kept newest first, disjoint and non-adjacent, at most `maxRanges`.
 * When a range must be dropped, the oldest goes and a floor rises above it:
 * anything below the floor is reported as a duplicate (it is either one or
 * too old to be worth acknowledging; the sender will have declared it lost).
 * Likewise, when all `maxRanges` are in use, a packet that would open a new
 * range below the oldest one is refused as too old.
 */
import type { AckRange } from '../../wire/types.js';

export interface ReceivedPacketsOptions {
  /** Most ranges kept and reported (default 32). */
  maxRanges?: number;
  /** Ack-eliciting packets received before an ACK goes out at once (default 2). */
  ackEveryN?: number;
  /** Longest an ACK for an ack-eliciting packet is delayed, ms (default 25). */
  maxAckDelay?: number;
}

export class ReceivedPackets {
  /** Ack-eliciting packets to wait for before acknowledging immediately; settable at run time. */
  ackEveryN: number;
  /** Most ranges kept. */
  readonly maxRanges: number;
  /** Our max_ack_delay, ms. */
  readonly maxAckDelay: number;
  /** Received ranges, descending; each object is owned here (callers get copies). */
  private readonly r: AckRange[] = [];
  /** Packet numbers below this count as duplicates. */
  private floor = 0;
  /** When the current largest packet number arrived. */
  private largestTime = 0;
  /** Ack-eliciting packets received since the last ACK was sent. */
  private pendingAckEliciting = 0;
  /** An out-of-order ack-eliciting packet asks for an ACK now. */
  private immediate = false;
  /** When a delayed ACK must be sent, or null if none is owed. */
  ackDeadline: number | null = null;
  /** Something (ack-eliciting or not) arrived since the last ACK was sent. */
  hasUnacked = false;
  /** When the last ACK was sent, or null. */
  lastAckSent: number | null = null;

  constructor(opts: ReceivedPacketsOptions = {}) {
    this.maxRanges = Math.max(1, opts.maxRanges ?? 32);
    this.ackEveryN = Math.max(1, opts.ackEveryN ?? 2);
    this.maxAckDelay = opts.maxAckDelay ?? 25;
  }

  /** Largest packet number received, or null. */
  get largest(): number | null {
    return this.r.length === 0 ? null : this.r[0]!.largest;
  }

  /** Number of ranges currently kept. */
  get rangeCount(): number {
    return this.r.length;
  }

  /**
   * Records a packet. Returns false for a duplicate (already received, or
   * below the floor); the caller drops it and counts it.
   */
  onReceived(packetNumber: number, ackEliciting: boolean, now: number): boolean {
    if (packetNumber < this.floor) return false;
    const prevLargest = this.largest;
    if (!this.insert(packetNumber)) return false;
    if (prevLargest === null || packetNumber > prevLargest) this.largestTime = now;
    this.hasUnacked = true;
    if (ackEliciting) {
      this.pendingAckEliciting++;
      // RFC 9000 §13.2.1: "an endpoint SHOULD generate and send an ACK frame
      // without delay when it receives an ack-eliciting packet either: when the
      // received packet has a packet number less than another ack-eliciting
      // packet that has been received, or when the packet has a packet number
      // larger than the highest-numbered ack-eliciting packet that has been
      // received and there are missing packets between that packet and this
      // packet." (Approximated with the largest packet of any kind.)
      if (prevLargest !== null && packetNumber !== prevLargest + 1) this.immediate = true;
      // §13.2.1: "An endpoint MUST acknowledge all ack-eliciting 1-RTT packets
      // within its advertised max_ack_delay".
      if (this.ackDeadline === null) this.ackDeadline = now + this.maxAckDelay;
    }
    return true;
  }

  /** True when an ACK should be sent now. */
  ackNeeded(now: number): boolean {
    if (this.pendingAckEliciting === 0) return false;
    if (this.immediate || this.pendingAckEliciting >= this.ackEveryN) return true;
    return this.ackDeadline !== null && now >= this.ackDeadline;
  }

  /** The ranges to report as they stand (descending, at most `maxRanges`): read them, keep nothing; the next packet changes them. */
  get liveRanges(): readonly AckRange[] {
    return this.r;
  }

  /** Ranges to report, descending (newest first), at most `maxRanges`; fresh copies. */
  ranges(): AckRange[] {
    const out: AckRange[] = new Array(this.r.length);
    for (let i = 0; i < this.r.length; i++) {
      const x = this.r[i]!;
      out[i] = { smallest: x.smallest, largest: x.largest };
    }
    return out;
  }

  /** ACK Delay field: time since the largest packet arrived, integer microseconds. */
  ackDelayMicros(now: number): number {
    if (this.r.length === 0) return 0;
    return Math.max(0, Math.floor((now - this.largestTime) * 1000));
  }

  /** An ACK carrying `ranges()` was sent: resets the pending counters and the delay timer. */
  onAckSent(now: number): void {
    this.pendingAckEliciting = 0;
    this.immediate = false;
    this.ackDeadline = null;
    this.hasUnacked = false;
    this.lastAckSent = now;
  }

  /**
   * The peer has seen our ACK up to `packetNumber` (an ACK of an ACK): stop
   * reporting anything below it; those numbers now count as duplicates.
   */
  forgetBelow(packetNumber: number): void {
    if (packetNumber <= this.floor) return;
    this.floor = packetNumber;
    while (this.r.length > 0 && this.r[this.r.length - 1]!.largest < packetNumber) this.r.pop();
    const last = this.r[this.r.length - 1];
    if (last !== undefined && last.smallest < packetNumber) last.smallest = packetNumber;
  }

  /** Adds one packet number to the ranges; false if already present. */
  private insert(pn: number): boolean {
    const r = this.r;
    for (let i = 0; i < r.length; i++) {
      const cur = r[i]!;
      if (pn > cur.largest) {
        const above = i > 0 ? r[i - 1]! : undefined;
        if (pn === cur.largest + 1) {
          cur.largest = pn;
          if (above !== undefined && above.smallest === pn + 1) {
            above.smallest = cur.smallest; // merge cur into the range above
            this.removeAt(i);
          }
        } else if (above !== undefined && above.smallest === pn + 1) {
          above.smallest = pn;
        } else {
          this.insertAt(i, { smallest: pn, largest: pn });
        }
        return true;
      }
      if (pn >= cur.smallest) return false; // inside cur: duplicate
    }
    // Below every range.
    const last = r[r.length - 1];
    if (last !== undefined && last.smallest === pn + 1) {
      last.smallest = pn;
      return true;
    }
    // A new oldest range when full would be dropped at once: too old, treat as duplicate.
    if (r.length >= this.maxRanges) return false;
    this.insertAt(r.length, { smallest: pn, largest: pn });
    return true;
  }

  /** Inserts a range at index i, then enforces `maxRanges` by dropping the oldest. */
  private insertAt(i: number, range: AckRange): void {
    const r = this.r;
    r.push(range);
    for (let j = r.length - 1; j > i; j--) r[j] = r[j - 1]!;
    r[i] = range;
    if (r.length > this.maxRanges) {
      const dropped = r.pop()!;
      this.floor = dropped.largest + 1;
    }
  }

  /** Removes the range at index i. */
  private removeAt(i: number): void {
    const r = this.r;
    for (let j = i; j < r.length - 1; j++) r[j] = r[j + 1]!;
    r.pop();
  }
}
