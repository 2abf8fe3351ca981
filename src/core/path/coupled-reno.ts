/**
 * The Reno skeleton shared by the coupled controllers (LIA, OLIA): slow
 * start, recovery periods, multiplicative decrease and persistent
 * congestion exactly as NewReno (RFC 9002 §7, Appendix B); only the
 * congestion-avoidance increase differs, and a subclass supplies it.
 *
 * RFC 6356 §3: "The algorithm we present only applies to the increase phase
 * of the congestion avoidance state specifying how the window inflates upon
 * receiving an ACK. The slow start, fast retransmit, and fast recovery
 * algorithms, as well as the multiplicative decrease of the congestion
 * avoidance state are the same as in standard TCP [RFC5681]."
 *
 * Group membership: the constructor joins `group`; `dispose()` leaves it
 * for good; `reset()` (a failed or closed path, see recovery.ts failPath)
 * takes the path out of the coupled sums until its next acknowledgement.
 */
import type { CongestionController, CongestionControllerName } from './congestion.js';
import type { CoupledGroup, CoupledMember } from './coupled-group.js';
import { initialWindow, isAppLimited, K_LOSS_REDUCTION_FACTOR, minimumWindow } from './new-reno.js';
import type { RttEstimator } from './rtt.js';

export abstract class CoupledReno implements CongestionController, CoupledMember {
  /** Algorithm name. */
  abstract readonly name: CongestionControllerName;
  /** Maximum datagram size (MSS_i), bytes. */
  readonly maxDatagramSize: number;
  /** The connection's coupled paths (this one included). */
  readonly group: CoupledGroup;
  /** Congestion window, bytes (fractional: increases are often < 1 byte). */
  protected cwnd: number;
  /** Slow start threshold, bytes; Infinity until the first congestion event. */
  protected ssthresh = Infinity;
  /** congestion_recovery_start_time, or null. */
  private recoveryStart: number | null = null;
  /** True from a congestion event until a packet sent after it is acknowledged. */
  private recovering = false;
  /** Smoothed RTT at the last ACK, ms (0 = no sample yet, or reset since). */
  private srtt = 0;
  /** The state before the latest reduction, until it is undone or can no longer be (undoCongestionEvent). */
  private prior: { cwnd: number; ssthresh: number } | null = null;

  constructor(maxDatagramSize: number, group: CoupledGroup) {
    this.maxDatagramSize = maxDatagramSize;
    this.cwnd = initialWindow(maxDatagramSize);
    this.group = group;
    group.join(this);
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

  /** CoupledMember: window in bytes. */
  get cwndBytes(): number {
    return this.cwnd;
  }

  /** CoupledMember: smoothed RTT, ms. */
  get srttMs(): number {
    return this.srtt;
  }

  /** CoupledMember: counted in the group's sums. */
  get coupled(): boolean {
    return this.srtt > 0;
  }

  onPacketSent(_bytes: number, _now: number): void {
    // Nothing at send time: bytes in flight live in SentPackets.
  }

  onAck(bytes: number, timeSent: number, _now: number, rtt: RttEstimator, bytesInFlight: number): void {
    // Every path's RTT feeds alpha, even while this one cannot grow.
    this.srtt = Math.max(rtt.smoothed, 1e-3);
    // RFC 9002 Appendix B.5: "Do not increase congestion window in recovery period."
    if (this.recoveryStart !== null && timeSent <= this.recoveryStart) return;
    this.recovering = false;
    if (isAppLimited(bytesInFlight, this.cwnd)) return;
    if (this.cwnd < this.ssthresh) {
      // RFC 9002 §7.3.1: slow start grows by the bytes acknowledged.
      this.cwnd += bytes;
      return;
    }
    this.cwnd += this.increase(bytes);
    const min = minimumWindow(this.maxDatagramSize);
    if (this.cwnd < min) this.cwnd = min;
  }

  /** Congestion-avoidance change of the window for `bytesAcked` newly acknowledged bytes. */
  protected abstract increase(bytesAcked: number): number;

  /** A loss started a recovery period (hook for OLIA's inter-loss counters). */
  protected onLossEpoch(): void {}

  onCongestionEvent(timeSentOfLost: number, now: number): boolean {
    // Appendix B.6: "No reaction if already in a recovery period."
    if (this.recoveryStart !== null && timeSentOfLost <= this.recoveryStart) return false;
    this.recoveryStart = now;
    this.recovering = true;
    this.prior = { cwnd: this.cwnd, ssthresh: this.ssthresh };
    // §7.3.2: ssthresh = half the window (Reno's multiplicative decrease).
    this.ssthresh = this.cwnd * K_LOSS_REDUCTION_FACTOR;
    this.cwnd = Math.max(this.ssthresh, minimumWindow(this.maxDatagramSize));
    this.onLossEpoch();
    return true;
  }

  onPersistentCongestion(): void {
    // §7.6.2: window to kMinimumWindow; B.8 clears the recovery start.
    this.cwnd = minimumWindow(this.maxDatagramSize);
    this.recoveryStart = null;
    this.recovering = false;
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
  }

  /** Back to the initial window and slow start; out of the coupled sums until the next ACK. */
  reset(): void {
    this.cwnd = initialWindow(this.maxDatagramSize);
    this.ssthresh = Infinity;
    this.recoveryStart = null;
    this.recovering = false;
    this.prior = null;
    this.srtt = 0;
  }

  /** Leaves the group for good (the path is gone). Idempotent. */
  dispose(): void {
    this.srtt = 0;
    this.group.leave(this);
  }
}
