/**
 * PathState: everything about one path (a local address and a remote
 * address): its state, packet numbers, RTT, loss detection, congestion
 * control, pacing, validation, liveness and counters. The data sequence
 * space is not here: it belongs to the connection, so bytes sent on a dead
 * path are re-sent on a live one without renumbering.
 */
import type { Frame } from '../../wire/types.js';
import { CongestionUndo } from '../cc/congestion-undo.js';
import { DeliveryRateEstimator } from '../cc/delivery-rate.js';
import type { CongestionControlName } from '../options.js';
import type { PathStats } from '../stats.js';
import type { PathInfo, PathStateName, SocketAddress } from '../types.js';
import { createCongestionController, type CongestionController } from './congestion.js';
import type { CoupledGroup } from './coupled-group.js';
import { Pacer } from './pacer.js';
import { PathMtu, pmtuCeiling } from './pmtud.js';
import { ReceivedPackets } from './received-packets.js';
import { RttEstimator } from './rtt.js';
import { SentPackets } from './sent-packets.js';

/** What one sent packet carried, for acknowledgement and loss handling. */
export interface PacketMeta {
  /** Data sequence offset of the DATA frame, or -1 if the packet had none. */
  dataOffset: number;
  /** Length of the DATA frame. */
  dataLength: number;
  /** The DATA frame carried the FIN. */
  dataFin: boolean;
  /** Control frames that must be re-sent if this packet is lost. */
  control: Frame[] | null;
  /** The packet carried a receive-window update (re-sent if lost). */
  windowUpdate: boolean;
  /**
   * The first ACK frame it carried (for ACK of ACK): its path ID, or -1
   * for none, and the largest packet number it acknowledged. Two numbers,
   * not an array: nearly every packet carries one ACK frame or none.
   */
  ackPathId: number;
  ackLargest: number;
  /** Any further ACK frames, as [path ID, largest acknowledged] pairs, flat, or null. */
  moreAcks: number[] | null;
}

/** Largest delay we take before acknowledging (ms); also what the peer assumes. */
export const MAX_ACK_DELAY = 25;
/** Shortest interval between two PINGs added to ACK-only packets of a path, ms (PathState.ackElicitingAckDue). */
export const RTT_PING_MIN = 5;
/** PTOs in a row after which a suspect path is declared failed. */
export const PTOS_TO_FAIL = 3;
/** First interval between probes of a failed path (ms). */
export const FAILED_PROBE_MIN = 50;
/**
 * Cap of the back-off between probes of a failed path (ms). Kept low so a
 * healed path is found within half a second however long the outage was
 * (TCP's exponential back-off is what makes kernel MP-TCP slow here).
 */
export const FAILED_PROBE_MAX = 300;
/**
 * The cap for a path that never validated (an address pair with no route
 * between them, say): it is retried, but with less urgency.
 */
export const UNVALIDATED_PROBE_MAX = 2000;
/** Period over which the arrival rate is sampled for ACK thinning (ms). */
export const ACK_SAMPLE_MS = 5;
/** Most ack-eliciting packets acknowledged by one ACK. */
export const ACK_EVERY_MAX = 8;
/** Attempts at validating a new path before it is declared failed. */
export const VALIDATION_ATTEMPTS = 5;

/** A candidate address pair for a path, being validated. */
export interface Migration {
  /** Our address the probe packets arrived on. */
  local: SocketAddress;
  /** The peer's new address. */
  remote: SocketAddress;
  /** Our challenge to the new address (8 bytes). */
  challenge: Uint8Array;
  /** When the challenge was last sent, and how often. */
  sentAt: number;
  attempts: number;
  /** The peer's challenges that arrived from there, to answer there. */
  responses: Uint8Array[];
  /** Anti-amplification towards the unvalidated address. */
  bytesReceived: number;
  bytesSent: number;
}

