/**
 * BBR's model and control parameters, after draft-ietf-ccwg-bbr: the base
 * of the controller in bbr.ts, which holds the state machine (Startup,
 * Drain, ProbeBW, ProbeRTT) and the CongestionController interface. Here:
 * the fields, named after the draft's BBR.x and C.x; round counting and the
 * max_bw filter; the loss signals and the short- and long-term bounds they
 * set; ACK aggregation; and the pacing rate and window computed from the
 * model. bbr.ts's file comment says where the controller departs from the
 * draft. Units: bytes, milliseconds, bytes per millisecond.
 */
import type { RandomInt } from '../path/congestion.js';
import { initialWindow } from '../path/new-reno.js';
import type { RttEstimator } from '../path/rtt.js';
import type { RateSample } from './delivery-rate.js';
import { WindowedMax } from './windowed-max.js';
import {
  BETA,
  DEFAULT_CWND_GAIN,
  EXTRA_ACKED_FILTER_LEN,
  HEADROOM,
  isProbeBw,
  LOSS_NOISE_SIGMAS,
  LOSS_THRESH,
  MAX_BW_FILTER_LEN,
  PACING_MARGIN,
  PROBE_RTT_CWND_GAIN,
  STANDING_QUEUE_CWND_GAIN,
  STARTUP_PACING_GAIN,
  type AckPhase,
  type BbrState,
} from './bbr-params.js';

export interface BbrOptions {
  /** Adapt the short-term model only on rounds losing more than LOSS_THRESH (default true; see bbr.ts's file comment). */
  lossTolerant?: boolean;
  /** Random integers for the probe timing (an injected source; a fixed sequence when omitted). */
  random?: RandomInt;
}

export abstract class BbrModel {
  readonly name = 'bbr' as const;
  /** C.SMSS, bytes. */
  readonly maxDatagramSize: number;
  /** See BbrOptions. */
  readonly lossTolerant: boolean;
  protected readonly random: RandomInt;

  // ---- control parameters ----
  /** C.cwnd, bytes. */
  protected cwnd: number;
  /** C.pacing_rate, bytes per ms (0 until the first RTT sample). */
  protected pacing = 0;
  /** BBR.pacing_gain and BBR.cwnd_gain. */
  protected pacingGain = STARTUP_PACING_GAIN;
  protected cwndGain = DEFAULT_CWND_GAIN;
  /** BBR.prior_cwnd: the last-known good cwnd (SaveCwnd/RestoreCwnd). */
  protected priorCwnd = 0;

  // ---- state machine ----
  /** BBR.state. */
  state: BbrState = 'startup';
  /** BBR.round_count, BBR.round_start, BBR.next_round_delivered. */
  roundCount = 0;
  protected roundStart = false;
  protected nextRoundDelivered = 0;
  /** BBR.idle_restart. */
  protected idleRestart = false;
  /** BBR.drain_start_round. */
  protected drainStartRound = 0;

  // ---- model ----
  /** BBR.max_bw and its filter, over BBR.cycle_count. */
  maxBw = 0;
  protected readonly maxBwFilter = new WindowedMax(MAX_BW_FILTER_LEN);
  protected cycleCount = 0;
  /** BBR.bw_shortterm and BBR.bw = min(max_bw, bw_shortterm). */
  bwShortterm = Infinity;
  bw = 0;
  /** BBR.min_rtt and when it was taken, ms. */
  minRtt = Infinity;
  protected minRttStamp = 0;
  /** BBR.extra_acked and its estimator. */
  protected extraAcked = 0;
  protected readonly extraAckedFilter = new WindowedMax(EXTRA_ACKED_FILTER_LEN);
  protected extraAckedIntervalStart = 0;
  protected extraAckedDelivered = 0;
  /** BBR.inflight_longterm and BBR.inflight_shortterm, bytes. */
  inflightLongterm = Infinity;
  inflightShortterm = Infinity;
  /** BBR.bw_latest and BBR.inflight_latest: one-round maxima of the delivery process. */
  protected bwLatest = 0;
  protected inflightLatest = 0;
  /** Loss rounds: BBR.loss_round_delivered, BBR.loss_round_start, BBR.is_loss_in_round. */
  protected lossRoundDelivered = 0;
  protected lossRoundStart = false;
  protected isLossInRound = false;
  /** Bytes lost and delivered in the current loss round (the loss-rate bound). */
  protected lostInRound = 0;
  protected deliveredAtLossRound = 0;
  /** Discontiguous lost ranges in the current loss round, and the last lost packet number. */
  protected lossRangesInRound = 0;
  protected lastLostPn = -2;

