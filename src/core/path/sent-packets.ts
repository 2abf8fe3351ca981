/**
 * Sent-packet tracking and loss detection for one path's packet number space
 * (RFC 9002 §6 and Appendix A).
 *
 * Storage is a ring buffer of slots indexed by `packetNumber - basePn`.
 * Acknowledged or lost packets leave an empty slot (tombstone) and empty
 * slots at the head are trimmed. Because loss detection runs on every ACK
 * with a packet threshold (3, or more on a path that reorders), at most
 * threshold − 1 live packets remain below the largest acknowledged one, so
 * the scanned region of each ACK is the slots around the head plus the
 * packets the ACK newly covers: amortised O(1) per packet even with ~10k
 * packets in flight.
 *
 * Spurious losses. RFC 9002 §6.1: "Spuriously declaring packets as lost
 * leads to unnecessary retransmissions and may result in degraded
 * performance due to the actions of the congestion controller upon
 * detecting loss. Implementations can detect spurious retransmissions and
 * increase the packet or time reordering threshold to reduce future
 * spurious retransmissions and loss events." A packet declared lost keeps
 * its number in a short list (LOST_KEPT); an ACK that covers it proves it
 * arrived after all (a receiver acknowledges only what it received; the
 * retransmission went out under another number), and the thresholds grow
 * to what would have let it arrive: the packet threshold to its distance
 * below the largest acknowledged packet, the time threshold to the time it
 * took, in RTTs. Both only grow (as Linux's tp->reordering), up to
 * MAX_PACKET_THRESHOLD and MAX_TIME_THRESHOLD; a path that moves to other
 * addresses starts again from RFC 9002's values.
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
/**
 * Largest packet threshold the adaptation reaches. A real loss below a hole
 * that large waits for the time threshold instead, about an eighth of an
 * RTT later than the count would have found it (Linux's tcp_max_reordering
 * is 300).
 */
export const MAX_PACKET_THRESHOLD = 256;
/**
 * Largest time threshold: RFC 8985 §6.2 bounds RACK's reordering window by
 * the smoothed RTT, so that a loss is declared at most two RTTs after its
 * packet was sent.
 */
export const MAX_TIME_THRESHOLD = 2;
/** Packets declared lost remembered for spurious-loss detection (the newest). */
export const LOST_KEPT = 64;
/**
 * A loss is remembered for this many RTTs (plus the peer's maximum ACK
 * delay): a packet later than that is not reordering the thresholds could
 * absorb (they stop at two RTTs), and a lossy path does not check every
 * ACK against 64 losses that will never be acknowledged.
 */
export const LOST_MEMORY_RTTS = 4;
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

/** A packet declared lost that an ACK later covered: it arrived after all. */
export interface SpuriousLoss {
  packetNumber: number;
  timeSent: number;
  /** When it was declared lost, ms. */
  lostAt: number;
  /** It counted in bytes in flight (its loss could start a congestion event). */
  inFlight: boolean;
}

const NO_SPURIOUS: readonly SpuriousLoss[] = Object.freeze([]);
/**
 * What an ACK or a loss check returns when it found no packet: one frozen
 * empty array for every path, not a new one per ACK (most ACKs declare
 * nothing lost).
 */
const NONE: readonly SentPacket<never>[] = Object.freeze([]);

export interface AckResult<M> {
  /** Newly acknowledged packets, ascending packet number; removed from tracking. */
  acked: readonly SentPacket<M>[];
  /** Packets declared lost by this ACK, ascending packet number; removed from tracking. */
  lost: readonly SentPacket<M>[];
  /** An RTT sample was taken and fed to the estimator. */
  rttUpdated: boolean;
  /** Send time of the largest newly acknowledged packet (recovery exit, ECN), or null. */
  largestNewlyAckedTimeSent: number | null;
  /** The ACK covered packet numbers above the largest ever sent (a peer bug or attack; ignored here). */
  ackedUnsent: boolean;
  /** Packets declared lost earlier that this ACK covers (ascending; usually none). */
  spurious: readonly SpuriousLoss[];
}

/**
 * Loss delay. RFC 9002 §6.1.2: "max(kTimeThreshold * max(smoothed_rtt, latest_rtt), kGranularity)",
 * with the path's time threshold in place of kTimeThreshold.
 */
export function lossDelay(rtt: RttEstimator, timeThreshold = K_TIME_THRESHOLD): number {
  return Math.max(timeThreshold * Math.max(rtt.smoothed, rtt.latest), K_GRANULARITY);
}

