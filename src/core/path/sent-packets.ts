/**
 * Sent-packet tracking and loss detection for one path's packet number space
 * (RFC 9002 §6 and Appendix A).
 *
 * Storage is a ring buffer of slots indexed by `packetNumber - basePn`.
 * Acknowledged or lost packets leave an empty slot (tombstone) and empty
 * slots at the head are trimmed. Because loss detection runs on every ACK
 * with a packet threshold of 3, at most two live packets remain below the
 * largest acknowledged one, so the scanned region of each ACK is the few
 * slots around the head plus the packets the ACK newly covers: amortised
 * O(1) per packet even with ~10k packets in flight.
 */
import type { AckRange } from '../../wire/types.js';
import type { PacketDeliveryState } from '../cc/delivery-rate.js';
import { K_GRANULARITY, type RttEstimator } from './rtt.js';

/**
 * RFC 9002 §6.1.1: "The RECOMMENDED initial value for the packet reordering
 * threshold (kPacketThreshold) is 3".
 */
export const K_PACKET_THRESHOLD = 3;
/** RFC 9002 §6.1.2: "The RECOMMENDED time threshold (kTimeThreshold), expressed as an RTT multiplier, is 9/8." */
export const K_TIME_THRESHOLD = 9 / 8;
/** RFC 9002 §7.6.1: "The RECOMMENDED value for kPersistentCongestionThreshold is 3". */
export const K_PERSISTENT_CONGESTION_THRESHOLD = 3;

/** Largest span (largest sent - oldest tracked) accepted; guards against absurd packet number jumps. */
const MAX_SPAN = 1 << 22;
/**
 * Initial ring capacity (power of two). Small: an idle connection has one
 * keep-alive in flight, and a busy one doubles the ring in a few steps
 * (64 slots cost every idle connection 528 bytes).
 */
const INITIAL_CAPACITY = 8;

/**
 * A tracked packet. The delivery-state fields (PacketDeliveryState: the path's
 * delivered bytes, delivered time, first-sent time, app-limited flag, bytes in
 * flight and lost bytes when it was sent) are written by the path's
 * delivery-rate estimator (src/core/cc/delivery-rate.ts) right after onSent.
 */
export interface SentPacket<M> extends PacketDeliveryState {
  /** Packet number in this path's space. */
  packetNumber: number;
  /** When it was sent, ms. */
  timeSent: number;
  /** Bytes sent (counts toward bytes in flight when `inFlight`). */
  size: number;
  /** Contains a frame that elicits an ACK. */
  ackEliciting: boolean;
  /** Counts toward bytes in flight (ack-eliciting or padding). */
  inFlight: boolean;
  /** Caller's payload: what the packet carried (frames to retransmit on loss). */
  meta: M;
}

export interface AckResult<M> {
  /** Newly acknowledged packets, ascending packet number; removed from tracking. */
  acked: SentPacket<M>[];
  /** Packets declared lost by this ACK, ascending packet number; removed from tracking. */
  lost: SentPacket<M>[];
  /** An RTT sample was taken and fed to the estimator. */
  rttUpdated: boolean;
  /** Send time of the largest newly acknowledged packet (recovery exit, ECN), or null. */
  largestNewlyAckedTimeSent: number | null;
  /** The ACK covered packet numbers above the largest ever sent (a peer bug or attack; ignored here). */
  ackedUnsent: boolean;
}

/**
 * Loss delay. RFC 9002 §6.1.2: "max(kTimeThreshold * max(smoothed_rtt, latest_rtt), kGranularity)"
 */
export function lossDelay(rtt: RttEstimator): number {
  return Math.max(K_TIME_THRESHOLD * Math.max(rtt.smoothed, rtt.latest), K_GRANULARITY);
}

export class SentPackets<M> {
  /** Ring of slots; undefined = never sent, acknowledged or lost. Length is a power of two. */
  private slots: (SentPacket<M> | undefined)[] = new Array(INITIAL_CAPACITY).fill(undefined);
  /** Index of the slot holding packet number `basePn`. */
  private head = 0;
  /** Number of slots in use, from `basePn` to `largestSent`. */
  private len = 0;
  /** Packet number of the head slot (meaningful when len > 0). */
  private basePn = 0;

