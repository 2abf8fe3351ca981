/**
 * Token-bucket pacer, per path (RFC 9002 §7.7; modelled on quinn's pacing.rs).
 *
 * RFC 9002 §7.7: "One possible implementation strategy for pacing uses a leaky
 * bucket algorithm, where the capacity of the "bucket" is limited to the
 * maximum burst size and the rate the "bucket" fills is determined by the
 * above function" — rate = N * congestion_window / smoothed_rtt, with "a value
 * for N that is small, but at least 1 (for example, 1.25)".
 *
 * - Rate: 1.25 * window / smoothedRtt bytes per ms (2 * window / smoothedRtt
 *   when the caller says the path is in slow start), unless the path's
 *   congestion controller offers its own pacing rate (BBR: "pacing driving
 *   the send rate"), which is then used as given.
 * - Burst capacity: the bytes the window allows in BURST_INTERVAL_MS
 *   (window * 2 ms / smoothedRtt), clamped to [10, 256] datagrams. The floor
 *   of 10 datagrams is the initial window (§7.7: "Senders SHOULD limit bursts
 *   to the initial congestion window"); the 2 ms interval lets a sender woken
 *   by coarse timers still reach the rate on fast paths.
 * - The bucket starts full. ACK-only packets should not be paced (§7.7) and
 *   need not call `delay`; `onSent` is for paced (in-flight) packets.
 * - A sender woken late makes up for the lost time (as Chromium's QUIC
 *   pacing sender does when its alarm fires late): when the bucket ran
 *   short, `delay` named the time the next packet could go; a call after
 *   that time may send, beyond the burst capacity, what the rate earned
 *   since then, up to MAX_BURST_DATAGRAMS in all (the window still bounds
 *   the flight). A gap with nothing in flight, or longer than
 *   MAX_LATENESS_MS (or one smoothed RTT, if longer), is idleness (the
 *   application had no data) and earns nothing. Credit left unspent for
 *   BURST_INTERVAL_MS is dropped. On a loaded host the event loop runs every 5 to 30 ms, not
 *   every few hundred microseconds; a bucket of 2 ms then lets a path send
 *   a fraction of its rate, and a controller that measures its delivery
 *   rate (BBR) takes that fraction for the path's capacity and spirals
 *   down (issue #12: `npm start` and test/sim/stalls.test.ts).
 *
 * No allocation per call: state is a few numbers.
 */

/** Interval whose worth of window may go out back to back, ms. */
export const BURST_INTERVAL_MS = 2;
/** Smallest burst capacity, in datagrams. */
export const MIN_BURST_DATAGRAMS = 10;
/**
 * The longest lateness made up for (ms), unless the smoothed RTT is longer:
 * a process descheduled on a loaded host, not an idle one (a path with
 * nothing in flight earns no credit).
 */
export const MAX_LATENESS_MS = 250;
/** Largest burst capacity, in datagrams. */
export const MAX_BURST_DATAGRAMS = 256;
/** Pacing gain N in congestion avoidance / recovery. */
export const PACING_GAIN = 1.25;
/** Pacing gain in slow start. */
export const SLOW_START_PACING_GAIN = 2;

/** What the last peekDelay computed, for delay to keep (one object for every pacer: no allocation per call). */
const plan = { valid: false, rate: 0, capacity: 0, maxLateness: 0 };

export class Pacer {
  /** Maximum datagram size, bytes. */
  readonly maxDatagramSize: number;
  /** Tokens available, bytes. */
  private tokens: number;
  /** Bucket capacity, bytes (last computed). */
  private capacity: number;
  /** Refill rate from the last `delay` call, bytes per ms (0 = unknown: no refill). */
  private rate = 0;
  /** Time tokens were last refilled, ms, or null before the first call. */
  private lastTime: number | null = null;
  /** When the bucket last ran short: the time `delay` named for the next packet (ms), or null. */
  private dueAt: number | null = null;
  /** The longest lateness made up for (ms), from the last `delay` call; a longer gap is idleness (0: nothing in flight). */
  private maxLateness: number = BURST_INTERVAL_MS;
  /** Tokens above the capacity (late credit) may be spent until then (ms); later they are dropped. */
  private creditExpires = -Infinity;
  /** Bytes sent beyond the burst capacity on late credit (stats and tests). */
  lateCreditBytes = 0;

  constructor(maxDatagramSize: number) {
    this.maxDatagramSize = maxDatagramSize;
    this.capacity = MIN_BURST_DATAGRAMS * maxDatagramSize;
    this.tokens = this.capacity;
  }

  /** Tokens currently available, bytes (for tests and stats). */
  get available(): number {
    return this.tokens;
  }

  /** Current burst capacity, bytes. */
  get burstCapacity(): number {
    return this.capacity;
  }

  /** How long an empty bucket takes to fill at the current rate, ms (Infinity before a rate is known). */
  get fillTime(): number {
    return this.rate > 0 ? this.capacity / this.rate : Infinity;
  }

