/**
 * BBR, a model-based congestion controller for one path, after BBRv3 as
 * specified in draft-ietf-ccwg-bbr ("BBR Congestion Control"). The draft's
 * names are kept (BBR.x → this.x in camelCase, its functions as methods) so
 * the code can be read beside it; its parameters are in bbr-params.ts.
 * Units: bytes, milliseconds, bytes per millisecond.
 *
 * The model: max_bw (windowed max of delivery-rate samples over two ProbeBW
 * cycles), min_rtt (10 s min filter refreshed by ProbeRTT every 5 s), and the
 * long- and short-term bounds from loss (inflight_longterm, bw_shortterm,
 * inflight_shortterm). The state machine: Startup → Drain → ProbeBW
 * (DOWN → CRUISE → REFILL → UP → DOWN …), with ProbeRTT from any state.
 * Control: a pacing rate (which drives the path's pacer) and a congestion
 * window (which bounds bytes in flight).
 *
 * Where it departs from the draft (docs/protocol.md, "Congestion control",
 * gives the measurements behind each):
 *  - Random loss is not congestion: a round adapts the short-term model, and
 *    a flight counts as "inflight too high", only when its loss exceeds
 *    BBR.LossThresh (2 %) by more than chance (`lossAboveThreshold`).
 *    `lossTolerant: false` restores the draft's response to any lossy round.
 *  - Competing at a shared bottleneck (`competing`, told by the connection's
 *    shared-bottleneck detection): window gain 1 (one BDP) without the ACK
 *    aggregation allowance, and every lossy round counts.
 *  - ProbeRTT only when needed: a sample within MIN_RTT_MARGIN of min_rtt
 *    refreshes its schedule (as picoquic does).
 *  - Startup's loss exit counts discontiguous lost ranges per round from
 *    packet numbers (QUIC has selective ACKs: C.has_selective_acks = true).
 *
 * The controller learns from the path's DeliveryRateEstimator
 * (delivery-rate.ts) through `onAckSample` and `onPacketLost`; the window
 * controllers' per-packet `onAck` only ends a recovery episode here.
 *
 * This file holds the CongestionController interface and the state
 * machine; the model's fields and estimators, the bounds loss sets, and
 * the pacing rate and window computed from them are in bbr-model.ts.
 */
import type { CongestionController } from '../path/congestion.js';
import type { RttEstimator } from '../path/rtt.js';
import type { DeliveryRateEstimator, PacketDeliveryState, RateSample } from './delivery-rate.js';
import {
  BETA,
  DEFAULT_CWND_GAIN,
  DRAIN_PACING_GAIN,
  FULL_BW_GROWTH,
  FULL_BW_ROUNDS,
  isProbeBw,
  MIN_RTT_FILTER_LEN,
  MIN_RTT_MARGIN,
  PROBE_DOWN_PACING_GAIN,
  PROBE_RTT_CWND_GAIN,
  PROBE_RTT_DURATION,
  PROBE_RTT_INTERVAL,
  PROBE_UP_CWND_GAIN,
  PROBE_UP_PACING_GAIN,
  RENO_PROBE_ROUND_LIMIT,
  STARTUP_FULL_LOSS_COUNT,
  STARTUP_PACING_GAIN,
} from './bbr-params.js';
import { BbrModel } from './bbr-model.js';

export * from './bbr-params.js';
export type { BbrOptions } from './bbr-model.js';

export class Bbr extends BbrModel implements CongestionController {
  // ---- CongestionController ----