export class PathState {
  /** Path ID: its packet number space on the wire. */
  readonly id: number;
  /** Our address on this path (changed only by moveTo). */
  private localAddress: SocketAddress;
  /** The peer's address on this path (changed only by moveTo). */
  private remoteAddress: SocketAddress;
  /** Lifecycle: validating → active ⇄ suspect → failed → active, or closed (changed only by setState). */
  private lifecycle: PathStateName = 'validating';
  /** We prefer this path as a backup (no data while an active path works). */
  localBackup = false;
  /** The peer asked for this path to be a backup. */
  remoteBackup = false;
  /** Sequence of the last PATH_STATUS applied from the peer. */
  remoteStatusSeq = -1;
  /** Next packet number in our send space for this path. */
  nextPacketNumber = 0;
  /** Packet numbers skipped on purpose (never sent; an ACK of one is an optimistic ACK), the newest few. */
  readonly skippedPacketNumbers: number[] = [];
  /** The packet number that will be skipped next. */
  nextSkip = Infinity;
  /** Packets we sent and have not seen acknowledged or lost. */
  readonly sent = new SentPackets<PacketMeta>();
  /** Packet numbers we received, for our ACK frames. */
  readonly received = new ReceivedPackets({ maxAckDelay: MAX_ACK_DELAY });
  /** RTT estimate of this path. */
  readonly rtt = new RttEstimator();
  /** Congestion controller of this path. */
  readonly cc: CongestionController;
  /** Delivery-rate samples of this path (what a model-based controller learns from). */
  readonly delivery = new DeliveryRateEstimator();
  /** The path whose packets last brought this path's ACK frames back, or null before the first (recovery.ts onAckFrame). */
  ackRouteId: number | null = null;
  /** The congestion event a spurious loss may undo (cc/congestion-undo.ts). */
  readonly undo = new CongestionUndo();
  /** The window held this path back since its last in-flight packet (seen by the scheduler's view). */
  windowLimited = false;
  /** The connection's congestion group (coupling, shared-bottleneck detection), if any. */
  readonly congestionGroup: CoupledGroup | undefined;
  /** Pacer of this path. */
  readonly pacer: Pacer;

  /** We validated the path (handshake or an answered challenge): it may carry data. Set only by markValidated. */
  private isValidated = false;
  /** Our outstanding challenge (8 bytes), or null. */
  challenge: Uint8Array | null = null;
  /** When our challenge was last sent, and how many times. */
  challengeSentAt = -Infinity;
  challengeAttempts = 0;
  /** Challenges from the peer we still have to answer. */
  readonly pendingResponses: Uint8Array[] = [];
  /**
   * The peer's latest challenge on this path while no packet carrying our
   * answer is known to have arrived (acknowledged), else null: the answer
   * is repeated until one is (liveness.ts, rule 5).
   */
  peerChallenge: Uint8Array | null = null;
  /** Highest packet number that carried our answer, and when it was sent. */
  responsePn = -1;
  responseSentAt = -Infinity;
  /** Joining side: the path was opened by us and its PATH_JOIN is repeated until validated. */
  joinPending = false;
  /** Bytes received on this path before it was validated (anti-amplification). */
  unvalidatedBytesReceived = 0;
  /** Bytes sent on this path before it was validated (≤ 3 × received). */
  unvalidatedBytesSent = 0;
  /** Enforce the anti-amplification limit (the side that did not open the path). */
  amplificationLimited = false;

  /** PTOs fired since the last acknowledgement on this path. */
  ptoCount = 0;
  /** Probe packets the PTO asked for and not yet sent. */
  probesPending = 0;
  /** Failed path: when the next liveness probe goes out, and the current back-off. */
  nextProbeAt = Infinity;
  probeInterval = FAILED_PROBE_MIN;
  /** Failed path: when its last probe went out (liveness.ts caps the gap while no path is active). */
  lastProbeAt = -Infinity;
  /** First packet number sent since the path failed, or -1: an ACK of it or later revives the path (liveness.ts rule 2). */
  failedSincePn = -1;
  /** A liveness ping (ACK + PING, not in flight) is to go out on this suspect or failed path now (liveness.ts rules 1 and 4). */
  pingDue = false;
  /** When the last liveness ping went out. */
  lastPingAt = -Infinity;
  /** The challenge of this validating path is to be repeated now, whatever its back-off (liveness.ts rules 1 and 4). */
  challengeUrgent = false;
  /** The suspicion deadline for which the other paths were last probed (liveness.ts rule 4). */
  overdueHandled = -Infinity;
  /** Last time a packet arrived on this path. */
  lastReceivedAt: number;
  /** Last time we sent an ack-eliciting packet on this path. */
  lastAckElicitingSentAt: number;
  /** Last time this path's state changed. */
  stateChangedAt: number;
  /**
   * A new address pair the peer's packets for this path arrived from (NAT
   * rebinding, or the peer moved the path): it is challenged before the
   * path moves there. Null when none is pending.
   */
  migration: Migration | null = null;
  /** Last time an ACK acknowledged something sent on this path. */
  lastAckAt = -Infinity;
  /** Highest packet number whose bytes were reinjected onto other paths. */
  reinjectedThrough = -1;
  /** Start of the current arrival-rate sample, and packets in it (ACK thinning). */
  arrivalSampleStart = 0;
  arrivalSampleCount = 0;
  /** Last time opportunistic reinjection cut this path's window. */
  lastPenalizedAt = -Infinity;
  /** A DATA frame arrived on this path since the last PING added to one of its ACK-only packets (ackElicitingAckDue). */
  dataSinceRttPing = false;
  /** An ACK frame for this path is wanted even though no threshold says so (e.g. a probe arrived). */
  ackImmediately = false;