  /** Live (unacknowledged, not lost) packets tracked. */
  count = 0;
  /** Sum of `size` over tracked in-flight packets. */
  bytesInFlight = 0;
  /** Tracked packets that are ack-eliciting and in flight (PTO is armed while > 0). */
  ackElicitingInFlight = 0;
  /** Largest packet number acknowledged so far (largest_acked_packet), or null. */
  largestAcked: number | null = null;
  /** Largest packet number sent so far, or null. */
  largestSent: number | null = null;
  /** Send time of the latest ack-eliciting in-flight packet (time_of_last_ack_eliciting_packet). */
  timeOfLastAckEliciting: number | null = null;
  /** When the earliest time-threshold loss would fire (loss_time), or null. */
  lossTime: number | null = null;

  /**
   * Records a sent packet and returns it. Packet numbers must be strictly
   * increasing (gaps allowed but small).
   */
  onSent(
    packetNumber: number,
    timeSent: number,
    size: number,
    ackEliciting: boolean,
    inFlight: boolean,
    meta: M,
  ): SentPacket<M> {
    if (this.largestSent !== null && packetNumber <= this.largestSent) {
      throw new RangeError(`packet number ${packetNumber} not above ${this.largestSent}`);
    }
    if (this.len === 0) {
      this.basePn = packetNumber;
    } else {
      const span = packetNumber - this.basePn + 1;
      if (span > MAX_SPAN) throw new RangeError(`packet number gap too large: ${packetNumber}`);
      this.ensureCapacity(span);
      // Slots of skipped packet numbers are already undefined (invariant).
      this.len = span - 1;
    }
    this.ensureCapacity(this.len + 1);
    const packet: SentPacket<M> = {
      packetNumber,
      timeSent,
      size,
      ackEliciting,
      inFlight,
      meta,
      delivered: 0,
      deliveredTime: 0,
      firstSentTime: 0,
      appLimited: false,
      txInFlight: 0,
      lostBefore: 0,
    };
    this.slots[(this.head + this.len) & (this.slots.length - 1)] = packet;
    this.len++;
    this.count++;
    this.largestSent = packetNumber;
    if (inFlight) {
      this.bytesInFlight += size;
      if (ackEliciting) {
        this.ackElicitingInFlight++;
        this.timeOfLastAckEliciting = timeSent;
      }
    }
    return packet;
  }

  /**
   * Processes an ACK frame's ranges (descending, inclusive). Numbers never
   * sent, already acknowledged or already declared lost are ignored.
   */
  onAck(
    ranges: readonly AckRange[],
    now: number,
    rtt: RttEstimator,
    ackDelayMs: number,
    maxAckDelay: number,
  ): AckResult<M> {
    const acked: SentPacket<M>[] = [];
    let ackedUnsent = false;
    let largestNewly: SentPacket<M> | undefined;
    let ackEliciting = false;
    if (ranges.length === 0) {
      return { acked, lost: [], rttUpdated: false, largestNewlyAckedTimeSent: null, ackedUnsent };
    }
    const largestInAck = ranges[0]!.largest;
    const largestSent = this.largestSent ?? -1;
    if (largestInAck > largestSent) ackedUnsent = true;

    // RFC 9002 A.7: largest_acked_packet = max(largest_acked_packet, ack.largest_acked),
    // limited here to numbers actually sent so a bogus ACK cannot declare everything lost.
    for (const r of ranges) {
      if (r.smallest <= largestSent) {
        const valid = Math.min(r.largest, largestSent);
        if (this.largestAcked === null || valid > this.largestAcked) this.largestAcked = valid;
        break;
      }
    }

    // DetectAndRemoveAckedPackets: walk each range over the tracked window only.
    const mask = this.slots.length - 1;
    for (const r of ranges) {
      if (this.len === 0) break;
      const top = this.basePn + this.len - 1;
      if (r.largest < this.basePn) break; // ranges are descending
      const hi = Math.min(r.largest, top);
      const lo = Math.max(r.smallest, this.basePn);
      for (let pn = hi; pn >= lo; pn--) {
        const idx = (this.head + (pn - this.basePn)) & mask;
        const p = this.slots[idx];
        if (p === undefined) continue;
        this.slots[idx] = undefined;
        this.forget(p);
        acked.push(p);
        if (largestNewly === undefined) largestNewly = p;
        if (p.ackEliciting) ackEliciting = true;
      }
    }
    this.trimHead();
    acked.reverse();

    // RFC 9002 §5.1: "An endpoint generates an RTT sample on receiving an ACK frame
    // that meets the following two conditions: the largest acknowledged packet
    // number is newly acknowledged, and at least one of the newly acknowledged
    // packets was ack-eliciting."
    let rttUpdated = false;
    if (largestNewly !== undefined && largestNewly.packetNumber === largestInAck && ackEliciting) {
      rtt.update(now - largestNewly.timeSent, ackDelayMs, maxAckDelay, now);
      rttUpdated = true;
    }
    const lost = this.detectLost(now, rtt);
    return {
      acked,
      lost,
      rttUpdated,
      largestNewlyAckedTimeSent: largestNewly === undefined ? null : largestNewly.timeSent,
      ackedUnsent,
    };
  }