  onPacketSent(bytes: number, now: number, bytesInFlight?: number, delivery?: DeliveryRateEstimator): void {
    const inflight = bytesInFlight ?? bytes;
    // HandleRestartFromIdle(): "if (C.inflight == 0 && C.app_limited)" before the send.
    if (inflight - bytes <= 0 && delivery !== undefined && delivery.appLimitedUntil !== 0) {
      this.idleRestart = true;
      this.extraAckedIntervalStart = now;
      // The draft moves only the interval's start; Linux's tcp_bbr.c also
      // zeroes the bytes counted in it (ack_epoch_acked). Without that, a
      // path that idles between small writes keeps its old count against an
      // interval a few ms long, extra_acked climbs by every ACK, and so does
      // the window (seconds of app-limited traffic grew it to 130 kB on a
      // 5 kB BDP, hiding a dead path behind a window it never filled).
      this.extraAckedDelivered = 0;
      if (isProbeBw(this.state)) this.setPacingRateWithGain(1);
      else if (this.state === 'probe-rtt') this.checkProbeRttDone(now);
    }
    if (inflight + this.maxDatagramSize > this.cwnd) this.cwndLimitedThisRound = true;
  }

  /** Per-packet ACKs carry nothing BBR needs: it works on the ACK's rate sample. */
  onAck(_bytes: number, timeSent: number, _now: number, _rtt: RttEstimator, _bytesInFlight: number): void {
    // Loss recovery ends when a packet sent after it began is acknowledged.
    if (this.recoveryStart !== null && timeSent > this.recoveryStart) {
      this.recoveryStart = null;
      this.restoreCwnd();
    }
  }

  /**
   * A loss starts a recovery episode (once per episode): "Upon entering Fast
   * Recovery: SaveCwnd() SaveStateUponLoss()". The window is not cut here;
   * the model's bounds react to loss (onPacketLost, the loss rounds).
   */
  onCongestionEvent(timeSentOfLost: number, now: number): boolean {
    if (this.recoveryStart !== null && timeSentOfLost <= this.recoveryStart) return false;
    this.saveCwnd();
    this.undoBounds = { bwShortterm: this.bwShortterm, inflightShortterm: this.inflightShortterm, inflightLongterm: this.inflightLongterm };
    this.startupExitOnLoss = false;
    this.recoveryStart = now;
    return true;
  }

  /**
   * Every loss of the episode begun at the last congestion event proved
   * spurious (cc/congestion-undo.ts): reordering, not congestion. BBR cuts
   * no window on a loss event, but the losses moved its model: the
   * short-term bounds (a lossy round), inflight_longterm (a loss while
   * probing), and Startup's exit on high loss. As Linux's BBRv2/v3 undo
   * does, each bound goes back to at least what it was when the episode
   * began, the loss round's count is dropped, and full-bandwidth detection
   * starts again (BBRv1's undo: "spurious slow-down; reset full pipe
   * detection"). A Startup that the episode's losses ended is resumed.
   */
  undoCongestionEvent(): void {
    const saved = this.undoBounds;
    this.undoBounds = null;
    if (saved === null) return;
    this.bwShortterm = Math.max(this.bwShortterm, saved.bwShortterm);
    this.inflightShortterm = Math.max(this.inflightShortterm, saved.inflightShortterm);
    this.inflightLongterm = Math.max(this.inflightLongterm, saved.inflightLongterm);
    this.boundBwForModel();
    this.isLossInRound = false;
    this.lostInRound = 0;
    this.lossRangesInRound = 0;
    this.resetFullBw();
    if (this.startupExitOnLoss && this.state !== 'startup' && this.state !== 'probe-rtt') {
      this.fullBwReached = false;
      this.enterStartup();
    }
    this.startupExitOnLoss = false;
    this.recoveryStart = null;
    this.restoreCwnd();
  }

  /**
   * Persistent congestion (RFC 9002 §7.6.2) is the QUIC form of an RTO:
   * "Upon retransmission timeout (RTO): [...] C.cwnd = C.inflight + 1", here
   * the smallest pipelining window.
   */
  onPersistentCongestion(): void {
    this.saveCwnd();
    this.cwnd = this.minPipeCwnd;
    this.undoBounds = null;
  }

