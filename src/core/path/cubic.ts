/**
 * CUBIC congestion controller, per path (RFC 9438), windows in bytes.
 *
 * - Slow start is plain RFC 5681 slow start (RFC 9438 §4.10 allows it: "MAY
 *   use the Reno TCP slow start algorithm [RFC5681] in the rare cases when
 *   HyStart++ is not suitable"); HyStart++ is not implemented.
 * - Recovery periods and the app-limited rule follow RFC 9002 §7 exactly as
 *   NewReno does (see new-reno.ts).
 * - The congestion avoidance epoch starts at the first ACK processed in
 *   congestion avoidance (t = 0 there, cwnd_epoch = cwnd), as Linux does.
 * - The reduction uses cwnd rather than flight_size (§4.6 allows this).
 */
import type { CongestionController } from './congestion.js';
import { initialWindow, isAppLimited, minimumWindow } from './new-reno.js';
import type { RttEstimator } from './rtt.js';

/** RFC 9438 §5.1: "C SHOULD be set to 0.4." Units: segments / second^3. */
export const CUBIC_C = 0.4;
/** RFC 9438 §4.6: "The parameter β_cubic SHOULD be set to 0.7". */
export const CUBIC_BETA = 0.7;
/** RFC 9438 §4.3: "α_cubic = 3 * (1 - β_cubic) / (1 + β_cubic)". */
export const CUBIC_ALPHA = (3 * (1 - CUBIC_BETA)) / (1 + CUBIC_BETA);

/**
 * K in seconds. RFC 9438 §4.2: "K = cubic_root((W_max - cwnd_epoch) / C)",
 * windows in segments; here given in bytes with the segment size.
 */
export function cubicK(wMax: number, cwndEpoch: number, maxDatagramSize: number): number {
  return Math.cbrt(Math.max(0, (wMax - cwndEpoch) / maxDatagramSize) / CUBIC_C);
}

/** RFC 9438 §4.2: "W_cubic(t) = C * (t - K)^3 + W_max", t and K in seconds; result in bytes. */
export function cubicWindow(t: number, k: number, wMax: number, maxDatagramSize: number): number {
  const d = t - k;
  return CUBIC_C * d * d * d * maxDatagramSize + wMax;
}

/** What §4.9 saves at a congestion event, to restore if it proves spurious. */
interface CubicPrior {
  cwnd: number;
  ssthresh: number;
  wMax: number;
  k: number;
  epochStart: number | null;
  cwndEpoch: number;
  wEst: number;
  cwndPrior: number;
}

export class Cubic implements CongestionController {
  /** Algorithm name. */
  readonly name = 'cubic' as const;
  /** Maximum datagram size (the segment), bytes. */
  readonly maxDatagramSize: number;
  /** Congestion window, bytes (fractional internally). */
  private cwnd: number;
  /** Slow start threshold, bytes. */
  private ssthresh = Infinity;
  /** Start of the current/last recovery period, or null. */
  private recoveryStart: number | null = null;
  /** True from a congestion event until a packet sent after it is acknowledged. */
  private recovering = false;
  /** W_max, bytes (0 = none yet: the epoch then starts with K = 0, W_max = cwnd). */
  private wMaxBytes = 0;
  /** K, seconds. */
  private kSeconds = 0;
  /** epoch_start, ms; null until the first ACK in congestion avoidance. */
  private epochStart: number | null = null;
  /** cwnd_epoch: cwnd when the epoch started, bytes. */
  private cwndEpoch = 0;
  /** W_est: Reno-friendly window estimate, bytes. */
  private wEst = 0;
  /** cwnd_prior: cwnd when ssthresh was last set, bytes. */
  private cwndPrior = 0;
  /** Time of the last ACK processed, ms (to exclude app-limited time from t). */
  private lastAckTime: number | null = null;
  /** Time of the last packet sent, ms (to exclude idle time from t). */
  private lastSentTime: number | null = null;
  /** Latest smoothed RTT seen, ms (idle detection threshold). */
  private rttHint = 0;
  /** The state before the latest reduction, until it is undone or can no longer be (undoCongestionEvent). */
  private prior: CubicPrior | null = null;