  // ---- startup ----
  /** BBR.full_bw_reached, BBR.full_bw_now, BBR.full_bw, BBR.full_bw_count. */
  fullBwReached = false;
  protected fullBwNow = false;
  protected fullBw = 0;
  protected fullBwCount = 0;

  // ---- ProbeBW ----
  protected ackPhase: AckPhase = 'init';
  protected isBwProbeSample = false;
  protected bwProbeUpAcked = 0;
  protected probeUpAckedPerInc = Infinity;
  protected bwProbeUpRounds = 0;
  protected roundsSinceProbeUp = 0;
  /** BBR.bw_probe_wait and BBR.cycle_stamp, ms. */
  protected bwProbeWait = 0;
  protected cycleStamp = 0;
  protected prevProbeTooHigh = false;
  protected prevProbePrecautionary = false;

  // ---- ProbeRTT ----
  protected probeRttMinDelay = Infinity;
  protected probeRttMinStamp = 0;
  protected probeRttExpired = false;
  protected probeRttDoneStamp = 0;
  protected probeRttRoundDone = false;

  /** The latest ACK's time and C.delivered (transitions read them). */
  protected now = 0;
  protected delivered = 0;

  // ---- recovery and cwnd-limited tracking ----
  /** Start of the current loss recovery episode (ms), or null. */
  protected recoveryStart: number | null = null;
  /** The bounds when the current loss episode began, for undoCongestionEvent (Linux's undo_bw_lo, undo_inflight_lo, undo_inflight_hi). */
  protected undoBounds: { bwShortterm: number; inflightShortterm: number; inflightLongterm: number } | null = null;
  /** Startup ended on the current episode's losses (CheckStartupHighLoss). */
  protected startupExitOnLoss = false;
  /** C.is_cwnd_limited over the last round: this round's flag and the previous one's. */
  protected cwndLimitedThisRound = false;
  protected cwndLimitedLastRound = false;
  /** Failovers to this path that put off ProbeRTT (onTakeover). */
  takeovers = 0;
  /** Times each state was entered (stats and tests). */
  readonly entered: Record<BbrState, number> = {
    startup: 1,
    drain: 0,
    'probe-bw-down': 0,
    'probe-bw-cruise': 0,
    'probe-bw-refill': 0,
    'probe-bw-up': 0,
    'probe-rtt': 0,
  };

  constructor(maxDatagramSize: number, options: BbrOptions = {}) {
    this.maxDatagramSize = maxDatagramSize;
    this.lossTolerant = options.lossTolerant ?? true;
    this.random = options.random ?? fixedSequence();
    this.cwnd = initialWindow(maxDatagramSize);
  }

  // ---- the controller's outputs ----

  get window(): number {
    return Math.floor(this.cwnd);
  }

  /** Infinity while in Startup (the window still doubles per round), else the window. */
  get slowStartThreshold(): number {
    return this.state === 'startup' ? Infinity : this.window;
  }

  get inRecovery(): boolean {
    return this.recoveryStart !== null;
  }

  /** C.pacing_rate in bytes per ms; null before the first RTT sample (the pacer then uses the window). */
  get pacingRate(): number | null {
    return this.pacing > 0 ? this.pacing : null;
  }

  /** BBR.bdp = BBR.bw * BBR.min_rtt, bytes (0 without both). */
  get bdp(): number {
    return Number.isFinite(this.minRtt) ? this.bw * this.minRtt : 0;
  }