  /**
   * DetectAndRemoveLostPackets (RFC 9002 A.10); also the loss timer's handler.
   * Every tracked packet (in flight or not) below the largest acknowledged is
   * considered; callers skip congestion reaction for `inFlight === false` ones.
   */
  detectLost(now: number, rtt: RttEstimator): SentPacket<M>[] {
    this.lossTime = null;
    const lost: SentPacket<M>[] = [];
    const largestAcked = this.largestAcked;
    if (largestAcked === null || this.len === 0) return lost;
    const delay = lossDelay(rtt);
    // "Packets sent before this time are deemed lost." Compared as
    // timeSent + delay <= now, the same sum the loss timer is set to, so a
    // timer firing exactly on time always declares the loss (no float gap).
    const mask = this.slots.length - 1;
    const end = Math.min(largestAcked, this.basePn + this.len); // exclusive
    for (let pn = this.basePn; pn < end; pn++) {
      const idx = (this.head + (pn - this.basePn)) & mask;
      const p = this.slots[idx];
      if (p === undefined) continue;
      // RFC 9002 §6.1: lost if sent kPacketThreshold packets before an acknowledged
      // packet, "or it was sent long enough in the past".
      if (p.timeSent + delay <= now || largestAcked >= pn + K_PACKET_THRESHOLD) {
        this.slots[idx] = undefined;
        this.forget(p);
        lost.push(p);
      } else {
        // §6.1.2: "If packets sent prior to the largest acknowledged packet cannot
        // yet be declared lost, then a timer SHOULD be set for the remaining time."
        const t = p.timeSent + delay;
        if (this.lossTime === null || t < this.lossTime) this.lossTime = t;
      }
    }
    this.trimHead();
    return lost;
  }

  /** Path failed: returns every tracked packet (ascending) and clears all tracking. */
  drainAll(): SentPacket<M>[] {
    const out: SentPacket<M>[] = [];
    const mask = this.slots.length - 1;
    for (let i = 0; i < this.len; i++) {
      const idx = (this.head + i) & mask;
      const p = this.slots[idx];
      if (p !== undefined) out.push(p);
      this.slots[idx] = undefined;
    }
    this.len = 0;
    this.head = 0;
    this.count = 0;
    this.bytesInFlight = 0;
    this.ackElicitingInFlight = 0;
    this.lossTime = null;
    this.timeOfLastAckEliciting = null;
    return out;
  }

  /** The tracked packet with this number, if any. */
  get(packetNumber: number): SentPacket<M> | undefined {
    if (this.len === 0 || packetNumber < this.basePn || packetNumber >= this.basePn + this.len) {
      return undefined;
    }
    return this.slots[(this.head + (packetNumber - this.basePn)) & (this.slots.length - 1)];
  }

