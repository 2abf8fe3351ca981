/**
 * LinkShaper: the model of one direction of an emulated ISP, without any I/O.
 * A datagram offered at time `now` either is dropped (with a reason) or gets
 * the time at which it leaves the far end of the link:
 *
 *   state → random loss → FIFO queue + serialization at `rateBps` (tail drop
 *   past `queueBytes`) → propagation `delayMs` ± `jitterMs` → delivery.
 *
 * The queue is the serialization backlog of a link of `rateBps`: a datagram
 * starts being sent when the previous one is done (`busyUntil`) and is fully
 * sent `wireBytes·8/rateBps` later; the bytes still queued at `now` are
 * `(busyUntil − now)·rateBps/8`, so no per-packet bookkeeping is needed. This
 * is how a real link with a byte-limited FIFO behaves (and how `tbf` with a
 * small burst behaves).
 *
 * Jitter is uniform in [−jitterMs, +jitterMs]; unless `reorder` is true a
 * datagram never leaves before the one offered before it (as netem does when
 * a rate is set), so jitter delays but does not reorder.
 *
 * States: `up` forwards; `blackhole` silently drops what is offered from now
 * on (datagrams already past the point of the blackhole still arrive); `cut`
 * is the link going down: what is offered is dropped and what is queued or
 * in flight is lost too (`epoch` changes, and the relay drops every datagram
 * of an older epoch when it is due).
 */

/** State of one direction. */
export type LinkState = 'up' | 'cut' | 'blackhole';

/** Why a datagram was dropped. */
export type DropReason = 'loss' | 'queue' | 'cut' | 'blackhole' | 'error';

/** The tunable parameters of one direction. */
export interface LinkParams {
  /** One-way propagation delay (ms). */
  delayMs: number;
  /** Half-width of the uniform jitter added to the delay (ms). */
  jitterMs: number;
  /** Allow jitter to reorder datagrams (default false: FIFO). */
  reorder: boolean;
  /** Probability that a datagram is dropped at random (0..1). */
  lossRate: number;
  /** Link rate in bits per second; 0 = unlimited (no queue). */
  rateBps: number;
  /** Largest backlog of the FIFO in bytes (tail drop); 0 = 50 ms at `rateBps`, at least 64 KiB. */
  queueBytes: number;
  /** Bytes added to each UDP payload for the rate (IPv4 + UDP headers = 28). */
  overheadBytes: number;
}

/** Parameters of a new link: no delay, no loss, no rate limit. */
export const DEFAULT_LINK_PARAMS: Readonly<LinkParams> = Object.freeze({
  delayMs: 0,
  jitterMs: 0,
  reorder: false,
  lossRate: 0,
  rateBps: 0,
  queueBytes: 0,
  overheadBytes: 28,
});

/** Counters of one direction. */
export interface LinkStats {
  /** Current state. */
  state: LinkState;
  /** The parameters in effect. */
  params: LinkParams;
  /** Datagrams offered to this direction. */
  packetsIn: number;
  /** UDP payload bytes offered. */
  bytesIn: number;
  /** Datagrams that left the far end. */
  packetsForwarded: number;
  /** UDP payload bytes that left the far end. */
  bytesForwarded: number;
  /** Datagrams dropped, by reason. */
  dropped: Record<DropReason, number>;
  /** Datagrams accepted and not yet delivered or dropped (queued or propagating). */
  inFlight: number;
  /** Bytes (with overhead) waiting for serialization now. */
  queuedBytes: number;
  /** Largest `queuedBytes` seen when a datagram was accepted. */
  maxQueuedBytes: number;
}

/** Checks one parameter set (partial); throws a RangeError naming the bad field. */
export function validateLinkParams(p: Partial<LinkParams>): void {
  const nonNegative = ['delayMs', 'jitterMs', 'rateBps', 'queueBytes', 'overheadBytes'] as const;
  for (const k of nonNegative) {
    const v = p[k];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) {
      throw new RangeError(`${k} must be a finite number >= 0, got ${String(v)}`);
    }
  }
  if (p.lossRate !== undefined && !(typeof p.lossRate === 'number' && p.lossRate >= 0 && p.lossRate <= 1)) {
    throw new RangeError(`lossRate must be in [0, 1], got ${String(p.lossRate)}`);
  }
  if (p.reorder !== undefined && typeof p.reorder !== 'boolean') {
    throw new RangeError(`reorder must be a boolean, got ${String(p.reorder)}`);
  }
}

export class LinkShaper {
  /** The parameters in effect. */
  readonly params: LinkParams;
  /** Current state. */
  state: LinkState = 'up';
  /** Bumped by `cut()`: datagrams of an older epoch are dropped when due. */
  epoch = 0;
  /** Time (ms) at which the serializer finishes the backlog. */
  private busyUntil = 0;
  /** Delivery time of the last accepted datagram (FIFO unless `reorder`). */
  private lastDelivery = 0;
  /** Counters. */
  private readonly counters: Omit<LinkStats, 'state' | 'params' | 'queuedBytes'>;
  /** Uniform random numbers in [0, 1). */
  private readonly random: () => number;