  /** The smallest window BBR uses: "BBR.MinPipeCwnd: [...] 4 * C.SMSS". */
  get minPipeCwnd(): number {
    return 4 * this.maxDatagramSize;
  }

  // ---- rounds and the bandwidth model ----

  /** UpdateRound(): a round ends when a packet sent after its start is acknowledged. */
  protected updateRound(rs: RateSample): void {
    if (rs.priorDelivered >= this.nextRoundDelivered) {
      this.startRound(rs.totalDelivered);
      this.roundCount++;
      this.roundsSinceProbeUp++;
      this.roundStart = true;
      this.cwndLimitedLastRound = this.cwndLimitedThisRound;
      this.cwndLimitedThisRound = false;
    } else {
      this.roundStart = false;
    }
  }

  /** StartRound(): the current C.delivered marks the end of the round. */
  protected startRound(delivered: number): void {
    this.nextRoundDelivered = delivered;
  }

  /** C.is_cwnd_limited: the window was fully used at some point in the last round. */
  protected get isCwndLimited(): boolean {
    return this.cwndLimitedThisRound || this.cwndLimitedLastRound;
  }

  /** UpdateMaxBw(): app-limited samples count only when they raise the estimate. */
  protected updateMaxBw(rs: RateSample): void {
    this.updateRound(rs);
    if (rs.deliveryRate > 0 && (rs.deliveryRate >= this.maxBw || !rs.isAppLimited)) {
      this.maxBw = this.maxBwFilter.update(rs.deliveryRate, this.cycleCount);
    }
  }

  /** UpdateLatestDeliverySignals(), near the start of ACK processing. */
  protected updateLatestDeliverySignals(rs: RateSample): void {
    this.lossRoundStart = false;
    this.bwLatest = Math.max(this.bwLatest, rs.deliveryRate);
    this.inflightLatest = Math.max(this.inflightLatest, rs.delivered);
    if (rs.priorDelivered >= this.lossRoundDelivered) {
      this.lossRoundDelivered = rs.totalDelivered;
      this.lossRoundStart = true;
    }
  }

  /** AdvanceLatestDeliverySignals(), near the end of ACK processing. */
  protected advanceLatestDeliverySignals(rs: RateSample): void {
    if (this.lossRoundStart) {
      this.bwLatest = rs.deliveryRate;
      this.inflightLatest = rs.delivered;
    }
  }

  /** AdvanceMaxBwFilter(): one ProbeBW cycle of virtual time. */
  protected advanceMaxBwFilter(): void {
    this.cycleCount++;
    this.maxBw = this.maxBwFilter.best(this.cycleCount);
  }

  protected resetFullBw(): void {
    this.fullBw = 0;
    this.fullBwCount = 0;
    this.fullBwNow = false;
  }

  /** UpdateACKAggregation(): how much more the ACKs delivered than bw predicts (ACK thinning, aggregation). */
  protected updateAckAggregation(rs: RateSample, now: number): void {
    const interval = now - this.extraAckedIntervalStart;
    let expected = this.bw * interval;
    if (this.extraAckedDelivered <= expected) {
      this.extraAckedDelivered = 0;
      this.extraAckedIntervalStart = now;
      expected = 0;
    }
    this.extraAckedDelivered += rs.newlyAcked;
    const extra = Math.min(this.extraAckedDelivered - expected, this.cwnd);
    const len = this.fullBwReached ? EXTRA_ACKED_FILTER_LEN : 1;
    this.extraAcked = this.extraAckedFilter.update(extra, this.roundCount, len);
  }

  // ---- loss signals and the short-term model ----

  /** ResetCongestionSignals(). */
  protected resetCongestionSignals(): void {
    this.isLossInRound = false;
    this.bwLatest = 0;
    this.inflightLatest = 0;
  }