  /** Path MTU discovery: the size of this path's packets (pmtud.ts). */
  readonly mtu: PathMtu;

  /** Counters exposed in stats(). */
  readonly counters = {
    packetsSent: 0,
    packetsReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    dataBytesSent: 0,
    dataBytesRetransmitted: 0,
    dataBytesReinjected: 0,
    packetsLost: 0,
    packetsSpuriouslyLost: 0,
    ptoCount: 0,
    congestionEvents: 0,
    congestionEventsUndone: 0,
    ackRouteChanges: 0,
  };

  constructor(
    id: number,
    local: SocketAddress,
    remote: SocketAddress,
    congestionControl: CongestionControlName,
    readonly maxDatagramSize: number,
    now: number,
    /** The connection's CoupledGroup: 'lia'/'olia' paths of one connection are coupled through it. */
    coupledGroup?: CoupledGroup,
  ) {
    this.id = id;
    this.localAddress = local;
    this.remoteAddress = remote;
    // maxDatagramSize is the ceiling of discovery; the window and the pacer
    // count in its units, the size most paths reach, and a change of the
    // path's size leaves them alone (RFC 8899 §3: "An update to the PLPMTU
    // (or MPS) MUST NOT increase the congestion window measured in bytes").
    this.cc = createCongestionController(congestionControl, maxDatagramSize, coupledGroup, coupledGroup?.random);
    this.congestionGroup = coupledGroup;
    this.pacer = new Pacer(maxDatagramSize);
    this.mtu = new PathMtu(pmtuCeiling(remote.address, maxDatagramSize, local.mtu), now);
    this.lastReceivedAt = now;
    this.lastAckElicitingSentAt = now;
    this.stateChangedAt = now;
  }

  /** Our address on this path. */
  get local(): SocketAddress {
    return this.localAddress;
  }

  /** The peer's address on this path. */
  get remote(): SocketAddress {
    return this.remoteAddress;
  }

  /** Lifecycle state. */
  get state(): PathStateName {
    return this.lifecycle;
  }

  /** We validated the path: it may carry data. */
  get validated(): boolean {
    return this.isValidated;
  }

  /** Our own check of the path succeeded (the handshake for path 0, an answered challenge otherwise). Never undone. */
  markValidated(): void {
    this.isValidated = true;
  }

  /**
   * Moves the path to another address pair: the one place a path's
   * addresses change (a validated migration, or a server moving a path off
   * an address it lost). The reset rule, RFC 9000 §9.4: "the endpoint
   * MUST reset the congestion controller and round-trip time estimator"
   * when the peer's address changes, unless only its port did (a NAT
   * rebinding on the same path); likewise when our own address changes.
   * Returns whether an address (not only a port) changed.
   */
  moveTo(local: SocketAddress, remote: SocketAddress): boolean {
    const addressChanged = local.address !== this.localAddress.address || remote.address !== this.remoteAddress.address;
    this.localAddress = { ...local };
    this.remoteAddress = { ...remote };
    if (addressChanged) {
      this.cc.reset();
      this.undo.reset();
      this.rtt.reset();
      this.sent.resetReordering();
      // Another route: its MTU is found again (pmtud.ts), below the new local link's.
      this.mtu.restart(pmtuCeiling(remote.address, this.maxDatagramSize, local.mtu));
    }
    return addressChanged;
  }

  /** Backup if either end asked for it. */
  get backup(): boolean {
    return this.localBackup || this.remoteBackup;
  }

  /** The path may carry stream data now (validated and not failed or closed). */
  get carriesData(): boolean {
    return this.validated && (this.state === 'active' || this.state === 'suspect');
  }

  /** Packets on this path can be sent now (not held by the anti-amplification limit). */
  get canSend(): boolean {
    return this.state !== 'closed' && this.amplificationRoom >= 64;
  }