  constructor(maxDatagramSize: number) {
    this.maxDatagramSize = maxDatagramSize;
    this.cwnd = initialWindow(maxDatagramSize);
  }

  get window(): number {
    return Math.floor(this.cwnd);
  }

  get slowStartThreshold(): number {
    return this.ssthresh;
  }

  get inRecovery(): boolean {
    return this.recovering;
  }

  /** Current W_max, bytes. */
  get wMax(): number {
    return this.wMaxBytes;
  }

  /** Current K, seconds. */
  get k(): number {
    return this.kSeconds;
  }

  /** Start of the current congestion avoidance epoch, ms, or null. */
  get epoch(): number | null {
    return this.epochStart;
  }

  /** Current W_est, bytes. */
  get renoEstimate(): number {
    return this.wEst;
  }

  onPacketSent(_bytes: number, now: number): void {
    // RFC 9438 §5.8: t must not include "application-limited periods, such as
    // idle periods". Nothing sent or acknowledged for longer than an RTT is idle
    // time: shift the epoch by it (as Linux does on restart after idle).
    if (this.epochStart !== null && this.lastSentTime !== null && this.rttHint > 0) {
      const idle = now - Math.max(this.lastSentTime, this.lastAckTime ?? -Infinity);
      if (idle > this.rttHint) {
        this.epochStart += idle;
        this.lastAckTime = now; // the app-limited shift in onAck must not count it again
      }
    }
    this.lastSentTime = now;
  }

  /** `bytesInFlight`: bytes in flight when the ACK arrived, before removing the acked packets. */
  onAck(bytes: number, timeSent: number, now: number, rtt: RttEstimator, bytesInFlight: number): void {
    // RFC 9002 Appendix B.5: no increase for packets sent before recovery started.
    if (this.recoveryStart !== null && timeSent <= this.recoveryStart) return;
    this.recovering = false;
    this.rttHint = rtt.smoothed;
    const lastAck = this.lastAckTime;
    this.lastAckTime = now;
    if (isAppLimited(bytesInFlight, this.cwnd)) {
      // §4.2: the elapsed time t "MUST NOT include periods during which cwnd has
      // not been updated due to an application limit" (wording of the final draft).
      if (this.epochStart !== null && lastAck !== null) this.epochStart += now - lastAck;
      return;
    }
    if (this.cwnd < this.ssthresh) {
      this.cwnd += bytes; // RFC 5681 slow start (byte counting)
      return;
    }
    if (this.epochStart === null) this.startEpoch(now);
    const mds = this.maxDatagramSize;
    const t = (now - this.epochStart!) / 1000;
    const rttSeconds = rtt.smoothed / 1000;
    // §4.2: target = W_cubic(t + RTT), bounded to [cwnd, 1.5 * cwnd]: "The lower and
    // upper bounds below ensure that CUBIC's congestion window increase rate is
    // non-decreasing and is less than the increase rate of slow start".
    let target = cubicWindow(t + rttSeconds, this.kSeconds, this.wMaxBytes, mds);
    if (target < this.cwnd) target = this.cwnd;
    else if (target > 1.5 * this.cwnd) target = 1.5 * this.cwnd;
    // §4.3: "W_est = W_est + α_cubic * segments_acked / cwnd"; "Once W_est has grown
    // to reach the cwnd at the time of most recently setting ssthresh -- that is,
    // W_est >= cwnd_prior -- the sender SHOULD set α_cubic to 1".
    const alpha = this.wEst >= this.cwndPrior ? 1 : CUBIC_ALPHA;
    this.wEst += (alpha * mds * bytes) / this.cwnd;
    if (cubicWindow(t, this.kSeconds, this.wMaxBytes, mds) < this.wEst) {
      // §4.3: "CUBIC checks whether W_cubic(t) is less than W_est. If so, CUBIC is
      // in the Reno-friendly region and cwnd SHOULD be set to W_est at each
      // reception of a new ACK."
      // (Never lowered: cwnd only grows in congestion avoidance.)
      if (this.wEst > this.cwnd) this.cwnd = this.wEst;
    } else {
      // §4.4/§4.5: "cwnd MUST be incremented by (target - cwnd) / cwnd for each
      // received new ACK" (per segment acknowledged; scaled to bytes).
      this.cwnd += ((target - this.cwnd) * bytes) / this.cwnd;
    }
  }