  /** UpdateCongestionSignals(): the bandwidth filter every ACK, the loss response once per round. */
  protected updateCongestionSignals(rs: RateSample, _rtt: RttEstimator): void {
    this.updateMaxBw(rs);
    if (!this.lossRoundStart) return; // "wait until end of round trip"
    this.checkStartupHighLoss(rs);
    this.adaptLowerBoundsFromCongestion(rs);
    this.isLossInRound = false;
    this.lostInRound = 0;
    this.lossRangesInRound = 0;
    this.deliveredAtLossRound = rs.totalDelivered;
  }

  /**
   * The path competes with buffer-filling traffic: the connection's
   * shared-bottleneck detection has put another path on standby behind this
   * one (`sharedBottleneckLead`), having seen a standing queue on both and
   * confirmed by pausing one that they share it. A standing queue is not
   * BBR's (it drains its own every cycle); it is a loss-based flow's. The
   * link is then busy whatever BBR keeps in flight, and a cwnd_gain of 2
   * only holds a BDP of BBR's data in that queue, out of the competitor's
   * reach (BBRv3 took 60–66 % against one Cubic flow at a one-BDP buffer in
   * the simulator). So while competing, the window's gain is capped at
   * STANDING_QUEUE_CWND_GAIN (one BDP) without the allowance for ACK aggregation (the
   * queue keeps the link busy through ACK gaps), and every lossy round
   * counts as congestion (the draft's own response; the loss-rate bound is
   * for noise on an empty path).
   *
   * The RTT alone is not evidence enough: on a loaded host, processing
   * delay inflates every sample as a standing queue would (measured in the
   * namespace lab), and a path that took it for one would throttle itself
   * and cut its rate on random loss.
   */
  get competing(): boolean {
    return this.fullBwReached && this.sharedBottleneckLead;
  }

  /** Set by the connection: another path stands by behind this one on a shared bottleneck with a standing queue. */
  sharedBottleneckLead = false;

  /** The loss round just ended is a congestion signal: it lost more than LOSS_THRESH by more than chance, or the path competes (`competing`). */
  protected roundCongested(rs: RateSample): boolean {
    return this.competing || this.roundLossTooHigh(rs);
  }

  /** The round just ended lost more than LOSS_THRESH of what it sent, beyond chance (see isInflightTooHigh). */
  protected roundLossTooHigh(rs: RateSample): boolean {
    const delivered = rs.totalDelivered - this.deliveredAtLossRound;
    return this.lossAboveThreshold(this.lostInRound, delivered + this.lostInRound);
  }

  /**
   * `lost` of `sent` bytes is more than LOSS_THRESH, by LOSS_NOISE_SIGMAS
   * standard deviations of its count; by any amount while the path
   * competes (`competing`: losses are then a full buffer's).
   */
  protected lossAboveThreshold(lost: number, sent: number): boolean {
    if (lost <= sent * LOSS_THRESH) return false;
    if (this.competing) return true;
    const expected = (LOSS_THRESH * sent) / this.maxDatagramSize;
    return lost / this.maxDatagramSize > expected + LOSS_NOISE_SIGMAS * Math.sqrt(expected);
  }

  /** AdaptLowerBoundsFromCongestion(): "Once per round trip respond to congestion". */
  protected adaptLowerBoundsFromCongestion(rs: RateSample): void {
    if (this.isProbingBw()) return;
    if (!this.isLossInRound) return;
    // The loss-rate bound (see the file comment): noise below the threshold is ignored.
    if (this.lossTolerant && !this.roundCongested(rs)) return;
    // InitLowerBounds()
    if (this.bwShortterm === Infinity) this.bwShortterm = this.maxBw;
    if (this.inflightShortterm === Infinity) this.inflightShortterm = this.cwnd;
    // LossLowerBounds()
    this.bwShortterm = Math.max(this.bwLatest, BETA * this.bwShortterm);
    this.inflightShortterm = Math.max(this.inflightLatest, BETA * this.inflightShortterm);
  }

  /** ResetShortTermModel(). */
  protected resetShortTermModel(): void {
    this.bwShortterm = Infinity;
    this.inflightShortterm = Infinity;
  }