/** Does one of `ranges` (descending, inclusive) cover `pn`? */
function covers(ranges: readonly AckRange[], pn: number): boolean {
  for (const r of ranges) {
    if (pn > r.largest) return false;
    if (pn >= r.smallest) return true;
  }
  return false;
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
  /** Packet reordering threshold (kPacketThreshold, grown by spurious losses). */
  packetThreshold = K_PACKET_THRESHOLD;
  /** Time reordering threshold, in RTTs (kTimeThreshold, grown by spurious losses). */
  timeThreshold = K_TIME_THRESHOLD;
  /** The newest packets declared lost (at most LOST_KEPT), ascending packet number. */
  private recentlyLost: SpuriousLoss[] = [];

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
    let acked: SentPacket<M>[] | null = null;
    let ackedUnsent = false;
    let largestNewly: SentPacket<M> | undefined;
    let ackEliciting = false;
    if (ranges.length === 0) {
      return { acked: NONE, lost: NONE, rttUpdated: false, largestNewlyAckedTimeSent: null, ackedUnsent, spurious: NO_SPURIOUS };
    }
    const largestInAck = ranges[0]!.largest;
    const largestSent = this.largestSent ?? -1;
    if (largestInAck > largestSent) ackedUnsent = true;
    const largestAckedBefore = this.largestAcked;

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
        // A literal of one: an ACK of a single packet (a request's, a
        // response's) gets an array of its size, not push()'s 17 slots.
        if (acked === null) acked = [p];
        else acked.push(p);
        if (largestNewly === undefined) largestNewly = p;
        if (p.ackEliciting) ackEliciting = true;
      }
    }
    this.trimHead();
    acked?.reverse();
    const spurious = this.recentlyLost.length === 0 ? NO_SPURIOUS : this.findSpurious(ranges, largestAckedBefore, now, ackDelayMs, maxAckDelay, rtt);

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
      acked: acked ?? NONE,
      lost,
      rttUpdated,
      largestNewlyAckedTimeSent: largestNewly === undefined ? null : largestNewly.timeSent,
      ackedUnsent,
      spurious,
    };
  }

  /**
   * The remembered losses `ranges` cover, taken off the list; each grows
   * the thresholds to what would have spared it. `largestBefore`: the
   * largest acknowledged before this ACK (the packet was still missing
   * then); the packet had arrived by the ACK's arrival less its ACK delay.
   * Losses older than LOST_MEMORY_RTTS are forgotten first.
   */
  private findSpurious(
    ranges: readonly AckRange[],
    largestBefore: number | null,
    now: number,
    ackDelayMs: number,
    maxAckDelay: number,
    rtt: RttEstimator,
  ): readonly SpuriousLoss[] {
    const list = this.recentlyLost;
    const base = Math.max(rtt.smoothed, rtt.latest);
    const horizon = now - (LOST_MEMORY_RTTS * base + maxAckDelay);
    let expired = 0;
    while (expired < list.length && list[expired]!.lostAt < horizon) expired++;
    if (expired > 0) list.splice(0, expired);
    let found: SpuriousLoss[] | null = null;
    for (const l of list) if (covers(ranges, l.packetNumber)) (found ??= []).push(l);
    if (found === null) return NO_SPURIOUS;
    this.recentlyLost = list.filter((l) => !found.includes(l));
    const receivedBy = now - Math.min(ackDelayMs, maxAckDelay);
    for (const l of found) {
      if (largestBefore !== null && largestBefore - l.packetNumber + 1 > this.packetThreshold) {
        this.packetThreshold = Math.min(MAX_PACKET_THRESHOLD, largestBefore - l.packetNumber + 1);
      }
      if (base > 0) {
        const needed = (receivedBy - l.timeSent) / base;
        if (needed > this.timeThreshold) this.timeThreshold = Math.min(MAX_TIME_THRESHOLD, needed);
      }
    }
    return found;
  }

  /** The path moved to other addresses: RFC 9002's thresholds again, nothing remembered. */
  resetReordering(): void {
    this.packetThreshold = K_PACKET_THRESHOLD;
    this.timeThreshold = K_TIME_THRESHOLD;
    this.recentlyLost = [];
  }

  /**
   * DetectAndRemoveLostPackets (RFC 9002 A.10); also the loss timer's handler.
   * Every tracked packet (in flight or not) below the largest acknowledged is
   * considered; callers skip congestion reaction for `inFlight === false` ones.
   */
  detectLost(now: number, rtt: RttEstimator): readonly SentPacket<M>[] {
    this.lossTime = null;
    let lost: SentPacket<M>[] | null = null;
    const largestAcked = this.largestAcked;
    if (largestAcked === null || this.len === 0) return NONE;
    const delay = lossDelay(rtt, this.timeThreshold);
    const threshold = this.packetThreshold;
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
      if (p.timeSent + delay <= now || largestAcked >= pn + threshold) {
        this.slots[idx] = undefined;
        this.forget(p);
        if (lost === null) lost = [p];
        else lost.push(p);
        this.remember(p, now);
      } else {
        // §6.1.2: "If packets sent prior to the largest acknowledged packet cannot
        // yet be declared lost, then a timer SHOULD be set for the remaining time."
        const t = p.timeSent + delay;
        if (this.lossTime === null || t < this.lossTime) this.lossTime = t;
      }
    }
    this.trimHead();
    return lost ?? NONE;
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

  /** A packet declared lost, remembered in case an ACK shows it arrived (the oldest forgotten past LOST_KEPT). */
  private remember(p: SentPacket<M>, now: number): void {
    const list = this.recentlyLost;
    if (list.length >= LOST_KEPT) list.shift();
    list.push({ packetNumber: p.packetNumber, timeSent: p.timeSent, lostAt: now, inFlight: p.inFlight });
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
