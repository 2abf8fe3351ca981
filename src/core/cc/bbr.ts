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
 */
import type { CongestionController, RandomInt } from '../path/congestion.js';
import { initialWindow } from '../path/new-reno.js';
import type { RttEstimator } from '../path/rtt.js';
import type { DeliveryRateEstimator, PacketDeliveryState, RateSample } from './delivery-rate.js';
import { WindowedMax } from './windowed-max.js';
import {
  BETA,
  DEFAULT_CWND_GAIN,
  DRAIN_PACING_GAIN,
  EXTRA_ACKED_FILTER_LEN,
  FULL_BW_GROWTH,
  FULL_BW_ROUNDS,
  HEADROOM,
  isProbeBw,
  LOSS_NOISE_SIGMAS,
  LOSS_THRESH,
  MAX_BW_FILTER_LEN,
  MIN_RTT_FILTER_LEN,
  MIN_RTT_MARGIN,
  PACING_MARGIN,
  PROBE_DOWN_PACING_GAIN,
  PROBE_RTT_CWND_GAIN,
  PROBE_RTT_DURATION,
  PROBE_RTT_INTERVAL,
  PROBE_UP_CWND_GAIN,
  PROBE_UP_PACING_GAIN,
  RENO_PROBE_ROUND_LIMIT,
  STANDING_QUEUE_CWND_GAIN,
  STARTUP_FULL_LOSS_COUNT,
  STARTUP_PACING_GAIN,
  type AckPhase,
  type BbrState,
} from './bbr-params.js';

export * from './bbr-params.js';


export interface BbrOptions {
  /** Adapt the short-term model only on rounds losing more than LOSS_THRESH (default true; see the file comment). */
  lossTolerant?: boolean;
  /** Random integers for the probe timing (an injected source; a fixed sequence when omitted). */
  random?: RandomInt;
}

export class Bbr implements CongestionController {
  readonly name = 'bbr' as const;
  /** C.SMSS, bytes. */
  readonly maxDatagramSize: number;
  /** See BbrOptions. */
  readonly lossTolerant: boolean;
  private readonly random: RandomInt;

  // ---- control parameters ----
  /** C.cwnd, bytes. */
  private cwnd: number;
  /** C.pacing_rate, bytes per ms (0 until the first RTT sample). */
  private pacing = 0;
  /** BBR.pacing_gain and BBR.cwnd_gain. */
  private pacingGain = STARTUP_PACING_GAIN;
  private cwndGain = DEFAULT_CWND_GAIN;
  /** BBR.prior_cwnd: the last-known good cwnd (SaveCwnd/RestoreCwnd). */
  private priorCwnd = 0;

  // ---- state machine ----
  /** BBR.state. */
  state: BbrState = 'startup';
  /** BBR.round_count, BBR.round_start, BBR.next_round_delivered. */
  roundCount = 0;
  private roundStart = false;
  private nextRoundDelivered = 0;
  /** BBR.idle_restart. */
  private idleRestart = false;
  /** BBR.drain_start_round. */
  private drainStartRound = 0;

  // ---- model ----
  /** BBR.max_bw and its filter, over BBR.cycle_count. */
  maxBw = 0;
  private readonly maxBwFilter = new WindowedMax(MAX_BW_FILTER_LEN);
  private cycleCount = 0;
  /** BBR.bw_shortterm and BBR.bw = min(max_bw, bw_shortterm). */
  bwShortterm = Infinity;
  bw = 0;
  /** BBR.min_rtt and when it was taken, ms. */
  minRtt = Infinity;
  private minRttStamp = 0;
  /** BBR.extra_acked and its estimator. */
  private extraAcked = 0;
  private readonly extraAckedFilter = new WindowedMax(EXTRA_ACKED_FILTER_LEN);
  private extraAckedIntervalStart = 0;
  private extraAckedDelivered = 0;
  /** BBR.inflight_longterm and BBR.inflight_shortterm, bytes. */
  inflightLongterm = Infinity;
  inflightShortterm = Infinity;
  /** BBR.bw_latest and BBR.inflight_latest: one-round maxima of the delivery process. */
  private bwLatest = 0;
  private inflightLatest = 0;
  /** Loss rounds: BBR.loss_round_delivered, BBR.loss_round_start, BBR.is_loss_in_round. */
  private lossRoundDelivered = 0;
  private lossRoundStart = false;
  private isLossInRound = false;
  /** Bytes lost and delivered in the current loss round (the loss-rate bound). */
  private lostInRound = 0;
  private deliveredAtLossRound = 0;
  /** Discontiguous lost ranges in the current loss round, and the last lost packet number. */
  private lossRangesInRound = 0;
  private lastLostPn = -2;