  /** BoundBWForModel(): "BBR.bw = min(BBR.max_bw, BBR.bw_shortterm)". */
  protected boundBwForModel(): void {
    this.bw = Math.min(this.maxBw, this.bwShortterm);
  }

  protected isProbingBw(): boolean {
    return this.state === 'startup' || this.state === 'probe-bw-refill' || this.state === 'probe-bw-up';
  }

  // ---- the long-term model (inflight_longterm) ----

  /** TargetInflight(): "Our estimated BDP, unless congestion cut C.cwnd." */
  protected targetInflight(): number {
    return Math.min(this.bdp, this.cwnd);
  }

  /** InflightWithHeadroom(): inflight_longterm less 15 % for cross traffic. */
  protected inflightWithHeadroom(): number {
    if (this.inflightLongterm === Infinity) return Infinity;
    const headroom = Math.max(this.maxDatagramSize, HEADROOM * this.inflightLongterm);
    return Math.max(this.inflightLongterm - headroom, this.minPipeCwnd);
  }

  /** RaiseInflightLongtermSlope(): 1, 2, 4, … packets of growth per round. */
  protected raiseInflightLongtermSlope(): void {
    const growthThisRound = 2 ** this.bwProbeUpRounds;
    this.bwProbeUpRounds = Math.min(this.bwProbeUpRounds + 1, 30);
    this.probeUpAckedPerInc = Math.max(this.cwnd / growthThisRound, this.maxDatagramSize);
  }

  /** ProbeInflightLongtermUpward(). */
  protected probeInflightLongtermUpward(rs: RateSample): void {
    if (!this.isCwndLimited || this.cwnd < this.inflightLongterm) return;
    this.bwProbeUpAcked += rs.newlyAcked;
    if (this.bwProbeUpAcked >= this.probeUpAckedPerInc) {
      const delta = Math.floor(this.bwProbeUpAcked / this.probeUpAckedPerInc);
      this.bwProbeUpAcked -= delta * this.probeUpAckedPerInc;
      this.inflightLongterm += delta * this.maxDatagramSize;
    }
    if (this.roundStart) this.raiseInflightLongtermSlope();
  }

  /**
   * IsInflightTooHigh(): "(RS.lost > RS.tx_in_flight * BBR.LossThresh)",
   * with a margin for chance: a flight of n packets at a random loss rate
   * just below the threshold still loses more than 2 % of them now and then
   * (at 1 % random loss and 150 packets in flight, more than 3 about one
   * flight in fifteen), and each such flight would lower inflight_longterm to
   * about a BDP, where ProbeBW_CRUISE's headroom then holds the path at 85 %.
   * The loss must exceed the threshold's expected count λ = LossThresh × n by
   * LOSS_NOISE_SIGMAS standard deviations (√λ, Poisson): a full buffer's burst
   * does at once, noise below the threshold almost never.
   */
  protected isInflightTooHigh(lost: number, txInFlight: number): boolean {
    return this.lossAboveThreshold(lost, txInFlight);
  }

  /** InflightAtLoss(P): the inflight at which losses crossed LOSS_THRESH. */
  protected inflightAtLoss(size: number, txInFlight: number, lost: number): number {
    const inflightPrev = txInFlight - size;
    const lostPrev = lost - size;
    const lostPrefix = (LOSS_THRESH * inflightPrev - lostPrev) / (1 - LOSS_THRESH);
    return inflightPrev + lostPrefix;
  }

  // ---- control: the pacing rate and the window ----

  /** InitPacingRate(): StartupPacingGain × InitialCwnd / srtt. */
  protected initPacingRate(srtt: number): void {
    const nominal = initialWindow(this.maxDatagramSize) / Math.max(srtt, 1);
    this.pacing = STARTUP_PACING_GAIN * nominal;
  }

  /** SetPacingRateWithGain(): "rate = pacing_gain * bw * (100 - BBR.PacingMarginPercent) / 100". */
  protected setPacingRateWithGain(gain: number): void {
    const rate = gain * this.bw * (1 - PACING_MARGIN);
    if (this.fullBwReached || rate > this.pacing) this.pacing = rate;
  }

