/**
 * Link: one direction of a network path, as a pure model with no clock and
 * no I/O. Its user offers a datagram at a time (`admit`) and gets back the
 * time it reaches the far end, or a drop; when that time comes it hands the
 * datagram over (`arrive`), which may still drop it (a blackhole opened while
 * it was in flight). The simulator (lab/sim) calls both on its virtual
 * clock; the ISP emulator (lab/emulator) on the real one. What each
 * parameter means, and the order a datagram meets them in, is written in
 * ./params.ts.
 *
 * Shared bottleneck: `shareBottleneck(other)` makes the transmitter (step 2:
 * rate, queue limit, FIFO, overhead) `other`'s, so several directional
 * address pairs (of one or several connections) queue behind one another;
 * every other step (blackhole, loss, delay, jitter, reordering,
 * duplication) stays per link.
 */
import type { Rng } from '../random.js';
import { DeliveryLog } from './delivery-log.js';
import { DEFAULT_LINK_PARAMS, queueLimit, validateLinkParams, type LinkParams } from './params.js';

/** Why a link dropped a datagram. */
export type LinkDropReason = 'loss' | 'queue-full' | 'blackhole' | 'too-big';

export interface LinkCounters {
  /** Datagrams offered to the link. */
  sent: number;
  /** Bytes offered to the link (without overhead). */
  bytesSent: number;
  /** Datagrams handed to the far end (duplicates included). */
  delivered: number;
  /** Bytes handed to the far end (duplicates included). */
  bytesDelivered: number;
  /** Datagrams dropped, all reasons. */
  dropped: number;
  /** Datagrams dropped, by reason. */
  drops: Record<LinkDropReason, number>;
  /** Extra copies created by duplicateRate. */
  duplicated: number;
  /** Datagrams held back by reorderRate. */
  reordered: number;
  /** Highest queue occupancy seen (bytes, with overhead). */
  maxQueueBytes: number;
}

/** A snapshot of a link: its parameters, counters and what it holds now. */
export interface LinkSnapshot extends LinkCounters {
  /** The parameters in effect. */
  params: LinkParams;
  /** Datagrams admitted (and copies made) that were neither delivered nor dropped yet. */
  inFlight: number;
  /** Bytes (with overhead) waiting in the bottleneck now. */
  queuedBytes: number;
}

/** Called on every delivery over a link (after counters are updated). */
export type DeliverHook = (time: number, bytes: number, link: Link) => void;

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
    drops: { loss: 0, 'queue-full': 0, blackhole: 0, 'too-big': 0 },
    duplicated: 0,
    reordered: 0,
    maxQueueBytes: 0,
  };
  /** Hook called on each delivery, or null. */
  onDeliver: DeliverHook | null = null;
  /** Delivery log, when enabled with recordDeliveries(). */
  log: DeliveryLog | null = null;
  /** Set by the simulator's network when the link is removed; in-flight datagrams are dropped. */
  removed = false;
  /** Set by admit(): the admitted datagram is to be delivered twice. */
  duplicate = false;
  /** Bumped each time the blackhole opens: a datagram admitted in an older epoch is dropped on arrival. */
  epoch = 0;
  /** Link whose transmitter (rate, queue, overhead) serves this one: itself unless shared. */
  private tx: Link = this;

  /** Time the transmitter finishes the last queued datagram. */
  private busyUntil = 0;
  /** Departure (end of serialization) time of each queued datagram, FIFO. */
  private readonly qDepart: number[] = [];
  /** Size (with overhead) of each queued datagram. */
  private readonly qSize: number[] = [];
  /** Index of the queue head in qDepart/qSize. */
  private qHead = 0;
  /** Bytes currently queued (not fully serialized), with overhead. */
  private qBytes = 0;
  /** Latest arrival time given to an in-order datagram (FIFO clamp). */
  private lastArrival = -Infinity;

  constructor(
    /** Source address (or name) of this direction. */
    readonly from: string,
    /** Destination address (or name) of this direction. */
    readonly to: string,
    /** The link's own generator. */
    private readonly rng: Rng,
    params?: Partial<LinkParams>,
  ) {
    this.params = { ...DEFAULT_LINK_PARAMS };
    if (params) this.set(params);
  }

  /** Changes parameters at run time; unspecified ones keep their values. Opening the blackhole loses what is in flight. */
  set(params: Partial<LinkParams>): this {
    validateLinkParams(params, `Link ${this.from}->${this.to}`);
    const wasDown = this.params.blackhole;
    for (const key of Object.keys(params) as (keyof LinkParams)[]) {
      const v = params[key];
      if (v !== undefined) (this.params as unknown as Record<string, unknown>)[key] = v;
    }
    if (this.params.blackhole && !wasDown) this.epoch++;
    return this;
  }

  /**
   * From now on this link's datagrams wait in `other`'s queue and are
   * serialized at `other`'s rate (with `other`'s own traffic, if any); this
   * link's rateBps, queueBytes and overheadBytes are ignored while shared.
   * `other` = this link undoes it. Returns this link.
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

  /** Effective queue limit in bytes (see queueLimit in ./params.ts). */
  get queueLimit(): number {
    return queueLimit(this.params);
  }

  /** Bytes waiting in (or being serialized by) the bottleneck at `now` (the shared one's, if shared). */
  queuedBytes(now: number): number {
    const b = this.tx;
    b.expire(now);
    return b.qBytes;
  }

  /**
   * Takes a datagram of `bytes` offered at `now`. Returns its arrival time,
   * or -1 when it is dropped (counted). Sets `duplicate` when a second copy
   * is due (at the same time). The arrival must be handed to arrive() with
   * the `epoch` read right after this call.
   */
  admit(bytes: number, now: number): number {
    const c = this.counters;
    const p = this.params;
    const rng = this.rng;
    c.sent++;
    c.bytesSent += bytes;
    this.duplicate = false;
    if (p.blackhole) return this.drop('blackhole');
    if (p.mtu > 0 && bytes + 28 > p.mtu) return this.drop('too-big');
    let depart = now;
    const b = this.tx;
    const bp = b.params;
    if (bp.rateBps > 0) {
      const wire = bytes + bp.overheadBytes;
      b.expire(now);
      if (b.qBytes + wire > queueLimit(bp)) return this.drop('queue-full');
      depart = Math.max(now, b.busyUntil) + (wire * 8000) / bp.rateBps;
      b.busyUntil = depart;
      b.qDepart.push(depart);
      b.qSize.push(wire);
      b.qBytes += wire;
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
   * A datagram admitted in `epoch` reaches the far end at `now`. Returns
   * false when it is dropped there instead (the blackhole is open, or opened
   * while it was in flight).
   */
  arrive(bytes: number, now: number, epoch: number): boolean {
    if (this.params.blackhole || epoch !== this.epoch) {
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

  /** Parameters, counters and what the link holds at `now`. */
  snapshot(now: number): LinkSnapshot {
    const c = this.counters;
    return {
      ...c,
      drops: { ...c.drops },
      params: { ...this.params },
      inFlight: c.sent + c.duplicated - c.delivered - c.dropped,
      queuedBytes: Math.round(this.queuedBytes(now)),
    };
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