  // ---- startup ----
  /** BBR.full_bw_reached, BBR.full_bw_now, BBR.full_bw, BBR.full_bw_count. */
  fullBwReached = false;
  private fullBwNow = false;
  private fullBw = 0;
  private fullBwCount = 0;

  // ---- ProbeBW ----
  private ackPhase: AckPhase = 'init';
  private isBwProbeSample = false;
  private bwProbeUpAcked = 0;
  private probeUpAckedPerInc = Infinity;
  private bwProbeUpRounds = 0;
  private roundsSinceProbeUp = 0;
  /** BBR.bw_probe_wait and BBR.cycle_stamp, ms. */
  private bwProbeWait = 0;
  private cycleStamp = 0;
  private prevProbeTooHigh = false;
  private prevProbePrecautionary = false;

  // ---- ProbeRTT ----
  private probeRttMinDelay = Infinity;
  private probeRttMinStamp = 0;
  private probeRttExpired = false;
  private probeRttDoneStamp = 0;
  private probeRttRoundDone = false;

  /** The latest ACK's time and C.delivered (transitions read them). */
  private now = 0;
  private delivered = 0;

  // ---- recovery and cwnd-limited tracking ----
  /** Start of the current loss recovery episode (ms), or null. */
  private recoveryStart: number | null = null;
  /** The bounds when the current loss episode began, for undoCongestionEvent (Linux's undo_bw_lo, undo_inflight_lo, undo_inflight_hi). */
  private undoBounds: { bwShortterm: number; inflightShortterm: number; inflightLongterm: number } | null = null;
  /** Startup ended on the current episode's losses (CheckStartupHighLoss). */
  private startupExitOnLoss = false;
  /** C.is_cwnd_limited over the last round: this round's flag and the previous one's. */
  private cwndLimitedThisRound = false;
  private cwndLimitedLastRound = false;
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

  // ---- CongestionController ----

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

  // ---- rounds and the bandwidth model ----