  /** Congestion window room for new packets. */
  get windowRoom(): number {
    return Math.max(0, this.cc.window - this.sent.bytesInFlight);
  }

  /**
   * When the pacer lets a packet of `size` go: 0 for now, else the time.
   * The controller's own pacing rate drives it when it offers one.
   */
  pacingDelay(now: number, size: number, peek = false): number {
    const cc = this.cc;
    const slowStart = cc.window < cc.slowStartThreshold;
    // peek: the same answer, the bucket left as it was (pollTimeout asks).
    if (peek) return this.pacer.peekDelay(now, size, cc.window, this.rtt.smoothed, slowStart, cc.pacingRate ?? null, this.sent.bytesInFlight);
    return this.pacer.delay(now, size, cc.window, this.rtt.smoothed, slowStart, cc.pacingRate ?? null, this.sent.bytesInFlight);
  }

  /** Bytes this path may still send before validation (Infinity once validated or not limited). */
  get amplificationRoom(): number {
    if (this.validated || !this.amplificationLimited) return Infinity;
    return Math.max(0, 3 * this.unvalidatedBytesReceived - this.unvalidatedBytesSent);
  }

  /**
   * Probe timeout for this path, with exponential back-off (RFC 9002
   * §6.2.1: "When a PTO timer expires, the PTO backoff MUST be increased").
   * On a suspect path the back-off stops at FAILED_PROBE_MAX (or one
   * un-backed-off PTO if that is longer): its bytes were reinjected
   * elsewhere, its PTO probes only ask whether it is alive, and a path that
   * healed while suspect must be found as fast as a failed one would be.
   */
  ptoDuration(): number {
    const base = this.rtt.pto(MAX_ACK_DELAY);
    const backedOff = base * 2 ** Math.min(this.ptoCount, 6);
    return this.state === 'suspect' ? Math.min(backedOff, Math.max(base, FAILED_PROBE_MAX)) : backedOff;
  }

  /** When the PTO fires, or null if nothing ack-eliciting is in flight. */
  ptoDeadline(): number | null {
    if (this.sent.ackElicitingInFlight === 0 || this.state === 'failed' || this.state === 'closed') return null;
    const last = this.sent.timeOfLastAckEliciting;
    if (last === null) return null;
    return last + this.ptoDuration();
  }

  /**
   * ACK thinning: at high packet rates the receiver acknowledges every Nth
   * ack-eliciting packet instead of every second (RFC 9000 §13.2.2 allows a
   * receiver to ack less often; the range list still reports every packet).
   * N follows the arrival rate, sampled every ACK_SAMPLE_MS: two up to
   * 8 packets per ms (~77 Mbit/s at 1200 bytes), growing to ACK_EVERY_MAX,
   * so a path with a small window still gets an ACK per two packets.
   */
  noteArrival(now: number): void {
    this.arrivalSampleCount++;
    const elapsed = now - this.arrivalSampleStart;
    if (elapsed < ACK_SAMPLE_MS) return;
    const perMs = this.arrivalSampleCount / elapsed;
    this.received.ackEveryN = Math.max(2, Math.min(ACK_EVERY_MAX, Math.floor(perMs / 4)));
    this.arrivalSampleStart = now;
    this.arrivalSampleCount = 0;
  }

  /**
   * When this path becomes suspect if no ACK for it arrives: the oldest
   * unacknowledged ack-eliciting packet is a smoothed RTT plus four RTT
   * variations (and the peer's ACK delay) overdue. Unlike the PTO, which runs
   * from the newest packet sent and so keeps moving while the sender fills
   * the dead path's window, this runs from the oldest: a path that went
   * silent is noticed about 4·rttvar after its ACKs stopped. Only for an
   * active path (suspicion moves its bytes to other paths; it is no
   * congestion signal). Null when nothing is outstanding.
   *
   * The variation term is capped at two smoothed RTTs: on a loaded host or
   * a bufferbloated link rttvar grows to many RTTs, and a dead path then
   * went unnoticed for hundreds of ms (the longest stall of the flapping
   * lab test, issue #15). An early suspicion costs little: each packet is
   * reinjected once, and the next ACK makes the path active again.
   *
   * The RTT it counts from is the smoothed one or the latest sample,
   * whichever is longer: while the peer's slow start fills the queue of a
   * path we only receive on, the RTT of our PINGs doubles in a round trip
   * or two and the smoothed RTT trails it (unbalanced-1M, BBR: smoothed
   * 84 ms, latest 109 ms, and the ACK of the oldest PING came 155 ms after
   * it, 2 ms after the smoothed deadline; docs/bench.md, "Issue 12: the
   * last early suspicion"). A path that dies is still noticed about
   * 4·rttvar after its ACKs stop: its latest sample is then no older
   * than the last ACK.
   */
  suspectDeadline(): number | null {
    if (this.state !== 'active' || this.sent.ackElicitingInFlight === 0) return null;
    const sentAt = this.sent.oldestAckElicitingSentAt();
    if (sentAt < 0) return null;
    const rtt = this.rtt.smoothed;
    const variation = Math.min(Math.max(4 * this.rtt.rttvar, 2), Math.max(2 * rtt, 2));
    return sentAt + Math.max(rtt, this.rtt.latest) + variation + MAX_ACK_DELAY;
  }