  /** C.send_quantum: 1 ms of the pacing rate, between 2 datagrams and 64 KB. */
  protected get sendQuantum(): number {
    return Math.min(Math.max(this.pacing * 1, 2 * this.maxDatagramSize), 64 * 1024);
  }

  /** BDPMultiple(gain). */
  protected bdpMultiple(gain: number, bw = this.bw): number {
    if (!Number.isFinite(this.minRtt)) return initialWindow(this.maxDatagramSize); // "no valid RTT samples yet"
    return gain * bw * this.minRtt;
  }

  /** QuantizationBudget(): room for a send quantum, MinPipeCwnd, and 2 packets more in UP. */
  protected quantizationBudget(cap: number): number {
    let c = Math.max(cap, this.sendQuantum, this.minPipeCwnd);
    if (this.state === 'probe-bw-up') c += 2 * this.maxDatagramSize;
    return c;
  }

  /** Inflight(gain): the BDP times `gain`, with the quantization budget. */
  protected inflight(gain: number, bw = this.bw): number {
    return this.quantizationBudget(this.bdpMultiple(gain, bw));
  }

  /** ProbeRTTCwnd(): half a BDP, at least MinPipeCwnd. */
  protected probeRttCwnd(): number {
    return Math.max(this.bdpMultiple(PROBE_RTT_CWND_GAIN), this.minPipeCwnd);
  }

  /** SetCwnd(): grow by what was acknowledged towards max_inflight, then the bounds. */
  protected setCwnd(rs: RateSample): void {
    // UpdateMaxInflight(), the gain capped while another flow's queue stands.
    const capped = this.competing && this.state !== 'probe-bw-up';
    const gain = capped ? Math.min(this.cwndGain, STANDING_QUEUE_CWND_GAIN) : this.cwndGain;
    const maxInflight = this.quantizationBudget(this.bdpMultiple(gain) + (capped ? 0 : this.extraAcked));
    if (this.fullBwReached) {
      this.cwnd = Math.min(this.cwnd + rs.newlyAcked, maxInflight);
    } else if (this.cwnd < maxInflight || rs.totalDelivered < initialWindow(this.maxDatagramSize)) {
      this.cwnd += rs.newlyAcked;
    }
    this.cwnd = Math.max(this.cwnd, this.minPipeCwnd);
    // BoundCwndForProbeRTT()
    if (this.state === 'probe-rtt') this.cwnd = Math.min(this.cwnd, this.probeRttCwnd());
    // BoundCwndForModel()
    let cap = Infinity;
    if (isProbeBw(this.state) && this.state !== 'probe-bw-cruise') cap = this.inflightLongterm;
    else if (this.state === 'probe-rtt' || this.state === 'probe-bw-cruise') cap = this.inflightWithHeadroom();
    cap = Math.min(cap, this.inflightShortterm);
    cap = Math.max(cap, this.minPipeCwnd);
    this.cwnd = Math.min(this.cwnd, cap);
  }

  /** SaveCwnd(): remember the last-known good window. */
  protected saveCwnd(): void {
    if (this.recoveryStart === null && this.state !== 'probe-rtt') this.priorCwnd = this.cwnd;
    else this.priorCwnd = Math.max(this.priorCwnd, this.cwnd);
  }

  /** RestoreCwnd(). */
  protected restoreCwnd(): void {
    this.cwnd = Math.max(this.cwnd, this.priorCwnd);
  }

  protected setState(state: BbrState): void {
    this.state = state;
    this.entered[state]++;
  }

  /** CheckStartupHighLoss(), at the end of a loss round (bbr.ts, Startup). */
  protected abstract checkStartupHighLoss(rs: RateSample): void;
}

/** A deterministic stand-in for the random source (tests; the connection injects its own). */
function fixedSequence(): RandomInt {
  let x = 0x2545f491;
  return (n: number) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) % n;
  };
}