  /** UpdateRound(): a round ends when a packet sent after its start is acknowledged. */
  private updateRound(rs: RateSample): void {
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
  private startRound(delivered: number): void {
    this.nextRoundDelivered = delivered;
  }

  /** C.is_cwnd_limited: the window was fully used at some point in the last round. */
  private get isCwndLimited(): boolean {
    return this.cwndLimitedThisRound || this.cwndLimitedLastRound;
  }

  /** UpdateMaxBw(): app-limited samples count only when they raise the estimate. */
  private updateMaxBw(rs: RateSample): void {
    this.updateRound(rs);
    if (rs.deliveryRate > 0 && (rs.deliveryRate >= this.maxBw || !rs.isAppLimited)) {
      this.maxBw = this.maxBwFilter.update(rs.deliveryRate, this.cycleCount);
    }
  }

  /** UpdateLatestDeliverySignals(), near the start of ACK processing. */
  private updateLatestDeliverySignals(rs: RateSample): void {
    this.lossRoundStart = false;
    this.bwLatest = Math.max(this.bwLatest, rs.deliveryRate);
    this.inflightLatest = Math.max(this.inflightLatest, rs.delivered);
    if (rs.priorDelivered >= this.lossRoundDelivered) {
      this.lossRoundDelivered = rs.totalDelivered;
      this.lossRoundStart = true;
    }
  }

  /** AdvanceLatestDeliverySignals(), near the end of ACK processing. */
  private advanceLatestDeliverySignals(rs: RateSample): void {
    if (this.lossRoundStart) {
      this.bwLatest = rs.deliveryRate;
      this.inflightLatest = rs.delivered;
    }
  }

  /** ResetCongestionSignals(). */
  private resetCongestionSignals(): void {
    this.isLossInRound = false;
    this.bwLatest = 0;
    this.inflightLatest = 0;
  }

  /** UpdateCongestionSignals(): the bandwidth filter every ACK, the loss response once per round. */
  private updateCongestionSignals(rs: RateSample, _rtt: RttEstimator): void {
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
  private roundCongested(rs: RateSample): boolean {
    return this.competing || this.roundLossTooHigh(rs);
  }

  /** The round just ended lost more than LOSS_THRESH of what it sent, beyond chance (see isInflightTooHigh). */
  private roundLossTooHigh(rs: RateSample): boolean {
    const delivered = rs.totalDelivered - this.deliveredAtLossRound;
    return this.lossAboveThreshold(this.lostInRound, delivered + this.lostInRound);
  }

  /**
   * `lost` of `sent` bytes is more than LOSS_THRESH, by LOSS_NOISE_SIGMAS
   * standard deviations of its count; by any amount while the path
   * competes (`competing`: losses are then a full buffer's).
   */
  private lossAboveThreshold(lost: number, sent: number): boolean {
    if (lost <= sent * LOSS_THRESH) return false;
    if (this.competing) return true;
    const expected = (LOSS_THRESH * sent) / this.maxDatagramSize;
    return lost / this.maxDatagramSize > expected + LOSS_NOISE_SIGMAS * Math.sqrt(expected);
  }

  /** AdaptLowerBoundsFromCongestion(): "Once per round trip respond to congestion". */
  private adaptLowerBoundsFromCongestion(rs: RateSample): void {
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
  private resetShortTermModel(): void {
    this.bwShortterm = Infinity;
    this.inflightShortterm = Infinity;
  }

  /** BoundBWForModel(): "BBR.bw = min(BBR.max_bw, BBR.bw_shortterm)". */
  private boundBwForModel(): void {
    this.bw = Math.min(this.maxBw, this.bwShortterm);
  }

  /** UpdateACKAggregation(): how much more the ACKs delivered than bw predicts (ACK thinning, aggregation). */
  private updateAckAggregation(rs: RateSample, now: number): void {
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

  private resetFullBw(): void {
    this.fullBw = 0;
    this.fullBwCount = 0;
    this.fullBwNow = false;
  }

  /**
   * CheckStartupHighLoss(), at the end of a loss round: in recovery, a loss
   * rate above LOSS_THRESH and at least STARTUP_FULL_LOSS_COUNT lost ranges.
   */
  private checkStartupHighLoss(rs: RateSample): void {
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

  /** AdvanceMaxBwFilter(): one ProbeBW cycle of virtual time. */
  private advanceMaxBwFilter(): void {
    this.cycleCount++;
    this.maxBw = this.maxBwFilter.best(this.cycleCount);
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

  /** TargetInflight(): "Our estimated BDP, unless congestion cut C.cwnd." */
  private targetInflight(): number {
    return Math.min(this.bdp, this.cwnd);
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

  private isProbingBw(): boolean {
    return this.state === 'startup' || this.state === 'probe-bw-refill' || this.state === 'probe-bw-up';
  }

  private hasElapsedInPhase(interval: number, now: number): boolean {
    return now > this.cycleStamp + interval;
  }

  /** InflightWithHeadroom(): inflight_longterm less 15 % for cross traffic. */
  private inflightWithHeadroom(): number {
    if (this.inflightLongterm === Infinity) return Infinity;
    const headroom = Math.max(this.maxDatagramSize, HEADROOM * this.inflightLongterm);
    return Math.max(this.inflightLongterm - headroom, this.minPipeCwnd);
  }

  /** RaiseInflightLongtermSlope(): 1, 2, 4, … packets of growth per round. */
  private raiseInflightLongtermSlope(): void {
    const growthThisRound = 2 ** this.bwProbeUpRounds;
    this.bwProbeUpRounds = Math.min(this.bwProbeUpRounds + 1, 30);
    this.probeUpAckedPerInc = Math.max(this.cwnd / growthThisRound, this.maxDatagramSize);
  }

  /** ProbeInflightLongtermUpward(). */
  private probeInflightLongtermUpward(rs: RateSample): void {
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
  private isInflightTooHigh(lost: number, txInFlight: number): boolean {
    return this.lossAboveThreshold(lost, txInFlight);
  }

  /** HandleInflightTooHigh(): the probe went too high; remember where, and go down. */
  private handleInflightTooHigh(txInFlight: number, appLimited: boolean): void {
    this.prevProbeTooHigh = true;
    this.isBwProbeSample = false; // "only react once per bw probe"
    if (!appLimited) this.inflightLongterm = Math.max(txInFlight, this.targetInflight() * BETA);
    if (this.state === 'probe-bw-up') this.startProbeBwDown();
  }

  /** InflightAtLoss(P): the inflight at which losses crossed LOSS_THRESH. */
  private inflightAtLoss(size: number, txInFlight: number, lost: number): number {
    const inflightPrev = txInFlight - size;
    const lostPrev = lost - size;
    const lostPrefix = (LOSS_THRESH * inflightPrev - lostPrev) / (1 - LOSS_THRESH);
    return inflightPrev + lostPrefix;
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

  /** ProbeRTTCwnd(): half a BDP, at least MinPipeCwnd. */
  private probeRttCwnd(): number {
    return Math.max(this.bdpMultiple(PROBE_RTT_CWND_GAIN), this.minPipeCwnd);
  }

  // ---- control parameters ----

  /** InitPacingRate(): StartupPacingGain × InitialCwnd / srtt. */
  private initPacingRate(srtt: number): void {
    const nominal = initialWindow(this.maxDatagramSize) / Math.max(srtt, 1);
    this.pacing = STARTUP_PACING_GAIN * nominal;
  }

  /** SetPacingRateWithGain(): "rate = pacing_gain * bw * (100 - BBR.PacingMarginPercent) / 100". */
  private setPacingRateWithGain(gain: number): void {
    const rate = gain * this.bw * (1 - PACING_MARGIN);
    if (this.fullBwReached || rate > this.pacing) this.pacing = rate;
  }

  /** C.send_quantum: 1 ms of the pacing rate, between 2 datagrams and 64 KB. */
  private get sendQuantum(): number {
    return Math.min(Math.max(this.pacing * 1, 2 * this.maxDatagramSize), 64 * 1024);
  }

  /** BDPMultiple(gain). */
  private bdpMultiple(gain: number, bw = this.bw): number {
    if (!Number.isFinite(this.minRtt)) return initialWindow(this.maxDatagramSize); // "no valid RTT samples yet"
    return gain * bw * this.minRtt;
  }

  /** QuantizationBudget(): room for a send quantum, MinPipeCwnd, and 2 packets more in UP. */
  private quantizationBudget(cap: number): number {
    let c = Math.max(cap, this.sendQuantum, this.minPipeCwnd);
    if (this.state === 'probe-bw-up') c += 2 * this.maxDatagramSize;
    return c;
  }

  /** Inflight(gain): the BDP times `gain`, with the quantization budget. */
  private inflight(gain: number, bw = this.bw): number {
    return this.quantizationBudget(this.bdpMultiple(gain, bw));
  }

  /** SetCwnd(): grow by what was acknowledged towards max_inflight, then the bounds. */
  private setCwnd(rs: RateSample): void {
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
  private saveCwnd(): void {
    if (this.recoveryStart === null && this.state !== 'probe-rtt') this.priorCwnd = this.cwnd;
    else this.priorCwnd = Math.max(this.priorCwnd, this.cwnd);
  }

  /** RestoreCwnd(). */
  private restoreCwnd(): void {
    this.cwnd = Math.max(this.cwnd, this.priorCwnd);
  }

  private setState(state: BbrState): void {
    this.state = state;
    this.entered[state]++;
  }

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
