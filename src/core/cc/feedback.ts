/**
 * Congestion feedback of one path, in one place: what the path's controller
 * and delivery-rate estimator learn when a packet is sent, acknowledged or
 * lost, and in which order. The connection calls these three functions and
 * nothing else of the controller's feedback interface, so the controller's
 * hooks into the connection stay this narrow.
 *
 * Order (RFC 9002 Appendix A.7, OnAckReceived): packets an ACK declares lost
 * are handled ("OnPacketsLost") before the packets it acknowledges
 * ("OnPacketsAcked"); a model-based controller thus sees the loss before the
 * rate sample of the same ACK, as in Linux's tcp_ack.
 */
import type { CongestionController } from '../path/congestion.js';
import type { RttEstimator } from '../path/rtt.js';
import { persistentCongestion, type SentPacket, type SpuriousLoss } from '../path/sent-packets.js';
import type { CongestionUndo } from './congestion-undo.js';
import type { DeliveryRateEstimator } from './delivery-rate.js';
import type { SharedBottleneckDetector } from './shared-bottleneck.js';

/** What the feedback needs of a path. */
export interface CongestionPath {
  readonly id: number;
  readonly cc: CongestionController;
  readonly delivery: DeliveryRateEstimator;
  readonly rtt: RttEstimator;
  readonly sent: { readonly bytesInFlight: number };
  /** The connection's congestion group: its shared-bottleneck detector hears every RTT sample and loss. */
  readonly congestionGroup?: { readonly bottlenecks: SharedBottleneckDetector } | undefined;
  /** The reduction a spurious loss may undo (cc/congestion-undo.ts); without it nothing is undone. */
  readonly undo?: CongestionUndo;
}

/** An in-flight packet was just sent (and is already counted in bytes in flight). */
export function onPacketSent(path: CongestionPath, packet: SentPacket<unknown>, now: number): void {
  const inflight = path.sent.bytesInFlight;
  path.delivery.onPacketSent(packet, inflight);
  path.cc.onPacketSent(packet.size, now, inflight, path.delivery);
}

/**
 * Packets one ACK acknowledged (ascending). `flightBefore`: bytes in flight
 * before the ACK removed them (the window controllers' app-limited rule).
 */
export function onPacketsAcked(
  path: CongestionPath,
  acked: readonly SentPacket<unknown>[],
  flightBefore: number,
  now: number,
): void {
  const { cc, delivery, rtt } = path;
  delivery.beginAck();
  let any = false;
  for (const p of acked) {
    if (!p.inFlight) continue;
    any = true;
    delivery.onPacketAcked(p, now);
    cc.onAck(p.size, p.timeSent, now, rtt, flightBefore);
  }
  if (!any) return;
  const rs = delivery.endAck(rtt.hasSample ? rtt.min : 0);
  const group = path.congestionGroup;
  if (group !== undefined && cc.sharedBottleneckLead !== undefined) cc.sharedBottleneckLead = group.bottlenecks.isLead(path.id);
  cc.onAckSample?.(rs, delivery, rtt, path.sent.bytesInFlight, now);
  if (rtt.hasSample) path.congestionGroup?.bottlenecks.onRttSample(path.id, rs.rtt, rtt.min, now);
}

/**
 * Packets declared lost (ascending). Returns true when they started a new
 * congestion event (recovery period).
 */
export function onPacketsLost(path: CongestionPath, lost: readonly SentPacket<unknown>[], now: number, maxAckDelay: number): boolean {
  const { cc, delivery } = path;
  let latestInFlight = -Infinity;
  let inFlight = 0;
  for (const p of lost) {
    if (!p.inFlight) continue;
    inFlight++;
    delivery.onPacketLost(p);
    cc.onPacketLost?.(p, delivery, now);
    if (p.timeSent > latestInFlight) latestInFlight = p.timeSent;
  }
  if (latestInFlight === -Infinity) return false;
  const before = cc.inRecovery;
  const reduced = cc.onCongestionEvent(latestInFlight, now);
  const persistent = persistentCongestion(lost, path.rtt, maxAckDelay);
  if (persistent) cc.onPersistentCongestion();
  if (path.undo !== undefined && cc.undoCongestionEvent !== undefined) path.undo.onLosses(inFlight, now, reduced, persistent);
  const started = !before && cc.inRecovery;
  if (started) path.congestionGroup?.bottlenecks.onCongestionEvent(path.id);
  return started;
}

/**
 * Packets an ACK proved were not lost (path/sent-packets.ts). Handled
 * before the losses the same ACK declares: a reduction they prove
 * spurious is undone first, and a new one starts from the restored window.
 * Returns true when a reduction was undone.
 */
export function onSpuriousLosses(path: CongestionPath, spurious: readonly SpuriousLoss[]): boolean {
  const undo = path.undo;
  if (undo === undefined || path.cc.undoCongestionEvent === undefined || !undo.onSpurious(spurious)) return false;
  path.cc.undoCongestionEvent();
  return true;
}
