/**
 * Delivery rate estimation for one path (draft-cheng-iccrg-delivery-rate-estimation,
 * as folded into draft-ietf-ccwg-bbr §"Delivery Rate Samples"): every
 * in-flight packet carries a snapshot of the path's delivery state taken when
 * it was sent, and each ACK turns the newest acknowledged packet's snapshot
 * into one rate sample (bytes delivered over the interval since then).
 *
 * Units: bytes and milliseconds; rates are bytes per ms.
 *
 * The estimator is controller-agnostic (it lives on the path, like the RTT
 * estimator); a model-based controller (BBR) reads the samples, the
 * window-based ones ignore them. No allocation per call: the sample object
 * is reused, and the per-packet state lives in fields of the sent packet.
 */

/**
 * The per-packet (P) state of the draft, kept with each sent packet. The
 * fields are written by `onPacketSent` and read back on its ACK or loss.
 */
export interface PacketDeliveryState {
  /** Packet number (P.packet_id). */
  readonly packetNumber: number;
  /** Send time, ms (P.send_time). */
  readonly timeSent: number;
  /** Bytes of the packet. */
  readonly size: number;
  /** "P.delivered: C.delivered when the packet was sent". */
  delivered: number;
  /** "P.delivered_time: C.delivered_time when the packet was sent". */
  deliveredTime: number;
  /** "P.first_send_time: C.first_send_time when the packet was sent". */
  firstSentTime: number;
  /** "P.is_app_limited: true if C.app_limited was non-zero when the packet was sent". */
  appLimited: boolean;
  /** "P.tx_in_flight: C.inflight immediately after the transmission of packet P". */
  txInFlight: number;
  /** "P.lost: C.lost when the packet was sent". */
  lostBefore: number;
}

/** One ACK's rate sample (the draft's RS), plus the path totals after it. */
export interface RateSample {
  /** A packet sent with a snapshot was acknowledged by this ACK. */
  hasData: boolean;
  /** Bytes per ms over the sampling interval; 0 when there is no reliable sample. */
  deliveryRate: number;
  /** Bytes delivered over the sampling interval (RS.delivered). */
  delivered: number;
  /** Sampling interval, ms: the longer of the send and the ACK intervals. */
  interval: number;
  /** The newest acknowledged packet was sent while the path was application-limited. */
  isAppLimited: boolean;
  /** P.delivered of the newest acknowledged packet (RS.prior_delivered). */
  priorDelivered: number;
  /** Bytes in flight right after the newest acknowledged packet was sent (RS.tx_in_flight). */
  txInFlight: number;
  /** Bytes declared lost between that packet's send and this ACK (RS.lost). */
  lost: number;
  /** Bytes newly acknowledged by this ACK (RS.newly_acked). */
  newlyAcked: number;
  /** Bytes declared lost since the previous ACK's sample (RS.newly_lost). */
  newlyLost: number;
  /** now − send time of the newest acknowledged packet, ms; −1 without one (RS.rtt). */
  rtt: number;
  /** C.delivered after this ACK: every byte ever acknowledged on the path. */
  totalDelivered: number;
  /** C.lost after this ACK: every byte ever declared lost on the path. */
  totalLost: number;
}

export class DeliveryRateEstimator {
  /** "C.delivered: The total amount of data delivered so far", bytes. */
  delivered = 0;
  /** "C.delivered_time: The wall clock time when C.delivered was last updated", ms. */
  deliveredTime = 0;
  /** "C.first_send_time": send time of the packet most recently marked delivered (or of the first packet after idle), ms. */
  firstSentTime = 0;
  /** "C.app_limited": C.delivered + inflight when the path last ran out of data to send; 0 when not application-limited. */
  appLimitedUntil = 0;
  /** "C.lost: The total amount of data marked as lost so far", bytes. */
  lost = 0;
  /** Times the path was marked application-limited (for stats and tests). */
  appLimitedMarks = 0;
  /** When the path's ACKs last began to come back on another path (onAckRouteChange), ms. */
  private ackRouteChangedAt = -Infinity;
  /** The sample of the last ACK (reused). */
  readonly sample: RateSample = {
    hasData: false,
    deliveryRate: 0,
    delivered: 0,
    interval: 0,
    isAppLimited: false,
    priorDelivered: 0,
    txInFlight: 0,
    lost: 0,
    newlyAcked: 0,
    newlyLost: 0,
    rtt: -1,
    totalDelivered: 0,
    totalLost: 0,
  };
  /** Bytes declared lost since the last sample was generated. */
  private lostSinceSample = 0;
  /** Send time and packet number of the newest packet acknowledged by the ACK being processed. */
  private newestSent = -Infinity;
  private newestPn = -1;
  /** P.delivered_time of that packet: where the sample's ACK interval starts. */
  private newestDeliveredTime = 0;