  /**
   * Another path failed over to this one: the next ProbeRTT is put off by
   * one interval. ProbeRTT halves the window for 200 ms and a round trip,
   * to refresh min_rtt; right after a failover this path is the
   * connection's only capacity, and a loaded host (whose samples never
   * come near min_rtt to refresh it) had it fall 5 s after the first
   * sample, in `npm start` just after ISP A failed.
   */
  onTakeover(now: number): void {
    if (this.state === 'probe-rtt' || !Number.isFinite(this.probeRttMinDelay)) return;
    if (now > this.probeRttMinStamp) this.probeRttMinStamp = now;
    this.takeovers++;
  }

  /** The path failed or closed: a fresh controller, in Startup. */
  reset(): void {
    const fresh = new Bbr(this.maxDatagramSize, { lossTolerant: this.lossTolerant, random: this.random });
    Object.assign(this, fresh);
  }

  dispose(): void {}

  /**
   * A packet was declared lost ("HandleLostPacket(P)"). `delivery` has
   * already counted it in C.lost.
   */
  onPacketLost(p: PacketDeliveryState, delivery: DeliveryRateEstimator, now: number): void {
    if (now > this.now) this.now = now;
    // NoteLoss()
    if (!this.isLossInRound) this.lossRoundDelivered = delivery.delivered;
    this.isLossInRound = true;
    this.lostInRound += p.size;
    if (p.packetNumber !== this.lastLostPn + 1) this.lossRangesInRound++;
    this.lastLostPn = p.packetNumber;
    if (!this.isBwProbeSample) return; // "not a packet sent while probing bandwidth"
    const txInFlight = p.txInFlight;
    const lost = delivery.lost - p.lostBefore;
    if (this.isInflightTooHigh(lost, txInFlight)) {
      this.handleInflightTooHigh(this.inflightAtLoss(p.size, txInFlight, lost), p.appLimited);
    }
  }

  /**
   * One ACK ("UpdateOnACK()"): the model and the state machine, then the
   * control parameters. `bytesInFlight` is C.inflight after the ACK.
   */
  onAckSample(rs: RateSample, delivery: DeliveryRateEstimator, rtt: RttEstimator, bytesInFlight: number, now: number): void {
    if (!rs.hasData) return;
    this.now = now;
    this.delivered = rs.totalDelivered;
    if (this.pacing === 0 && rtt.hasSample) this.initPacingRate(rtt.smoothed);
    // UpdateModelAndState()
    this.updateLatestDeliverySignals(rs);
    this.updateCongestionSignals(rs, rtt);
    this.updateAckAggregation(rs, now);
    this.checkFullBwReached(rs);
    this.checkStartupDone();
    this.checkDrainDone(bytesInFlight);
    this.updateProbeBwCyclePhase(rs, bytesInFlight, now);
    this.updateMinRtt(rs, now);
    this.checkProbeRtt(rs, delivery, bytesInFlight, now);
    this.advanceLatestDeliverySignals(rs);
    this.boundBwForModel();
    // UpdateControlParameters()
    this.setPacingRateWithGain(this.pacingGain);
    this.setCwnd(rs);
  }

  // ---- Startup and Drain ----

  /** CheckFullBWReached(): a plateau of three rounds without 25 % growth. */
  private checkFullBwReached(rs: RateSample): void {
    if (this.fullBwNow || !this.roundStart || rs.isAppLimited) return;
    if (rs.deliveryRate >= this.fullBw * FULL_BW_GROWTH) {
      this.resetFullBw();
      this.fullBw = rs.deliveryRate;
      return;
    }
    this.fullBwCount++;
    this.fullBwNow = this.fullBwCount >= FULL_BW_ROUNDS;
    if (this.fullBwNow) this.fullBwReached = true;
  }

  /**
   * CheckStartupHighLoss(), at the end of a loss round: in recovery, a loss
   * rate above LOSS_THRESH and at least STARTUP_FULL_LOSS_COUNT lost ranges.
   */
  protected checkStartupHighLoss(rs: RateSample): void {
    if (this.state !== 'startup' || !this.isLossInRound || this.recoveryStart === null) return;
    if (this.lossRangesInRound < STARTUP_FULL_LOSS_COUNT || !this.roundLossTooHigh(rs)) return;
    this.fullBwReached = true;
    this.startupExitOnLoss = true;
    this.inflightLongterm = Math.max(this.bdpMultiple(1), this.inflightLatest);
  }

