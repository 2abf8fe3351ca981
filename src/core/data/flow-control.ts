/**
 * Connection-level flow control over the data sequence space, in the manner
 * of QUIC's MAX_DATA (RFC 9000 §4.1): the receiver advertises an absolute
 * offset the sender may send up to, and raises it as the application reads.
 * Paths do not matter: the limit is on data offsets, whatever path carries
 * them.
 */

/** Fraction of the window by which maxData must grow before re-advertising. */
export const ADVERTISE_FRACTION = 0.5;
/** The tuned window is this many times the bytes the application reads in one (longest) round trip. */
export const AUTOTUNE_GAIN = 2;

/**
 * Receiver's side. maxData = readOffset + windowSize, never decreasing.
 * A new value is worth advertising once it exceeds the last advertised one
 * by at least half a window (ADVERTISE_FRACTION), so a steady reader sends
 * about two updates per window instead of one per read.
 *
 * Auto-tuning (dynamic right-sizing, as Linux's receive buffer tuning): the
 * window starts at its initial size and grows, up to `maxWindowSize`, to
 * AUTOTUNE_GAIN × the bytes the application consumed over the last round
 * trip of the slowest path (by its minimum RTT). When data flows at the
 * paths' full rates that is twice (Σ rates) × (longest RTT): more than the
 * sum of the paths' bandwidth-delay products, by the reordering between the
 * fastest and the slowest path, which the receiver must buffer too. While
 * the window is what limits the sender, each round trip doubles it. The
 * minimum RTT is used, not the smoothed one, so a queue that a loss-based
 * sender builds does not open the window further (the window then bounds
 * that queue to about one BDP). The window never shrinks.
 */
export class ReceiveWindow {
  /** Bytes the peer may have in flight beyond what the application read (grows by auto-tuning). */
  windowSize: number;
  /** The most auto-tuning may grow `windowSize` to. */
  readonly maxWindowSize: number;
  /** Highest offset (exclusive) the peer may send up to. */
  private limit: number;
  /** The last limit handed to the peer by markAdvertised(). */
  private advertised: number;
  /** Start of the current auto-tuning measurement: time (ms) and read offset. */
  private tuneFrom = -1;
  private tuneOffset = 0;
  /** Times auto-tuning grew the window (stats and tests). */
  grown = 0;

  /** `maxWindowSize` (default `windowSize`: no auto-tuning) is clamped up to `windowSize`. */
  constructor(windowSize: number, maxWindowSize = windowSize) {
    if (!Number.isSafeInteger(windowSize) || windowSize <= 0) {
      throw new RangeError(`ReceiveWindow: invalid window size ${windowSize}`);
    }
    if (!Number.isSafeInteger(maxWindowSize) || maxWindowSize <= 0) {
      throw new RangeError(`ReceiveWindow: invalid maximum window size ${maxWindowSize}`);
    }
    this.windowSize = windowSize;
    this.maxWindowSize = Math.max(windowSize, maxWindowSize);
    this.limit = windowSize;
    this.advertised = windowSize;
  }

  /** Highest offset (exclusive) the peer may send up to; never decreases. */
  get maxData(): number {
    return this.limit;
  }

  /** The limit the peer last heard of (the initial window counts). */
  get advertisedMaxData(): number {
    return this.advertised;
  }

  /**
   * The application has read up to readOffset. Returns true when maxData
   * has grown by at least windowSize * ADVERTISE_FRACTION since the last
   * advertisement, i.e. a MAX_DATA update should be sent.
   */
  onConsumed(readOffset: number, now?: number, roundTripMs?: number): boolean {
    if (now !== undefined && roundTripMs !== undefined && roundTripMs > 0) this.tune(readOffset, now, roundTripMs);
    const candidate = readOffset + this.windowSize;
    if (candidate > this.limit) this.limit = candidate;
    return this.shouldAdvertise;
  }

  /**
   * Auto-tuning: once per `roundTripMs` (the longest of the paths' minimum
   * RTTs), the window grows to AUTOTUNE_GAIN × the bytes read in that time.
   */
  private tune(readOffset: number, now: number, roundTripMs: number): void {
    if (this.windowSize >= this.maxWindowSize) return;
    if (this.tuneFrom < 0) {
      this.tuneFrom = now;
      this.tuneOffset = readOffset;
      return;
    }
    const elapsed = now - this.tuneFrom;
    if (elapsed < roundTripMs) return;
    const perRound = ((readOffset - this.tuneOffset) * roundTripMs) / elapsed;
    const target = Math.min(this.maxWindowSize, Math.ceil(AUTOTUNE_GAIN * perRound));
    if (target > this.windowSize) {
      this.windowSize = target;
      this.grown++;
    }
    this.tuneFrom = now;
    this.tuneOffset = readOffset;
  }

  /** A MAX_DATA update is due (see onConsumed). */
  get shouldAdvertise(): boolean {
    return this.limit - this.advertised >= this.windowSize * ADVERTISE_FRACTION;
  }

  /** The current maxData was sent to the peer. */
  markAdvertised(): void {
    this.advertised = this.limit;
  }

  /**
   * Data arrived ending at endOffset (exclusive). False means the peer
   * violated flow control. Checked against maxData, which is never below
   * what the peer was told, so an update still in flight never causes a
   * false violation.
   */
  checkLimit(endOffset: number): boolean {
    return endOffset <= this.limit;
  }
}

/**
 * The round trip auto-tuning measures over: the longest minimum RTT among
 * the paths that carry data (ms), or 0 when none has a sample.
 */
export function tuningRoundTrip(paths: readonly { readonly state: string; readonly validated: boolean; readonly rtt: { readonly min: number; readonly hasSample: boolean } }[]): number {
  let rtt = 0;
  for (const p of paths) {
    if (!p.validated || (p.state !== 'active' && p.state !== 'suspect') || !p.rtt.hasSample) continue;
    if (p.rtt.min > rtt) rtt = p.rtt.min;
  }
  return rtt;
}

/** Sender's side: the highest maxData the peer advertised. */
export class SendWindow {
  /** Highest offset (exclusive) we may send up to. */
  private limit: number;

  constructor(initialMaxData = 0) {
    this.limit = initialMaxData;
  }

  get maxData(): number {
    return this.limit;
  }

  /**
   * The peer advertised newMax. Only increases take effect (updates may be
   * reordered, RFC 9000 §4.1: "A sender MUST ignore any MAX_STREAM_DATA or
   * MAX_DATA frames that do not increase flow control limits"). Returns true if it grew.
   */
  update(newMax: number): boolean {
    if (newMax > this.limit) {
      this.limit = newMax;
      return true;
    }
    return false;
  }

  /** Bytes of new data that may be sent from sendOffset. */
  available(sendOffset: number): number {
    return Math.max(0, this.limit - sendOffset);
  }
}
