/**
 * NewReno congestion controller, per path (RFC 9002 §7 and Appendix B).
 * Also home of the window constants shared with CUBIC (kept here, not in
 * congestion.ts, so no module cycle exists at run time).
 */
import type { CongestionController } from './congestion.js';
import type { RttEstimator } from './rtt.js';

/**
 * RFC 9002 §7.2: "Endpoints SHOULD use an initial congestion window of 10 times
 * the maximum datagram size (max_datagram_size), while limiting the window to
 * the larger of 14720 bytes or twice the maximum datagram size."
 */
export function initialWindow(maxDatagramSize: number): number {
  return Math.min(10 * maxDatagramSize, Math.max(14720, 2 * maxDatagramSize));
}

/** RFC 9002 §7.2: minimum congestion window, "The RECOMMENDED value is 2 * max_datagram_size." */
export function minimumWindow(maxDatagramSize: number): number {
  return 2 * maxDatagramSize;
}

/** RFC 9002 §7.3.2 / Appendix B.1: kLossReductionFactor, "recommends a value is 0.5". */
export const K_LOSS_REDUCTION_FACTOR = 0.5;

/**
 * Application-limited rule shared by both controllers. RFC 9002 §7.8: "When
 * bytes in flight is smaller than the congestion window and sending is not
 * pacing limited, the congestion window is under-utilized. [...] the congestion
 * window SHOULD NOT be increased in either slow start or congestion avoidance."
 * We call the window under-utilized when the bytes in flight at the time the
 * ACK arrived (before removing the packets it acknowledges) are below half
 * the window: pacing and ACK thinning keep a busy sender well above that.
 */
export function isAppLimited(bytesInFlight: number, window: number): boolean {
  return bytesInFlight < window / 2;
}

export class NewReno implements CongestionController {
  /** Algorithm name. */
  readonly name = 'newreno' as const;
  /** Maximum datagram size in bytes. */
  readonly maxDatagramSize: number;
  /** Congestion window, bytes (integer). */
  private cwnd: number;
  /** Slow start threshold, bytes; Infinity until the first congestion event. */
  private ssthresh = Infinity;
  /** congestion_recovery_start_time: when the current/last recovery period began, or null. */
  private recoveryStart: number | null = null;
  /** True from a congestion event until a packet sent after it is acknowledged. */
  private recovering = false;
  /** Bytes acknowledged in congestion avoidance not yet turned into window growth. */
  private bytesAckedInCa = 0;
  /** The state before the latest reduction, until it is undone or can no longer be (undoCongestionEvent). */
  private prior: { cwnd: number; ssthresh: number; bytesAckedInCa: number } | null = null;

  constructor(maxDatagramSize: number) {
    this.maxDatagramSize = maxDatagramSize;
    this.cwnd = initialWindow(maxDatagramSize);
  }

  get window(): number {
    return this.cwnd;
  }

  get slowStartThreshold(): number {
    return this.ssthresh;
  }

  get inRecovery(): boolean {
    return this.recovering;
  }

  onPacketSent(_bytes: number, _now: number): void {
    // NewReno needs nothing at send time; bytes in flight live in SentPackets.
  }

  /** `bytesInFlight`: bytes in flight when the ACK arrived, before removing the acked packets. */
  onAck(bytes: number, timeSent: number, _now: number, _rtt: RttEstimator, bytesInFlight: number): void {
    // Appendix B.5: "Do not increase congestion window in recovery period."
    // InCongestionRecovery(sent_time): return sent_time <= congestion_recovery_start_time
    if (this.recoveryStart !== null && timeSent <= this.recoveryStart) return;
    // §7.3.2: "A recovery period ends and the sender enters congestion avoidance
    // when a packet sent during the recovery period is acknowledged."
    this.recovering = false;
    if (isAppLimited(bytesInFlight, this.cwnd)) return;
    if (this.cwnd < this.ssthresh) {
      // §7.3.1: "While a sender is in slow start, the congestion window increases
      // by the number of bytes acknowledged when each acknowledgment is processed."
      this.cwnd += bytes;
      return;
    }
    // §7.3.3: "MUST limit the increase to the congestion window to at most one
    // maximum datagram size for each congestion window that is acknowledged."
    // Byte counting as RFC 3465 §2.1 (Appendix B.5 suggests it for integer windows).
    this.bytesAckedInCa += bytes;
    while (this.bytesAckedInCa >= this.cwnd) {
      this.bytesAckedInCa -= this.cwnd;
      this.cwnd += this.maxDatagramSize;
    }
  }

  onCongestionEvent(timeSentOfLost: number, now: number): boolean {
    // Appendix B.6: "No reaction if already in a recovery period."
    if (this.recoveryStart !== null && timeSentOfLost <= this.recoveryStart) return false;
    this.recoveryStart = now;
    this.recovering = true;
    this.prior = { cwnd: this.cwnd, ssthresh: this.ssthresh, bytesAckedInCa: this.bytesAckedInCa };
    // §7.3.2: "On entering a recovery period, a sender MUST set the slow start
    // threshold to half the value of the congestion window when loss is detected."
    this.ssthresh = Math.floor(this.cwnd * K_LOSS_REDUCTION_FACTOR);
    // B.6: congestion_window = max(ssthresh, kMinimumWindow)
    this.cwnd = Math.max(this.ssthresh, minimumWindow(this.maxDatagramSize));
    this.bytesAckedInCa = 0;
    return true;
  }

  onPersistentCongestion(): void {
    // §7.6.2: "the sender's congestion window MUST be reduced to the minimum
    // congestion window (kMinimumWindow)"; B.8 also clears the recovery start.
    this.cwnd = minimumWindow(this.maxDatagramSize);
    this.recoveryStart = null;
    this.recovering = false;
    this.bytesAckedInCa = 0;
    this.prior = null;
  }

  /** The reduction was spurious: the window and threshold it had before, if the window has not grown past them since. */
  undoCongestionEvent(): void {
    const prior = this.prior;
    this.prior = null;
    if (prior === null) return;
    // No congestion, so no recovery period: a real loss of a packet sent
    // before the spurious one is a congestion event of its own.
    this.recoveryStart = null;
    this.recovering = false;
    if (this.cwnd >= prior.cwnd) return;
    this.cwnd = prior.cwnd;
    this.ssthresh = prior.ssthresh;
    this.bytesAckedInCa = prior.bytesAckedInCa;
  }

  reset(): void {
    this.cwnd = initialWindow(this.maxDatagramSize);
    this.ssthresh = Infinity;
    this.recoveryStart = null;
    this.recovering = false;
    this.bytesAckedInCa = 0;
    this.prior = null;
  }

  /** Nothing to release: not coupled. */
  dispose(): void {}
}
