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
 *  - `reset()` when a failed path is re-validated.
 */
import { Cubic } from './cubic.js';
import { NewReno } from './new-reno.js';
import type { RttEstimator } from './rtt.js';

export { initialWindow, minimumWindow, isAppLimited } from './new-reno.js';

export type CongestionControllerName = 'cubic' | 'newreno';

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
  /** Back to the initial window and slow start. */
  reset(): void;
}

export function createCongestionController(
  name: CongestionControllerName,
  maxDatagramSize: number,
): CongestionController {
  switch (name) {
    case 'cubic':
      return new Cubic(maxDatagramSize);
    case 'newreno':
      return new NewReno(maxDatagramSize);
    default:
      throw new RangeError(`unknown congestion controller: ${String(name)}`);
  }
}