  constructor(params: Partial<LinkParams> = {}, random: () => number = Math.random) {
    validateLinkParams(params);
    this.params = { ...DEFAULT_LINK_PARAMS, ...params };
    this.random = random;
    this.counters = {
      packetsIn: 0,
      bytesIn: 0,
      packetsForwarded: 0,
      bytesForwarded: 0,
      dropped: { loss: 0, queue: 0, cut: 0, blackhole: 0, error: 0 },
      inFlight: 0,
      maxQueuedBytes: 0,
    };
  }

  /** Changes some parameters; the backlog and in-flight datagrams are kept. */
  set(params: Partial<LinkParams>): void {
    validateLinkParams(params);
    for (const [k, v] of Object.entries(params)) {
      if (v !== undefined) (this.params as unknown as Record<string, unknown>)[k] = v;
    }
  }

  /** The queue limit in effect (resolves the 0 = automatic default). */
  get queueLimit(): number {
    const p = this.params;
    if (p.queueBytes > 0) return p.queueBytes;
    return Math.max(64 * 1024, (p.rateBps * 0.05) / 8);
  }

  /** Bytes (with overhead) still waiting for serialization at `now`. */
  queuedBytes(now: number): number {
    const rate = this.params.rateBps;
    if (rate <= 0 || this.busyUntil <= now) return 0;
    return ((this.busyUntil - now) * rate) / 8000;
  }

  /**
   * Offers a datagram of `size` payload bytes at `now`. Returns the time (ms)
   * at which it leaves the link, or a drop reason (counted).
   */
  offer(size: number, now: number): number | DropReason {
    const c = this.counters;
    const p = this.params;
    c.packetsIn++;
    c.bytesIn += size;
    if (this.state !== 'up') return this.drop(this.state);
    if (p.lossRate > 0 && this.random() < p.lossRate) return this.drop('loss');
    let leave = now;
    if (p.rateBps > 0) {
      const wire = size + p.overheadBytes;
      const queued = this.queuedBytes(now);
      // Tail drop; an idle link always takes one datagram, however large.
      if (queued > 0 && queued + wire > this.queueLimit) return this.drop('queue');
      if (queued + wire > c.maxQueuedBytes) c.maxQueuedBytes = queued + wire;
      const start = this.busyUntil > now ? this.busyUntil : now;
      this.busyUntil = start + (wire * 8000) / p.rateBps;
      leave = this.busyUntil;
    }
    let delay = p.delayMs;
    if (p.jitterMs > 0) delay += (this.random() * 2 - 1) * p.jitterMs;
    let at = leave + (delay > 0 ? delay : 0);
    if (!p.reorder && at < this.lastDelivery) at = this.lastDelivery;
    this.lastDelivery = at;
    c.inFlight++;
    return at;
  }

  /** A datagram accepted by `offer()` left the far end. */
  forwarded(size: number): void {
    this.counters.inFlight--;
    this.counters.packetsForwarded++;
    this.counters.bytesForwarded += size;
  }

  /** A datagram accepted by `offer()` was lost before leaving (cut, send error). */
  lostInFlight(reason: DropReason): void {
    this.counters.inFlight--;
    this.counters.dropped[reason]++;
  }

  /** A datagram counted as forwarded was refused by the socket afterwards (send error). */
  sendFailed(): void {
    this.counters.dropped.error++;
  }

  /** Link down: drop what is offered and what is queued or in flight. */
  cut(now: number): void {
    this.state = 'cut';
    this.epoch++;
    this.busyUntil = now;
    this.lastDelivery = now;
  }

  /** Silently drop what is offered from now on. */
  blackhole(): void {
    this.state = 'blackhole';
  }

  /** Back to forwarding. */
  heal(): void {
    this.state = 'up';
  }

  /** A snapshot of the counters at `now`. */
  stats(now: number): LinkStats {
    const c = this.counters;
    return {
      state: this.state,
      params: { ...this.params },
      packetsIn: c.packetsIn,
      bytesIn: c.bytesIn,
      packetsForwarded: c.packetsForwarded,
      bytesForwarded: c.bytesForwarded,
      dropped: { ...c.dropped },
      inFlight: c.inFlight,
      queuedBytes: Math.round(this.queuedBytes(now)),
      maxQueuedBytes: Math.round(c.maxQueuedBytes),
    };
  }

  /** Counts a drop at the entrance. */
  private drop(reason: DropReason): DropReason {
    this.counters.dropped[reason]++;
    return reason;
  }
}