  onCongestionEvent(timeSentOfLost: number, now: number): boolean {
    if (this.recoveryStart !== null && timeSentOfLost <= this.recoveryStart) return false;
    this.recoveryStart = now;
    this.recovering = true;
    // §4.9: "When there is a congestion event, a CUBIC implementation SHOULD
    // save the current value of the following variables before the
    // congestion window is reduced."
    this.prior = {
      cwnd: this.cwnd,
      ssthresh: this.ssthresh,
      wMax: this.wMaxBytes,
      k: this.kSeconds,
      epochStart: this.epochStart,
      cwndEpoch: this.cwndEpoch,
      wEst: this.wEst,
      cwndPrior: this.cwndPrior,
    };
    // §4.7 Fast Convergence: W_max = cwnd * (1 + β_cubic) / 2 if cwnd < W_max, else cwnd.
    this.wMaxBytes = this.cwnd < this.wMaxBytes ? (this.cwnd * (1 + CUBIC_BETA)) / 2 : this.cwnd;
    this.cwndPrior = this.cwnd;
    // §4.6: ssthresh = cwnd * β_cubic (at least 2 segments); cwnd = max(ssthresh, 2 segments).
    this.ssthresh = Math.max(this.cwnd * CUBIC_BETA, minimumWindow(this.maxDatagramSize));
    this.cwnd = this.ssthresh;
    this.epochStart = null; // a new congestion avoidance stage begins after recovery
    return true;
  }

  onPersistentCongestion(): void {
    const min = minimumWindow(this.maxDatagramSize);
    if (this.ssthresh === Infinity) this.ssthresh = Math.max(this.cwnd * CUBIC_BETA, min);
    this.cwnd = min;
    this.recoveryStart = null;
    this.recovering = false;
    // §4.8 (timeout): in the next congestion avoidance stage "K is set to 0, and
    // W_max is set to the congestion window size at the beginning of the current
    // congestion avoidance stage"; W_max = 0 makes startEpoch do exactly that.
    this.wMaxBytes = 0;
    this.epochStart = null;
    this.prior = null;
  }

  /**
   * §4.9: "Once a spurious congestion event is detected, CUBIC SHOULD
   * restore the original values of above-mentioned variables [...] if the
   * current cwnd is lower than prior_cwnd"; "when the detection happens
   * long after a spurious loss event and the current cwnd is already higher
   * than prior_cwnd, CUBIC SHOULD continue to use the current and the most
   * recent values of these variables."
   */
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
    this.wMaxBytes = prior.wMax;
    this.kSeconds = prior.k;
    this.epochStart = prior.epochStart;
    this.cwndEpoch = prior.cwndEpoch;
    this.wEst = prior.wEst;
    this.cwndPrior = prior.cwndPrior;
  }

  reset(): void {
    this.cwnd = initialWindow(this.maxDatagramSize);
    this.ssthresh = Infinity;
    this.recoveryStart = null;
    this.recovering = false;
    this.wMaxBytes = 0;
    this.kSeconds = 0;
    this.epochStart = null;
    this.cwndEpoch = 0;
    this.wEst = 0;
    this.cwndPrior = 0;
    this.lastAckTime = null;
    this.lastSentTime = null;
    this.prior = null;
  }

  /** Nothing to release: not coupled. */
  dispose(): void {}

  /** Begins a congestion avoidance epoch at `now`. */
  private startEpoch(now: number): void {
    this.epochStart = now;
    this.cwndEpoch = this.cwnd;
    // §4.3: "W_est is set equal to cwnd_epoch at the start of the congestion avoidance stage."
    this.wEst = this.cwnd;
    if (this.wMaxBytes > this.cwnd) {
      this.kSeconds = cubicK(this.wMaxBytes, this.cwndEpoch, this.maxDatagramSize);
    } else {
      this.kSeconds = 0;
      this.wMaxBytes = this.cwnd;
    }
  }
}
