/**
 * The per-path congestion controller contract and its factory.
 *
 * Call sequence, per path:
 *  - `onPacketSent` for every in-flight packet;
 *  - on an ACK: `onAck` for each newly acknowledged in-flight packet (or once
 *    with their summed bytes and the latest send time), passing the bytes in
 *    flight as they were *before* the ACK removed those packets;
 *  - for packets declared lost: `onCongestionEvent(largest lost timeSent, now)`;
 *    then, if `persistentCongestion(...)` holds, `onPersistentCongestion()`;
 *  - `reset()` when a path fails or closes (recovery.ts failPath): initial
 *    window and slow start again; a coupled controller also drops out of its
 *    group's sums until its next ACK;
 *  - `dispose()` when the path is forgotten for good: a coupled controller
 *    leaves its group (a no-op for the uncoupled ones).
 *
 * Model-based controllers ('bbr') also learn from the path's delivery-rate
 * estimator (src/core/cc/delivery-rate.ts): once per ACK `onAckSample` with
 * the ACK's rate sample, after the per-packet `onAck` calls; `onPacketLost`
 * for every in-flight packet declared lost, before the ACK that declared it
 * is processed (RFC 9002 Appendix A.7 order: OnPacketsLost, then
 * OnPacketsAcked); and they offer a `pacingRate` that the path's pacer
 * follows. src/core/cc/feedback.ts makes these calls in that order.
 *
 * Coupled controllers ('lia', 'olia') of one connection share one
 * CoupledGroup, passed to the factory; uncoupled ones ignore it.
 */
import { Bbr } from '../cc/bbr.js';
import type { DeliveryRateEstimator, PacketDeliveryState, RateSample } from '../cc/delivery-rate.js';
import { CoupledGroup } from './coupled-group.js';
import { Cubic } from './cubic.js';
import { Lia } from './lia.js';
import { NewReno } from './new-reno.js';
import { Olia } from './olia.js';
import type { RttEstimator } from './rtt.js';

export { CoupledGroup } from './coupled-group.js';

export { initialWindow, minimumWindow, isAppLimited } from './new-reno.js';

/** Every built-in controller, by name. 'lia' and 'olia' are coupled across a connection's paths; 'bbr' is model-based. */
export const CONGESTION_CONTROLLER_NAMES = ['cubic', 'newreno', 'lia', 'olia', 'bbr'] as const;
export type CongestionControllerName = (typeof CONGESTION_CONTROLLER_NAMES)[number];

/** An injected source of random integers in [0, n) (the core draws no randomness of its own). */
export type RandomInt = (n: number) => number;

export interface CongestionController {
  /** Algorithm name. */
  readonly name: CongestionControllerName;
  /** Congestion window, bytes. */
  readonly window: number;
  /** Slow start threshold, bytes (Infinity before the first congestion event). */
  readonly slowStartThreshold: number;
  /** Between a congestion event and the ACK of a packet sent after it. */
  readonly inRecovery: boolean;
  /**
   * An in-flight packet of `bytes` was sent at `now`; `bytesInFlight` is the
   * path's bytes in flight including it, `delivery` the path's estimator.
   */
  onPacketSent(bytes: number, now: number, bytesInFlight?: number, delivery?: DeliveryRateEstimator): void;
  /**
   * `bytes` sent at `timeSent` were acknowledged at `now`. Acks of packets sent
   * before the current recovery period began are ignored. The window does not
   * grow while application-limited: `bytesInFlight` (before this ACK) < window/2.
   */
  onAck(bytes: number, timeSent: number, now: number, rtt: RttEstimator, bytesInFlight: number): void;
  /**
   * Loss (or ECN-CE) of a packet sent at `timeSentOfLost`; at most one
   * reduction per recovery period. Returns true when it began one (false:
   * the packet was sent before the current recovery period began).
   */
  onCongestionEvent(timeSentOfLost: number, now: number): boolean;
  /** Persistent congestion established: window to the minimum (2 * max datagram size). */
  onPersistentCongestion(): void;
  /**
   * The latest congestion event was spurious: every packet it declared lost
   * was acknowledged after all (reordering, not congestion;
   * cc/congestion-undo.ts). The window controllers restore the state they
   * had before its reduction; absent ('bbr', which cuts no window on one
   * loss event), nothing is undone.
   */
  undoCongestionEvent?(): void;
  /**
   * Another path of the connection stopped answering (suspect or failed)
   * and its bytes were re-sent here: this path now carries its load.
   */
  onTakeover?(now: number): void;
  /** Back to the initial window and slow start (a coupled one leaves its group's sums until its next ACK). */
  reset(): void;
  /** The path is gone for good: a coupled controller leaves its group. */
  dispose(): void;
  /**
   * The rate the path's pacer should send at, bytes per ms; null or absent:
   * the pacer derives one from the window and the smoothed RTT.
   */
  readonly pacingRate?: number | null;
  /** Once per ACK that acknowledged in-flight packets: its rate sample; `bytesInFlight` after the ACK. */
  onAckSample?(rs: RateSample, delivery: DeliveryRateEstimator, rtt: RttEstimator, bytesInFlight: number, now: number): void;
  /** An in-flight packet was declared lost (already counted by `delivery`). */
  onPacketLost?(p: PacketDeliveryState, delivery: DeliveryRateEstimator, now: number): void;
  /**
   * Set by the connection before each ACK sample: shared-bottleneck detection
   * has put another path on standby behind this one (both saw a standing
   * queue at one bottleneck: buffer-filling traffic shares it).
   */
  sharedBottleneckLead?: boolean;
}

/**
 * A controller for one path. `group`: the connection's CoupledGroup, which
 * 'lia' and 'olia' join (without one, they get a private group and behave as
 * Reno); ignored by 'cubic' and 'newreno'. `random`: random integers for
 * 'bbr''s probe timing (a fixed sequence when omitted).
 */
export function createCongestionController(
  name: CongestionControllerName,
  maxDatagramSize: number,
  group?: CoupledGroup,
  random?: RandomInt,
): CongestionController {
  switch (name) {
    case 'cubic':
      return new Cubic(maxDatagramSize);
    case 'newreno':
      return new NewReno(maxDatagramSize);
    case 'lia':
      return new Lia(maxDatagramSize, group ?? new CoupledGroup());
    case 'olia':
      return new Olia(maxDatagramSize, group ?? new CoupledGroup());
    case 'bbr':
      return new Bbr(maxDatagramSize, random !== undefined ? { random } : {});
    default:
      throw new RangeError(`unknown congestion controller: ${String(name)}`);
  }
}
