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
 * Coupled controllers ('lia', 'olia') of one connection share one
 * CoupledGroup, passed to the factory; uncoupled ones ignore it.
 */
import { CoupledGroup } from './coupled-group.js';
import { Cubic } from './cubic.js';
import { Lia } from './lia.js';
import { NewReno } from './new-reno.js';
import { Olia } from './olia.js';
import type { RttEstimator } from './rtt.js';

export { CoupledGroup } from './coupled-group.js';

export { initialWindow, minimumWindow, isAppLimited } from './new-reno.js';

/** Every built-in controller, by name. 'lia' and 'olia' are coupled across a connection's paths. */
export const CONGESTION_CONTROLLER_NAMES = ['cubic', 'newreno', 'lia', 'olia'] as const;
export type CongestionControllerName = (typeof CONGESTION_CONTROLLER_NAMES)[number];

export interface CongestionController {
  /** Algorithm name. */
  readonly name: CongestionControllerName;
  /** Congestion window, bytes. */
  readonly window: number;
  /** Slow start threshold, bytes (Infinity before the first congestion event). */
  readonly slowStartThreshold: number;
  /** Between a congestion event and the ACK of a packet sent after it. */
  readonly inRecovery: boolean;
  /** An in-flight packet of `bytes` was sent at `now`. */
  onPacketSent(bytes: number, now: number): void;
  /**
   * `bytes` sent at `timeSent` were acknowledged at `now`. Acks of packets sent
   * before the current recovery period began are ignored. The window does not
   * grow while application-limited: `bytesInFlight` (before this ACK) < window/2.
   */
  onAck(bytes: number, timeSent: number, now: number, rtt: RttEstimator, bytesInFlight: number): void;
  /** Loss (or ECN-CE) of a packet sent at `timeSentOfLost`; at most one reduction per recovery period. */
  onCongestionEvent(timeSentOfLost: number, now: number): void;
  /** Persistent congestion established: window to the minimum (2 * max datagram size). */
  onPersistentCongestion(): void;
  /** Back to the initial window and slow start (a coupled one leaves its group's sums until its next ACK). */
  reset(): void;
  /** The path is gone for good: a coupled controller leaves its group. */
  dispose(): void;
}

/**
 * A controller for one path. `group`: the connection's CoupledGroup, which
 * 'lia' and 'olia' join (without one, they get a private group and behave as
 * Reno); ignored by 'cubic' and 'newreno'.
 */
export function createCongestionController(
  name: CongestionControllerName,
  maxDatagramSize: number,
  group?: CoupledGroup,
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
    default:
      throw new RangeError(`unknown congestion controller: ${String(name)}`);
  }
}
