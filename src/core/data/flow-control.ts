/**
 * Connection-level flow control over the data sequence space, in the manner
 * of QUIC's MAX_DATA (RFC 9000 §4.1): the receiver advertises an absolute
 * offset the sender may send up to, and raises it as the application reads.
 * Paths do not matter: the limit is on data offsets, whatever path carries
 * them.
 */

/** Fraction of the window by which maxData must grow before re-advertising. */
export const ADVERTISE_FRACTION = 0.5;

/**
 * Receiver's side. maxData = readOffset + windowSize, never decreasing.
 * A new value is worth advertising once it exceeds the last advertised one
 * by at least half a window (ADVERTISE_FRACTION), so a steady reader sends
 * about two updates per window instead of one per read.
 */
export class ReceiveWindow {
  /** Bytes the peer may have in flight beyond what the application read. */
  readonly windowSize: number;
  /** Highest offset (exclusive) the peer may send up to. */
  private limit: number;
  /** The last limit handed to the peer by markAdvertised(). */
  private advertised: number;

  constructor(windowSize: number) {
    if (!Number.isSafeInteger(windowSize) || windowSize <= 0) {
      throw new RangeError(`ReceiveWindow: invalid window size ${windowSize}`);
    }
    this.windowSize = windowSize;
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
  onConsumed(readOffset: number): boolean {
    const candidate = readOffset + this.windowSize;
    if (candidate > this.limit) this.limit = candidate;
    return this.shouldAdvertise;
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