  /**
   * An ACK-only packet sent on this path is to carry a PING: nothing
   * ack-eliciting has gone out on it for half a smoothed RTT (at least
   * RTT_PING_MIN). RFC 9000 §13.2.4: "A receiver that sends only
   * non-ack-eliciting packets, such as ACK frames, might not receive an
   * acknowledgment for a long period of time. [...] In such a case, a
   * receiver could send a PING or other small ack-eliciting frame
   * occasionally, such as once per round trip, to elicit an ACK from the
   * peer." Here the reason is the RTT estimate: on a path one side only
   * receives on, it otherwise stayed where it was before the sender's queue
   * grew; its PTO fired, the path turned suspect and its ACKs went around
   * it, with nothing lost. Twice a round trip, with no wait for the last
   * PING's ACK, because a slow start doubles the RTT every round trip and
   * the estimate must keep up (docs/bench.md, "Issue 12: what the receiver
   * gets acknowledged"). Only while the peer sends data on the path: the peer's ACK of
   * our PING must not carry a PING of its own, or two idle ends would
   * trade ACKs and PINGs forever.
   */
  ackElicitingAckDue(now: number): boolean {
    if (!this.dataSinceRttPing || this.state !== 'active' || !this.validated) return false;
    return now >= this.lastAckElicitingSentAt + Math.max(this.rtt.smoothed / 2, RTT_PING_MIN);
  }

  /**
   * When this path sends a keep-alive PING, `interval` after its last
   * ack-eliciting packet; Infinity when it carries no data (a failed path is
   * probed on its own schedule) or waits for an ACK. A path waiting for an
   * ACK is not idle, and a keep-alive there would restart its PTO (RFC 9002
   * §6.2.1: the timer runs from the last ack-eliciting packet sent): once
   * the PTO's back-off outgrew the interval, a dead path's PTO never fired
   * again and the path stayed active for good.
   */
  keepAliveDeadline(interval: number): number {
    if (!this.carriesData || this.sent.ackElicitingInFlight > 0) return Infinity;
    return this.lastAckElicitingSentAt + interval;
  }

  /** The one place the path's lifecycle changes; a closed path stays closed. */
  setState(state: PathStateName, now: number): void {
    if (this.lifecycle === state || this.lifecycle === 'closed') return;
    this.lifecycle = state;
    this.stateChangedAt = now;
  }

  info(): PathInfo {
    return {
      id: this.id,
      localAddress: this.local.address,
      localPort: this.local.port,
      remoteAddress: this.remote.address,
      remotePort: this.remote.port,
      state: this.state,
      backup: this.backup,
      smoothedRtt: this.rtt.smoothed,
      congestionWindow: this.cc.window,
      bytesInFlight: this.sent.bytesInFlight,
      bytesSent: this.counters.bytesSent,
      bytesReceived: this.counters.bytesReceived,
      mtu: this.mtu.plpmtu,
    };
  }

  stats(): PathStats {
    return {
      id: this.id,
      state: this.state,
      ...this.counters,
      ...this.mtu.counters,
      mtu: this.mtu.plpmtu,
      mtuSearch: this.mtu.phase,
      smoothedRtt: this.rtt.smoothed,
      minRtt: this.rtt.min,
      congestionWindow: this.cc.window,
      pacerLateCreditBytes: this.pacer.lateCreditBytes,
      lossPacketThreshold: this.sent.packetThreshold,
      lossTimeThreshold: this.sent.timeThreshold,
    };
  }
}
