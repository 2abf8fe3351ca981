/**
 * The parameters of one direction of a link: the one definition the
 * simulator (lab/sim, virtual clock) and the ISP emulator (lab/emulator,
 * real clock) share. A datagram offered to a link meets them in this order:
 *
 *  1. `blackhole`: the link is down. Every datagram offered is dropped, and
 *     so is every datagram that was in flight when the hole opened (a cut
 *     cable loses what is on it), even if the hole closes before it was due.
 *     Then `mtu`: a datagram whose IP packet (its bytes plus 28, the IPv4
 *     and UDP headers) exceeds it is dropped, silently, as a router drops
 *     a Don't Fragment packet whose Packet Too Big message never arrives.
 *  2. the bottleneck (`rateBps` > 0): a FIFO transmitter. A datagram waits
 *     for the ones ahead of it, then takes (bytes + overheadBytes)·8/rateBps
 *     to serialize. The queue holds every datagram not yet fully serialized
 *     (counted whole, with its overhead); one that would push it past
 *     `queueBytes` is tail-dropped.
 *  3. random loss (`lossRate`), after the queue: a lost datagram has used
 *     its share of the rate (it was lost on the wire, not refused).
 *  4. propagation: `delayMs`, plus a uniform extra in [0, `jitterMs`). The
 *     delay is the floor, never undercut: mean one-way delay is
 *     delayMs + jitterMs/2. (netem's `delay D J` is ±J around D; ours is
 *     one-sided, so `delay 20ms 5ms` there is delayMs 15, jitterMs 10 here.)
 *     Unless `reorder` is set, a datagram never arrives before one offered
 *     earlier to the same link: its arrival is clamped, so jitter alone
 *     keeps the order.
 *  5. `reorderRate`: a datagram gets `reorderDelayMs` more and is exempt
 *     from the clamp, so later datagrams overtake it.
 *  6. `duplicateRate`: a second copy arrives right after the first.
 *
 * Every random draw (loss, jitter, reordering, duplication, in that order)
 * comes from the link's own seeded generator (lab/random.ts).
 */

export interface LinkParams {
  /** One-way propagation delay (ms): the least time a datagram spends on the link after serialization. */
  delayMs: number;
  /** Extra delay drawn uniformly in [0, jitterMs) for each datagram (ms); mean delay is delayMs + jitterMs/2. */
  jitterMs: number;
  /** Let jitter reorder datagrams (otherwise arrivals are clamped to the order of offering). */
  reorder: boolean;
  /** Probability (0..1) that a datagram is lost after the queue. */
  lossRate: number;
  /** Bottleneck rate in bits per second of (bytes + overheadBytes); 0 = unlimited (no queue). */
  rateBps: number;
  /** Queue limit in bytes (with overhead); null = rateBps × 100 ms, at least 3000 bytes. */
  queueBytes: number | null;
  /** Bytes added to every datagram for the rate and the queue (28 = IPv4 + UDP headers). */
  overheadBytes: number;
  /** The link is down: what is offered, and what was in flight when it went down, is dropped. */
  blackhole: boolean;
  /** Probability (0..1) that a datagram is delivered twice. */
  duplicateRate: number;
  /** Probability (0..1) that a datagram is held back by reorderDelayMs (and overtaken). */
  reorderRate: number;
  /** Extra delay (ms) of a datagram picked by reorderRate. */
  reorderDelayMs: number;
  /** Largest IP packet carried (bytes + 28 header bytes); 0 = no limit. 1500 carries a 1472-byte datagram. */
  mtu: number;
}

/** A new link: up, no delay, no loss, no rate limit, no overhead. */
export const DEFAULT_LINK_PARAMS: Readonly<LinkParams> = Object.freeze({
  delayMs: 0,
  jitterMs: 0,
  reorder: false,
  lossRate: 0,
  rateBps: 0,
  queueBytes: null,
  overheadBytes: 0,
  blackhole: false,
  duplicateRate: 0,
  reorderRate: 0,
  reorderDelayMs: 5,
  mtu: 0,
});

/** The parameter names, in the order of DEFAULT_LINK_PARAMS. */
export const LINK_PARAM_NAMES = Object.keys(DEFAULT_LINK_PARAMS) as (keyof LinkParams)[];

/** Parameters that are probabilities. */
const PROBABILITIES = ['lossRate', 'duplicateRate', 'reorderRate'] as const;
/** Parameters that are finite numbers >= 0. */
const NON_NEGATIVE = ['delayMs', 'jitterMs', 'rateBps', 'overheadBytes', 'reorderDelayMs', 'mtu'] as const;
/** Parameters that are booleans. */
const FLAGS = ['reorder', 'blackhole'] as const;

/** Checks a (partial) parameter set; throws a RangeError naming the bad field (prefixed with `where`). */
export function validateLinkParams(p: Partial<LinkParams>, where = 'link'): void {
  const bad = (key: string, what: string, v: unknown): never => {
    throw new RangeError(`${where}: ${key} must be ${what}, got ${String(v)}`);
  };
  for (const key of Object.keys(p)) {
    if (!(key in DEFAULT_LINK_PARAMS)) throw new RangeError(`${where}: unknown link parameter '${key}'`);
  }
  for (const k of PROBABILITIES) {
    const v = p[k];
    if (v !== undefined && !(typeof v === 'number' && v >= 0 && v <= 1)) bad(k, 'in [0, 1]', v);
  }
  for (const k of NON_NEGATIVE) {
    const v = p[k];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) bad(k, 'a finite number >= 0', v);
  }
  for (const k of FLAGS) {
    const v = p[k];
    if (v !== undefined && typeof v !== 'boolean') bad(k, 'a boolean', v);
  }
  const q = p.queueBytes;
  if (q !== undefined && q !== null && !(typeof q === 'number' && Number.isFinite(q) && q >= 0)) bad('queueBytes', 'null or a finite number >= 0', q);
}

/** The queue limit `p` gives, in bytes (resolves null to rateBps × 100 ms, at least 3000). */
export function queueLimit(p: Readonly<LinkParams>): number {
  if (p.queueBytes !== null) return p.queueBytes;
  return p.rateBps > 0 ? Math.max(3000, (p.rateBps * 0.1) / 8) : 64 * 1024;
}
