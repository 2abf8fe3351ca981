/**
 * Per-path round-trip time estimator (RFC 9002 §5).
 *
 * One instance per path: "Packets sent on other paths do not contribute RTT
 * samples to the current path" (RFC 9002 §5.3). All times in milliseconds.
 */

/** RFC 9002 §6.1.2: "The RECOMMENDED value of the timer granularity (kGranularity) is 1 millisecond." */
export const K_GRANULARITY = 1;

/** RFC 9002 §6.2.2: "When no previous RTT is available, the initial RTT SHOULD be set to 333 milliseconds." */
export const K_INITIAL_RTT = 333;

export class RttEstimator {
  /** Most recent RTT sample (latest_rtt), ms; 0 before the first sample. */
  latest = 0;
  /** Smoothed RTT (smoothed_rtt), ms. */
  smoothed: number;
  /** RTT variation (rttvar), ms. */
  rttvar: number;
  /** Minimum RTT observed, ignoring ack delay (min_rtt), ms; 0 before the first sample. */
  min = 0;
  /** True once at least one RTT sample was taken. */
  hasSample = false;
  /** When the first sample was taken (first_rtt_sample), if `update` was given `now`; else null. */
  firstSampleTime: number | null = null;
  /** The initial RTT this estimator falls back to on `reset`. */
  private readonly initialRtt: number;

  constructor(initialRtt = K_INITIAL_RTT) {
    this.initialRtt = initialRtt;
    // RFC 9002 §5.3: "smoothed_rtt = kInitialRtt; rttvar = kInitialRtt / 2"
    this.smoothed = initialRtt;
    this.rttvar = initialRtt / 2;
  }

  /**
   * Feeds one RTT sample. `ackDelay` is the peer-reported delay in ms and is
   * always capped at `maxAckDelay` (this transport has no pre-handshake ACK
   * delays on data paths). `now` is optional and only records `firstSampleTime`
   * (used by persistent congestion detection).
   */
  update(latestRtt: number, ackDelay: number, maxAckDelay: number, now?: number): void {
    this.latest = latestRtt;
    if (!this.hasSample) {
      // RFC 9002 §5.3: "On the first RTT sample after initialization, smoothed_rtt
      // and rttvar are set as follows: smoothed_rtt = latest_rtt; rttvar = latest_rtt / 2"
      // §5.2: "min_rtt MUST be set to the latest_rtt on the first RTT sample."
      this.hasSample = true;
      this.min = latestRtt;
      this.smoothed = latestRtt;
      this.rttvar = latestRtt / 2;
      this.firstSampleTime = now ?? null;
      return;
    }
    // RFC 9002 §5.2: "min_rtt MUST be set to the lesser of min_rtt and latest_rtt
    // on all other samples." (min_rtt ignores acknowledgment delay.)
    this.min = Math.min(this.min, latestRtt);
    // §5.3: "MUST use the lesser of the acknowledgment delay and the peer's
    // max_ack_delay after the handshake is confirmed"
    const ackDelayCapped = Math.min(Math.max(ackDelay, 0), maxAckDelay);
    // §5.3: "MUST NOT subtract the acknowledgment delay from the RTT sample if
    // the resulting value is smaller than the min_rtt."
    // Pseudocode: if (latest_rtt >= min_rtt + ack_delay): adjusted_rtt = latest_rtt - ack_delay
    let adjusted = latestRtt;
    if (latestRtt >= this.min + ackDelayCapped) adjusted = latestRtt - ackDelayCapped;
    // Order per RFC 9002 Appendix A.7 (and erratum 7539): rttvar before smoothed_rtt.
    // rttvar = 3/4 * rttvar + 1/4 * abs(smoothed_rtt - adjusted_rtt)
    this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.smoothed - adjusted);
    // smoothed_rtt = 7/8 * smoothed_rtt + 1/8 * adjusted_rtt
    this.smoothed = 0.875 * this.smoothed + 0.125 * adjusted;
  }

  /**
   * Probe timeout period, without backoff.
   * RFC 9002 §6.2.1: "PTO = smoothed_rtt + max(4*rttvar, kGranularity) + max_ack_delay"
   */
  pto(maxAckDelay: number): number {
    return this.smoothed + Math.max(4 * this.rttvar, K_GRANULARITY) + maxAckDelay;
  }

  /**
   * RFC 9002 §5.2: "Endpoints SHOULD set the min_rtt to the newest RTT sample
   * after persistent congestion is established."
   */
  onPersistentCongestion(): void {
    if (this.hasSample) this.min = this.latest;
  }

  /** Forgets every sample (path migrated or re-validated after failure). */
  reset(initialRtt = this.initialRtt): void {
    this.latest = 0;
    this.smoothed = initialRtt;
    this.rttvar = initialRtt / 2;
    this.min = 0;
    this.hasSample = false;
    this.firstSampleTime = null;
  }
}