  /** CheckStartupDone(). */
  private checkStartupDone(): void {
    if (this.state === 'startup' && this.fullBwReached) this.enterDrain();
  }

  private enterStartup(): void {
    this.setState('startup');
    this.pacingGain = STARTUP_PACING_GAIN;
    this.cwndGain = DEFAULT_CWND_GAIN;
  }

  private enterDrain(): void {
    this.setState('drain');
    this.pacingGain = DRAIN_PACING_GAIN;
    this.cwndGain = DEFAULT_CWND_GAIN;
    this.drainStartRound = this.roundCount;
  }

  /** CheckDrainDone(): the queue is drained, or three rounds passed. */
  private checkDrainDone(inflight: number): void {
    if (this.state === 'drain' && (inflight <= this.inflight(1) || this.roundCount > this.drainStartRound + 3)) {
      this.enterProbeBw();
    }
  }

  // ---- ProbeBW ----

  private enterProbeBw(): void {
    this.cwndGain = DEFAULT_CWND_GAIN;
    this.startProbeBwDown();
  }

  private startProbeBwDown(): void {
    this.resetCongestionSignals();
    this.probeUpAckedPerInc = Infinity;
    this.pickProbeWait();
    this.cycleStamp = this.now;
    this.ackPhase = 'probe-stopping';
    this.startRound(this.delivered);
    this.setState('probe-bw-down');
    this.pacingGain = PROBE_DOWN_PACING_GAIN;
    this.cwndGain = DEFAULT_CWND_GAIN;
  }

  private startProbeBwCruise(): void {
    this.setState('probe-bw-cruise');
    this.pacingGain = 1;
    this.cwndGain = DEFAULT_CWND_GAIN;
  }

  private startProbeBwRefill(): void {
    this.resetShortTermModel();
    this.bwProbeUpRounds = 0;
    this.bwProbeUpAcked = 0;
    this.prevProbePrecautionary = false;
    this.ackPhase = 'refilling';
    this.startRound(this.delivered);
    this.setState('probe-bw-refill');
    this.pacingGain = 1;
    this.cwndGain = DEFAULT_CWND_GAIN;
  }

  private startProbeBwUp(rs: RateSample): void {
    this.ackPhase = 'probe-starting';
    this.startRound(this.delivered);
    this.resetFullBw();
    this.fullBw = rs.deliveryRate;
    this.setState('probe-bw-up');
    this.pacingGain = PROBE_UP_PACING_GAIN;
    this.cwndGain = PROBE_UP_CWND_GAIN;
    this.raiseInflightLongtermSlope();
  }

  /** UpdateProbeBWCyclePhase(): the core of ProbeBW, on every ACK of new data. */
  private updateProbeBwCyclePhase(rs: RateSample, inflight: number, now: number): void {
    if (!this.fullBwReached) return;
    if (this.adaptLongTermModel(rs)) return;
    switch (this.state) {
      case 'probe-bw-down':
        if (this.isTimeToProbeBw(now)) return;
        if (this.isTimeToCruise(inflight)) this.startProbeBwCruise();
        return;
      case 'probe-bw-cruise':
        this.isTimeToProbeBw(now);
        return;
      case 'probe-bw-refill':
        // "After one round of REFILL, start UP"
        if (this.roundStart) {
          this.isBwProbeSample = true;
          this.startProbeBwUp(rs);
        }
        return;
      case 'probe-bw-up':
        if (this.isTimeToGoDown(rs, inflight)) {
          this.prevProbeTooHigh = false; // "no high loss (yet)"
          this.startProbeBwDown();
        }
        return;
      default:
        return;
    }
  }

