/**
 * One direction of a simulated network path: from one address to another.
 *
 * Model, in the order a datagram meets it:
 *  1. blackhole: everything is dropped ('blackhole'); datagrams still in
 *     flight when the hole opens are dropped on arrival too (a cut cable).
 *  2. bottleneck (rateBps > 0): a FIFO transmitter. A datagram waits for the
 *     ones ahead of it, then takes bytes*8/rate to serialize. The queue holds
 *     every datagram not yet fully serialized; a datagram that would push it
 *     past queueBytes is tail-dropped ('queue-full').
 *  3. random loss ('loss'), after the queue: a lost datagram used capacity.
 *  4. propagation: delayMs, plus uniform jitter in [0, jitterMs). Unless
 *     `reorder` is set, a datagram never arrives before an earlier one on the
 *     same link (its arrival is clamped), so jitter alone keeps order.
 *  5. reorderRate: a datagram gets reorderDelayMs extra and is exempt from
 *     the clamp, so later datagrams overtake it.
 *  6. duplicateRate: a second copy arrives right after the first.
 *
 * Randomness comes from the link's own seeded generator, so one link's
 * losses do not depend on traffic elsewhere.
 *
 * Shared bottleneck: `shareBottleneck(other)` makes step 2 use `other`'s
 * transmitter (its rateBps, queue limit and FIFO) instead of this link's
 * own, so several directional address pairs (of one or several
 * connections) queue behind one another; every other step (blackhole,
 * loss, delay, jitter, reordering, duplication) stays per link.
 */
import type { Rng } from '../random.js';

export interface LinkParams {
  /** One-way propagation delay (ms). */
  delayMs: number;
  /** Uniform extra delay in [0, jitterMs) per datagram (ms). */
  jitterMs: number;
  /** Let jitter reorder datagrams (otherwise arrivals are clamped to FIFO). */
  reorder: boolean;
  /** Probability (0..1) that a datagram is lost. */
  lossRate: number;
  /** Bottleneck rate in bits per second; 0 = unlimited (no queue). */
  rateBps: number;
  /** Queue limit in bytes; null = rate * 100 ms (at least 3000 bytes). */
  queueBytes: number | null;
  /** Drop everything (including datagrams in flight). */
  blackhole: boolean;
  /** Probability (0..1) that a datagram is delivered twice. */
  duplicateRate: number;
  /** Probability (0..1) that a datagram is held back by reorderDelayMs. */
  reorderRate: number;
  /** Extra delay (ms) of a datagram picked by reorderRate. */
  reorderDelayMs: number;
}

export const DEFAULT_LINK_PARAMS: Readonly<LinkParams> = {
  delayMs: 0,
  jitterMs: 0,
  reorder: false,
  lossRate: 0,
  rateBps: 0,
  queueBytes: null,
  blackhole: false,
  duplicateRate: 0,
  reorderRate: 0,
  reorderDelayMs: 5,
};

export type LinkDropReason = 'loss' | 'queue-full' | 'blackhole';

export interface LinkCounters {
  /** Datagrams handed to the link. */
  sent: number;
  /** Bytes handed to the link. */
  bytesSent: number;
  /** Datagrams handed to the destination node (duplicates included). */
  delivered: number;
  /** Bytes handed to the destination node (duplicates included). */
  bytesDelivered: number;
  /** Datagrams dropped, all reasons. */
  dropped: number;
  /** Datagrams dropped, by reason. */
  drops: Record<LinkDropReason, number>;
  /** Extra copies created by duplicateRate. */
  duplicated: number;
  /** Datagrams held back by reorderRate. */
  reordered: number;
  /** Highest queue occupancy seen (bytes). */
  maxQueueBytes: number;
}

/** Called on every delivery over a link (after counters are updated). */
export type DeliverHook = (time: number, bytes: number, link: Link) => void;

/** Delivery record of a link: flat arrays, one entry per delivery. */
export class DeliveryLog {
  /** Virtual time of each delivery (ms). */
  readonly times: number[] = [];
  /** Size of each delivered datagram (bytes). */
  readonly bytes: number[] = [];