  /**
   * `p` was just sent; `inflight` is the path's bytes in flight including it.
   * Draft: "if (C.inflight == 0) C.first_send_time = C.delivered_time = P.send_time",
   * C.inflight there being what was in flight before P.
   */
  onPacketSent(p: PacketDeliveryState, inflight: number): void {
    if (inflight - p.size <= 0) {
      this.firstSentTime = p.timeSent;
      this.deliveredTime = p.timeSent;
    }
    p.firstSentTime = this.firstSentTime;
    p.deliveredTime = this.deliveredTime;
    p.delivered = this.delivered;
    p.appLimited = this.appLimitedUntil !== 0;
    p.txInFlight = inflight;
    p.lostBefore = this.lost;
  }

  /** An in-flight packet was declared lost: C.lost grows by its size. */
  onPacketLost(p: PacketDeliveryState): void {
    this.lost += p.size;
    this.lostSinceSample += p.size;
  }

  /**
   * The path had room for a packet (window and pacer) but the connection gave
   * it nothing to send. Draft: "MarkConnectionAppLimited(): C.app_limited =
   * max(C.delivered + C.inflight, 1)"; samples stay application-limited until
   * the bubble is acknowledged.
   */
  markAppLimited(inflight: number): void {
    this.appLimitedUntil = Math.max(this.delivered + inflight, 1);
    this.appLimitedMarks++;
  }

  /**
   * The path's ACKs now come back on another path than before (the peer
   * routes them around a direction it suspects, or back). An ACK interval
   * that spans the change measures the two routes' difference in delay, not
   * the path's delivery: ACKs that switch to a route 25 ms shorter deliver
   * 25 ms of acknowledgements at once, and the sample over them read 62
   * Mbit/s on a 50 Mbit/s path (the sim matrix's hetero-up row), a max_bw
   * that BBR then kept for two ProbeBW cycles and overran its buffer with.
   * Samples whose ACK interval began before the change give no rate.
   */
  onAckRouteChange(now: number): void {
    this.ackRouteChangedAt = now;
  }

  /** Starts the sample of a new ACK ("InitRateSample"). */
  beginAck(): void {
    const rs = this.sample;
    rs.hasData = false;
    rs.deliveryRate = 0;
    rs.delivered = 0;
    rs.interval = 0;
    rs.isAppLimited = false;
    rs.priorDelivered = 0;
    rs.txInFlight = 0;
    rs.lost = 0;
    rs.newlyAcked = 0;
    rs.rtt = -1;
    this.newestSent = -Infinity;
    this.newestPn = -1;
  }

  /** One in-flight packet newly acknowledged at `now` ("UpdateRateSample"). */
  onPacketAcked(p: PacketDeliveryState, now: number): void {
    const rs = this.sample;
    this.delivered += p.size;
    this.deliveredTime = now;
    rs.newlyAcked += p.size;
    // "Update info using the newest packet": the most recently sent one.
    if (!rs.hasData || p.timeSent > this.newestSent || (p.timeSent === this.newestSent && p.packetNumber > this.newestPn)) {
      rs.hasData = true;
      rs.priorDelivered = p.delivered;
      rs.isAppLimited = p.appLimited;
      rs.txInFlight = p.txInFlight;
      rs.lost = this.lost - p.lostBefore;
      rs.rtt = now - p.timeSent;
      // RS.send_elapsed and RS.ack_elapsed, kept in the interval fields until generate().
      rs.interval = Math.max(p.timeSent - p.firstSentTime, now - p.deliveredTime);
      this.newestDeliveredTime = p.deliveredTime;
      this.newestSent = p.timeSent;
      this.newestPn = p.packetNumber;
      this.firstSentTime = p.timeSent;
    }
  }

  /**
   * Finishes the ACK's sample ("GenerateRateSample"). `minRtt` is the path's
   * minimum RTT (ms, 0 when unknown). Returns the sample (the same object
   * every time).
   */
  endAck(minRtt: number): RateSample {
    const rs = this.sample;
    // "Clear app-limited field if bubble is ACKed and gone."
    if (this.appLimitedUntil !== 0 && this.delivered > this.appLimitedUntil) this.appLimitedUntil = 0;
    rs.newlyLost = this.lostSinceSample;
    this.lostSinceSample = 0;
    rs.totalDelivered = this.delivered;
    rs.totalLost = this.lost;
    if (!rs.hasData) return rs;
    rs.delivered = this.delivered - rs.priorDelivered;
    // "Normally we expect interval >= MinRTT. [...] if (RS.interval < C.min_rtt)
    // return /* no reliable rate sample */"
    if (rs.interval < minRtt || rs.interval <= 0) return rs;
    // The ACK interval spans a change of the ACKs' route (onAckRouteChange).
    if (this.newestDeliveredTime < this.ackRouteChangedAt) return rs;
    rs.deliveryRate = rs.delivered / rs.interval;
    return rs;
  }

  /** Forgets the path's history (the path failed or moved). */
  reset(): void {
    this.delivered = 0;
    this.deliveredTime = 0;
    this.firstSentTime = 0;
    this.appLimitedUntil = 0;
    this.lost = 0;
    this.lostSinceSample = 0;
    this.ackRouteChangedAt = -Infinity;
  }
}