  /** AdaptLongTermModel(); true when it decided a state transition. */
  private adaptLongTermModel(rs: RateSample): boolean {
    if (this.ackPhase === 'probe-starting' && this.roundStart) this.ackPhase = 'probe-feedback';
    if (this.ackPhase === 'probe-stopping' && this.roundStart) {
      // "end of samples from bw probing phase"
      this.isBwProbeSample = false;
      this.ackPhase = 'init';
      if (isProbeBw(this.state) && !rs.isAppLimited) this.advanceMaxBwFilter();
      // "Precautionary Bandwidth Probing: Acceleration"
      if (isProbeBw(this.state) && this.prevProbePrecautionary && !this.prevProbeTooHigh) {
        this.startProbeBwRefill();
        return true;
      }
    }
    if (!this.isInflightTooHigh(rs.lost, rs.txInFlight)) {
      // "Loss rate is safe. Adjust upper bounds upward."
      if (this.inflightLongterm === Infinity) return false;
      if (rs.txInFlight > this.inflightLongterm) this.inflightLongterm = rs.txInFlight;
      if (this.state === 'probe-bw-up') this.probeInflightLongtermUpward(rs);
    }
    return false;
  }

  /** IsTimeToProbeBW(): DOWN or CRUISE → REFILL. */
  private isTimeToProbeBw(now: number): boolean {
    if (this.hasElapsedInPhase(this.bwProbeWait, now) || this.isRenoCoexistenceProbeTime()) {
      this.startProbeBwRefill();
      return true;
    }
    return false;
  }

  /** PickProbeWait(): 0–1 rounds and 2–3 s, at random. */
  private pickProbeWait(): void {
    this.roundsSinceProbeUp = this.random(2);
    this.bwProbeWait = 2000 + this.random(1001);
  }

  /** IsRenoCoexistenceProbeTime(): rounds = min(TargetInflight() in packets, 63). */
  private isRenoCoexistenceProbeTime(): boolean {
    const renoRounds = this.targetInflight() / this.maxDatagramSize;
    return this.roundsSinceProbeUp >= Math.min(renoRounds, RENO_PROBE_ROUND_LIMIT);
  }

  /** IsTimeToCruise(): DOWN → CRUISE once there is headroom and no queue. */
  private isTimeToCruise(inflight: number): boolean {
    if (inflight > this.inflightWithHeadroom()) return false;
    if (inflight > this.inflight(1, this.maxBw)) return false;
    return true;
  }

  /** IsTimeToGoDown(): UP → DOWN. */
  private isTimeToGoDown(rs: RateSample, inflight: number): boolean {
    // "Precautionary Bandwidth Probing: Deceleration"
    if (this.prevProbeTooHigh && inflight >= this.inflightLongterm) {
      this.prevProbePrecautionary = true;
      return true;
    }
    if (this.isCwndLimited && this.cwnd >= this.inflightLongterm) {
      this.resetFullBw(); // "bw is limited by BBR.inflight_longterm"
      this.fullBw = rs.deliveryRate;
    } else if (this.fullBwNow) {
      return true; // "we estimate we've fully used path bw"
    }
    return false;
  }

  private hasElapsedInPhase(interval: number, now: number): boolean {
    return now > this.cycleStamp + interval;
  }

  /** HandleInflightTooHigh(): the probe went too high; remember where, and go down. */
  private handleInflightTooHigh(txInFlight: number, appLimited: boolean): void {
    this.prevProbeTooHigh = true;
    this.isBwProbeSample = false; // "only react once per bw probe"
    if (!appLimited) this.inflightLongterm = Math.max(txInFlight, this.targetInflight() * BETA);
    if (this.state === 'probe-bw-up') this.startProbeBwDown();
  }

  // ---- ProbeRTT ----