  /** Oldest tracked packet (e.g. what a PTO probe should retransmit), or undefined. */
  oldest(): SentPacket<M> | undefined {
    return this.len === 0 ? undefined : this.slots[this.head];
  }

  /**
   * Send time of the oldest tracked packet that is ack-eliciting and in
   * flight, or -1 when there is none: a plain loop, so asking it (every
   * pollTimeout, per path) allocates no iterator.
   */
  oldestAckElicitingSentAt(): number {
    if (this.ackElicitingInFlight === 0) return -1;
    const mask = this.slots.length - 1;
    for (let i = 0; i < this.len; i++) {
      const p = this.slots[(this.head + i) & mask];
      if (p !== undefined && p.ackEliciting && p.inFlight) return p.timeSent;
    }
    return -1;
  }

  /** Tracked packets in ascending packet number order. */
  *packets(): IterableIterator<SentPacket<M>> {
    const mask = this.slots.length - 1;
    for (let i = 0; i < this.len; i++) {
      const p = this.slots[(this.head + i) & mask];
      if (p !== undefined) yield p;
    }
  }

  /** Accounting when a packet leaves tracking. */
  private forget(p: SentPacket<M>): void {
    this.count--;
    if (p.inFlight) {
      this.bytesInFlight -= p.size;
      if (p.ackEliciting) this.ackElicitingInFlight--;
    }
  }

  /** Drops empty slots at the head. */
  private trimHead(): void {
    const mask = this.slots.length - 1;
    while (this.len > 0 && this.slots[this.head] === undefined) {
      this.head = (this.head + 1) & mask;
      this.basePn++;
      this.len--;
    }
    if (this.len === 0) this.head = 0;
  }

  /** Grows the ring (doubling, order preserved) to hold at least `needed` slots. */
  private ensureCapacity(needed: number): void {
    const old = this.slots;
    if (needed <= old.length) return;
    let cap = old.length;
    while (cap < needed) cap *= 2;
    const next: (SentPacket<M> | undefined)[] = new Array(cap).fill(undefined);
    const mask = old.length - 1;
    for (let i = 0; i < this.len; i++) next[i] = old[(this.head + i) & mask];
    this.slots = next;
    this.head = 0;
  }
}

/**
 * Persistent congestion (RFC 9002 §7.6), judged on the packets one ACK declared
 * lost (`lost` ascending by packet number, as `onAck` returns them).
 *
 * §7.6.2: "A sender establishes persistent congestion after the receipt of an
 * acknowledgment if two packets that are ack-eliciting are declared lost, and:
 * across all packet number spaces, none of the packets sent between the send
 * times of these two packets are acknowledged; the duration between the send
 * times of these two packets exceeds the persistent congestion duration; and a
 * prior RTT sample existed when these two packets were sent."
 *
 * "None acknowledged in between" is checked as a run of consecutive packet
 * numbers all in `lost` (as quinn does). This is conservative: a packet lost
 * in an earlier call, or a skipped packet number, breaks the run.
 */
export function persistentCongestion<M>(
  lost: readonly SentPacket<M>[],
  rtt: RttEstimator,
  maxAckDelay: number,
): boolean {
  if (!rtt.hasSample || lost.length < 2) return false;
  // §7.6.1: "(smoothed_rtt + max(4*rttvar, kGranularity) + max_ack_delay) * kPersistentCongestionThreshold"
  const duration =
    (rtt.smoothed + Math.max(4 * rtt.rttvar, K_GRANULARITY) + maxAckDelay) *
    K_PERSISTENT_CONGESTION_THRESHOLD;
  const firstSample = rtt.firstSampleTime ?? -Infinity;
  let start: number | null = null;
  let prevPn: number | null = null;
  for (const p of lost) {
    if (prevPn !== null && p.packetNumber !== prevPn + 1) start = null; // something between was acked
    prevPn = p.packetNumber;
    // Only ack-eliciting packets sent after the first RTT sample bound the period.
    if (!p.ackEliciting || p.timeSent <= firstSample) continue;
    if (start === null) start = p.timeSent;
    else if (p.timeSent - start > duration) return true;
  }
  return false;
}