  /** Bytes delivered in [from, to). */
  bytesBetween(from: number, to: number): number {
    let sum = 0;
    const times = this.times;
    for (let i = lowerBound(times, from); i < times.length && times[i]! < to; i++) sum += this.bytes[i]!;
    return sum;
  }

  /** Delivered throughput in bits per second over [from, to). */
  throughputBps(from: number, to: number): number {
    return (this.bytesBetween(from, to) * 8000) / (to - from);
  }

  /** Throughput (bit/s) per bucket of `bucketMs` from `from` to `to`. */
  series(from: number, to: number, bucketMs: number): number[] {
    const out: number[] = [];
    for (let t = from; t < to; t += bucketMs) out.push(this.throughputBps(t, Math.min(t + bucketMs, to)));
    return out;
  }
}

/** First index whose value is >= x in an ascending array. */
function lowerBound(a: number[], x: number): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class Link {
  /** Current parameters; change them with set(). */
  readonly params: LinkParams;
  /** Counters since creation. */
  readonly counters: LinkCounters = {
    sent: 0,
    bytesSent: 0,
    delivered: 0,
    bytesDelivered: 0,
    dropped: 0,
    drops: { loss: 0, 'queue-full': 0, blackhole: 0 },
    duplicated: 0,
    reordered: 0,
    maxQueueBytes: 0,
  };
  /** Hook called on each delivery, or null. */
  onDeliver: DeliverHook | null = null;
  /** Delivery log, when enabled with recordDeliveries(). */
  log: DeliveryLog | null = null;
  /** Set by the network when the link is removed; in-flight datagrams are dropped. */
  removed = false;
  /** Set by admit(): the admitted datagram is to be delivered twice. */
  duplicate = false;
  /** Link whose transmitter (rate, queue) serves this one: itself unless shared. */
  private tx: Link = this;

  /** Time the transmitter finishes the last queued datagram. */
  private busyUntil = 0;
  /** Departure (end of serialization) time of each queued datagram, FIFO. */
  private readonly qDepart: number[] = [];
  /** Size of each queued datagram. */
  private readonly qSize: number[] = [];
  /** Index of the queue head in qDepart/qSize. */
  private qHead = 0;
  /** Bytes currently queued (not fully serialized). */
  private qBytes = 0;
  /** Latest arrival time given to an in-order datagram (FIFO clamp). */
  private lastArrival = -Infinity;

  constructor(
    /** Source address of this direction. */
    readonly from: string,
    /** Destination address of this direction. */
    readonly to: string,
    /** The link's own generator. */
    private readonly rng: Rng,
    params?: Partial<LinkParams>,
  ) {
    this.params = { ...DEFAULT_LINK_PARAMS };
    if (params) this.set(params);
  }

  /** Changes parameters at run time; unspecified ones keep their values. */
  set(params: Partial<LinkParams>): this {
    for (const key of Object.keys(params) as (keyof LinkParams)[]) {
      const v = params[key];
      if (v === undefined) continue;
      (this.params as unknown as Record<string, unknown>)[key] = v;
    }
    const p = this.params;
    for (const k of ['lossRate', 'duplicateRate', 'reorderRate'] as const) {
      if (!(p[k] >= 0 && p[k] <= 1)) throw new RangeError(`Link ${this.from}->${this.to}: ${k} must be in [0, 1]`);
    }
    for (const k of ['delayMs', 'jitterMs', 'rateBps', 'reorderDelayMs'] as const) {
      if (!(p[k] >= 0) || !Number.isFinite(p[k])) throw new RangeError(`Link ${this.from}->${this.to}: ${k} must be >= 0`);
    }
    return this;
  }

  /**
   * From now on this link's datagrams wait in `other`'s queue and are
   * serialized at `other`'s rate (with `other`'s own traffic, if any); this
   * link's rateBps and queueBytes are ignored while shared. `other` = this
   * link undoes it. Returns this link.
   */
  shareBottleneck(other: Link): this {
    this.tx = other.tx;
    return this;
  }

  /** The link whose rate and queue this one uses (itself unless shared). */
  get bottleneck(): Link {
    return this.tx;
  }

  /** Starts (or restarts) recording every delivery; returns the log. */
  recordDeliveries(): DeliveryLog {
    this.log = new DeliveryLog();
    return this.log;
  }

  /** Effective queue limit in bytes. */
  get queueLimit(): number {
    const p = this.params;
    if (p.queueBytes !== null) return p.queueBytes;
    return p.rateBps > 0 ? Math.max(3000, (p.rateBps * 0.1) / 8) : 64 * 1024;
  }

  /** Bytes waiting in (or being serialized by) the bottleneck at `now` (the shared one's, if shared). */
  queuedBytes(now: number): number {
    const b = this.tx;
    b.expire(now);
    return b.qBytes;
  }

  /**
   * Takes a datagram of `bytes` sent at `now`. Returns its arrival time, or
   * -1 when it is dropped (counted). Sets `duplicate` when a second copy is due.
   */
  admit(bytes: number, now: number): number {
    const c = this.counters;
    const p = this.params;
    const rng = this.rng;
    c.sent++;
    c.bytesSent += bytes;
    this.duplicate = false;
    if (p.blackhole) return this.drop('blackhole');
    let depart = now;
    const b = this.tx;
    const rate = b.params.rateBps;
    if (rate > 0) {
      b.expire(now);
      if (b.qBytes + bytes > b.queueLimit) return this.drop('queue-full');
      depart = Math.max(now, b.busyUntil) + (bytes * 8000) / rate;
      b.busyUntil = depart;
      b.qDepart.push(depart);
      b.qSize.push(bytes);
      b.qBytes += bytes;
      if (b.qBytes > b.counters.maxQueueBytes) b.counters.maxQueueBytes = b.qBytes;
      if (b !== this && b.qBytes > c.maxQueueBytes) c.maxQueueBytes = b.qBytes;
    }
    if (p.lossRate > 0 && rng.next() < p.lossRate) return this.drop('loss');
    let arrival = depart + p.delayMs;
    if (p.jitterMs > 0) arrival += rng.next() * p.jitterMs;
    if (p.reorderRate > 0 && rng.next() < p.reorderRate) {
      // Held back and exempt from the FIFO clamp: later datagrams overtake it.
      arrival += p.reorderDelayMs;
      c.reordered++;
    } else if (!p.reorder) {
      if (arrival < this.lastArrival) arrival = this.lastArrival;
      this.lastArrival = arrival;
    }
    if (p.duplicateRate > 0 && rng.next() < p.duplicateRate) {
      this.duplicate = true;
      c.duplicated++;
    }
    return arrival;
  }

  /**
   * A datagram reaches the far end at `now`. Returns false when it is dropped
   * there instead (blackhole opened while it was in flight).
   */
  arrive(bytes: number, now: number): boolean {
    if (this.params.blackhole) {
      this.drop('blackhole');
      return false;
    }
    const c = this.counters;
    c.delivered++;
    c.bytesDelivered += bytes;
    if (this.log !== null) {
      this.log.times.push(now);
      this.log.bytes.push(bytes);
    }
    if (this.onDeliver !== null) this.onDeliver(now, bytes, this);
    return true;
  }

  /** Counts a drop; returns -1 for admit(). */
  private drop(reason: LinkDropReason): number {
    this.counters.dropped++;
    this.counters.drops[reason]++;
    return -1;
  }

  /** Removes datagrams whose serialization finished by `now` from the queue. */
  private expire(now: number): void {
    const dep = this.qDepart;
    let head = this.qHead;
    while (head < dep.length && dep[head]! <= now) {
      this.qBytes -= this.qSize[head]!;
      head++;
    }
    if (head === dep.length) {
      dep.length = 0;
      this.qSize.length = 0;
      head = 0;
    } else if (head > 4096 && head * 2 > dep.length) {
      dep.splice(0, head);
      this.qSize.splice(0, head);
      head = 0;
    }
    this.qHead = head;
  }
}