  /**
   * UpdateMinRTT(), with one addition (as picoquic does): a sample within
   * MIN_RTT_MARGIN of min_rtt (or two packet times at max_bw) shows the
   * queue drained now, and refreshes the ProbeRTT schedule as a lower sample
   * would. A path that keeps its queue empty then never halves its window
   * for ProbeRTT; one behind a standing queue (loss-based cross traffic)
   * still probes every 5 s.
   */
  private updateMinRtt(rs: RateSample, now: number): void {
    // BBROnInit(): "BBR.min_rtt_stamp = Now() [...] BBR.probe_rtt_min_stamp
    // = Now()". A controller without a clock learns Now() from its first
    // sample, also after reset() (a path back from failure), which would
    // otherwise find a ProbeRTT long overdue and halve the fresh window.
    if (!Number.isFinite(this.probeRttMinDelay)) {
      this.probeRttMinStamp = now;
      this.minRttStamp = now;
    }
    this.probeRttExpired = now > this.probeRttMinStamp + PROBE_RTT_INTERVAL;
    if (rs.rtt >= 0 && (rs.rtt < this.probeRttMinDelay || this.probeRttExpired)) {
      this.probeRttMinDelay = rs.rtt;
      this.probeRttMinStamp = now;
    } else if (rs.rtt >= 0 && Number.isFinite(this.minRtt) && rs.rtt <= this.minRtt + this.minRttMargin()) {
      this.probeRttMinStamp = now;
      this.minRttStamp = now;
    }
    const minRttExpired = now > this.minRttStamp + MIN_RTT_FILTER_LEN;
    if (this.probeRttMinDelay < this.minRtt || minRttExpired) {
      this.minRtt = this.probeRttMinDelay;
      this.minRttStamp = this.probeRttMinStamp;
    }
  }

  /** How far above min_rtt a sample still counts as "no queue": 5 % of it, or two packets at max_bw. */
  private minRttMargin(): number {
    const packets = this.maxBw > 0 ? (2 * this.maxDatagramSize) / this.maxBw : 0;
    return Math.max(MIN_RTT_MARGIN * this.minRtt, packets);
  }

  /** CheckProbeRTT(). */
  private checkProbeRtt(rs: RateSample, delivery: DeliveryRateEstimator, inflight: number, now: number): void {
    if (this.state !== 'probe-rtt' && this.probeRttExpired && !this.idleRestart) {
      this.setState('probe-rtt');
      this.pacingGain = 1;
      this.cwndGain = PROBE_RTT_CWND_GAIN;
      this.saveCwnd();
      this.probeRttDoneStamp = 0;
      this.ackPhase = 'probe-stopping';
      this.startRound(rs.totalDelivered);
    }
    if (this.state === 'probe-rtt') this.handleProbeRtt(delivery, inflight, now);
    if (rs.delivered > 0) this.idleRestart = false;
  }

  /** HandleProbeRTT(). */
  private handleProbeRtt(delivery: DeliveryRateEstimator, inflight: number, now: number): void {
    // "Ignore low rate samples during ProbeRTT"
    delivery.markAppLimited(inflight);
    if (this.probeRttDoneStamp === 0 && inflight <= this.probeRttCwnd()) {
      this.probeRttDoneStamp = now + PROBE_RTT_DURATION;
      this.probeRttRoundDone = false;
      this.startRound(delivery.delivered);
    } else if (this.probeRttDoneStamp !== 0) {
      if (this.roundStart) this.probeRttRoundDone = true;
      if (this.probeRttRoundDone) this.checkProbeRttDone(now);
    }
  }

  /** CheckProbeRTTDone(). */
  private checkProbeRttDone(now: number): void {
    if (this.probeRttDoneStamp !== 0 && now > this.probeRttDoneStamp) {
      this.probeRttMinStamp = now; // "schedule next ProbeRTT"
      this.restoreCwnd();
      this.exitProbeRtt();
    }
  }

  /** ExitProbeRTT(): back to ProbeBW (via DOWN, straight to CRUISE) or Startup. */
  private exitProbeRtt(): void {
    this.resetShortTermModel();
    if (this.fullBwReached) {
      this.startProbeBwDown();
      this.startProbeBwCruise();
    } else {
      this.enterStartup();
    }
  }
}