  /**
   * When may a packet of `bytes` go? Returns 0 if now, else the absolute time
   * (ms) at which enough tokens will have accumulated. Takes the rate and
   * capacity given and refills the bucket up to `now` (what `peekDelay`
   * computes, kept).
   */
  delay(
    now: number,
    bytes: number,
    window: number,
    smoothedRtt: number,
    slowStart = false,
    /** The controller's pacing rate, bytes per ms; null or absent: derived from the window. */
    controllerRate: number | null = null,
    /** Bytes in flight on the path: with none, a late call is idleness, not lateness (absent: lateness). */
    bytesInFlight = 1,
  ): number {
    const due = this.peekDelay(now, bytes, window, smoothedRtt, slowStart, controllerRate, bytesInFlight);
    if (!plan.valid) return due;
    this.rate = plan.rate;
    this.capacity = plan.capacity;
    this.maxLateness = plan.maxLateness;
    this.refill(now);
    // (The same clamp peekDelay applied to its copy of the tokens.)
    if (this.tokens > plan.capacity && now > this.creditExpires) this.tokens = plan.capacity;
    if (due !== 0) this.dueAt = due;
    return due;
  }

  /**
   * What `delay` would return, changing nothing: a deadline may be asked
   * for (pollTimeout) without moving the bucket.
   */
  peekDelay(now: number, bytes: number, window: number, smoothedRtt: number, slowStart = false, controllerRate: number | null = null, bytesInFlight = 1): number {
    const mds = this.maxDatagramSize;
    let rate: number;
    let cap: number;
    plan.valid = false;
    if (controllerRate !== null && controllerRate > 0) {
      // The bucket holds BURST_INTERVAL_MS of the controller's rate.
      rate = controllerRate;
      cap = controllerRate * BURST_INTERVAL_MS;
    } else {
      if (smoothedRtt <= 0 || window <= 0) return 0;
      rate = ((slowStart ? SLOW_START_PACING_GAIN : PACING_GAIN) * window) / smoothedRtt;
      cap = (window * BURST_INTERVAL_MS) / smoothedRtt;
    }
    cap = Math.min(Math.max(cap, MIN_BURST_DATAGRAMS * mds), MAX_BURST_DATAGRAMS * mds);
    const maxLateness = bytesInFlight > 0 ? Math.max(smoothedRtt, MAX_LATENESS_MS) : 0;
    plan.valid = true;
    plan.rate = rate;
    plan.capacity = cap;
    plan.maxLateness = maxLateness;
    let tokens = this.refilled(now, rate, cap, maxLateness);
    const creditExpires = this.lastTime !== null && now > this.lastTime && this.dueAt !== null && now >= this.dueAt ? now + BURST_INTERVAL_MS : this.creditExpires;
    if (tokens > cap && now > creditExpires) tokens = cap;
    // A packet larger than the bucket waits only for a full bucket.
    const need = bytes < cap ? bytes : cap;
    if (tokens >= need - 1e-6) return 0; // tolerate float rounding at the wake-up time
    return now + (need - tokens) / rate;
  }

  /** A paced packet of `bytes` left at `now`: consume its tokens (never below 0). */
  onSent(now: number, bytes: number): void {
    this.refill(now);
    if (this.tokens > this.capacity) {
      this.lateCreditBytes += Math.min(bytes, this.tokens - this.capacity);
      this.creditExpires = now + BURST_INTERVAL_MS;
    }
    this.tokens = this.tokens > bytes ? this.tokens - bytes : 0;
  }

  /**
   * Adds the tokens earned since the last refill, up to the burst capacity;
   * beyond it when the call comes after the time `delay` named (late
   * credit), or while such credit is being spent.
   */
  private refill(now: number): void {
    if (this.lastTime !== null && now > this.lastTime) {
      this.tokens = this.refilled(now, this.rate, this.capacity, this.maxLateness);
      if (this.dueAt !== null && now >= this.dueAt) {
        this.dueAt = null;
        this.creditExpires = now + BURST_INTERVAL_MS;
      }
    }
    if (this.lastTime === null || now > this.lastTime) this.lastTime = now;
  }

  /** The tokens a refill at `now` leaves with this rate, capacity and lateness (changes nothing). */
  private refilled(now: number, rate: number, capacity: number, maxLateness: number): number {
    if (this.lastTime === null || now <= this.lastTime) return this.tokens;
    let limit = capacity;
    if (this.dueAt !== null && now >= this.dueAt) {
      // Woken at or after the time named: make up for the lateness. With
      // nothing in flight, or later than maxLateness, the sender was idle
      // (no data), not late.
      const late = now - this.dueAt;
      // At most MAX_BURST_DATAGRAMS in all: a late burst must not overrun
      // the receiver's socket buffer either.
      if (late <= maxLateness) limit = Math.max(limit, Math.min(limit + late * rate, MAX_BURST_DATAGRAMS * this.maxDatagramSize));
    } else if (now <= this.creditExpires && this.tokens > limit) {
      limit = this.tokens; // a late burst in progress keeps its credit
    }
    const t = this.tokens + (now - this.lastTime) * rate;
    return t < limit ? t : limit;
  }
}
