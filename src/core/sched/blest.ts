/**
 * BLEST (Ferlin, Alay, Mehani, Boreli: "BLEST: Blocking Estimation-based
 * MPTCP Scheduler for Heterogeneous Networks", IFIP Networking 2016): a
 * head-of-line-blocking-aware scheduler. When the fastest path has no
 * window room, it estimates how many bytes the fast path could send while
 * one packet crosses the slow path; if those bytes would not fit in the
 * receive window beside the slow path's in-flight data, sending on the slow
 * path would block the receiver, so it waits for the fast path instead.
 *
 * The paper's test (its eq. 2-3), in bytes:
 *   X = MSS_f · (cwnd_f + (rtt_s/rtt_f − 1)/2) · rtt_s/rtt_f     (cwnd_f in packets)
 *   skip the slow path if X · λ > |send window| − MSS_s · (inflight_s + 1)
 * λ starts at 1 and adapts: it grows when the estimate proved too small
 * (the sender got blocked by the window anyway) and shrinks otherwise.
 *
 * cwnd_f stands for what the fast path sends per round trip. With a
 * window-based controller that is its window; a rate-based one (BBR) keeps
 * its window at twice the BDP and paces at the bottleneck rate, so the
 * bytes it sends per round trip (rate × RTT, `bytesPerRound`) are used
 * instead: with the window, the estimate doubles and the slow path sits
 * idle even where it would not block the receiver.
 *
 * rtt_s stands for how long a packet on the slow path holds the receive
 * window. In MP-TCP the data ACK comes back on the slow subflow; here any
 * path carries DATA_ACK, so it comes back on the fast one after about
 * (rtt_s + rtt_f) / 2, which is used.
 */
import { bytesPerRound, canTake, eligible, type Scheduler, type SchedulerContext, type SchedulerPath } from './scheduler.js';

/** Step by which λ moves. */
const LAMBDA_STEP = 0.1;

export class BlestScheduler implements Scheduler {
  readonly name = 'blest';
  /** Scaling of the estimate (λ in the paper). */
  lambda = 1;
  /** Times a slow path was skipped to avoid blocking. */
  skips = 0;
  /** The last choice skipped a slow path to avoid blocking (Scheduler.heldForReceiveWindow). */
  heldForReceiveWindow = false;

  choose(paths: readonly SchedulerPath[], ctx: SchedulerContext): number | null {
    this.heldForReceiveWindow = false;
    const usable = eligible(paths);
    if (usable.length === 0) return null;
    let fast: SchedulerPath | null = null;
    for (const p of usable) if (fast === null || p.smoothedRtt < fast.smoothedRtt) fast = p;
    if (canTake(fast!, ctx.packetSize)) return fast!.id;
    // The fastest path is busy: the best other path that can take it.
    let slow: SchedulerPath | null = null;
    for (const p of usable) {
      if (p === fast || !canTake(p, ctx.packetSize)) continue;
      if (slow === null || p.smoothedRtt < slow.smoothedRtt) slow = p;
    }
    if (slow === null) return null;
    const mss = ctx.packetSize;
    // The data-level ACK of a packet on the slow path returns on the fast
    // one (any path carries DATA_ACK), so the window it holds frees after
    // half a slow and half a fast round trip, not a whole slow one.
    const ratio = (slow.smoothedRtt + fast!.smoothedRtt) / 2 / Math.max(fast!.smoothedRtt, 0.001);
    const cwndFast = bytesPerRound(fast!) / mss;
    const x = mss * (cwndFast + (ratio - 1) / 2) * ratio;
    const room = ctx.sendWindowSize - mss * (slow.bytesInFlight / mss + 1);
    if (x * this.lambda > room) {
      this.skips++;
      this.heldForReceiveWindow = true;
      return null;
    }
    return slow.id;
  }

  /** The sender was blocked by the receive window: the estimate was too small. */
  onWindowBlocked(): void {
    this.lambda = Math.min(this.lambda + LAMBDA_STEP, 4);
  }

  /** A round trip without blocking: relax towards 1. */
  onRoundWithoutBlock(): void {
    this.lambda = Math.max(this.lambda - LAMBDA_STEP, 1);
  }
}
