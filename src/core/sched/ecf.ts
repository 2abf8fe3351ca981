/**
 * ECF, Earliest Completion First (Lim, Nahum, Towsley, Gibbens: "ECF: An
 * MPTCP Path Scheduler to Manage Heterogeneous Paths", CoNEXT 2017): when
 * the fastest path has no room, compare when the data waiting to be sent
 * would be delivered if it waited for the fast path with when it would be
 * if the slow path took some now; if waiting finishes first, wait. It keeps
 * the tail of a transfer (and every message of a request/response
 * exchange) off a slow path whose one round trip is longer than the few
 * the fast path needs, and for bulk transfers behaves as min-RTT.
 *
 * The rule (the paper's Algorithm 1, as Linux MP-TCP's mptcp_ecf.c applies
 * it), with k the bytes waiting, f the fastest path, s the fastest path with
 * room, δ = max(σ_f, σ_s) and the hysteresis β = 0.25; each path takes at
 * least one window's worth of round trip:
 *
 *     k_f = max(k, cwnd_f), k_s = max(k, cwnd_s)
 *     if (1 + k_f / cwnd_f) · rtt_f < (1 + waiting · β) · (rtt_s + δ):
 *        if (k_s / cwnd_s) · rtt_s ≥ 2 · rtt_f + δ:  wait (waiting = 1)
 *        else: send on s
 *     else: send on s (waiting = 0)
 *
 * cwnd stands for what a path sends per round trip (`bytesPerRound`: the
 * window, or rate × RTT for a paced controller).
 */
import { bytesPerRound, canTake, eligible, type Scheduler, type SchedulerContext, type SchedulerPath } from './scheduler.js';

/** The paper's hysteresis on the waiting decision. */
export const ECF_BETA = 0.25;

export class EcfScheduler implements Scheduler {
  readonly name = 'ecf';
  /** The last decision was to wait for the fast path (the paper's `waiting`). */
  waiting = false;
  /** Times a slow path with room was left idle to wait for the fast one. */
  waits = 0;

  choose(paths: readonly SchedulerPath[], ctx: SchedulerContext): number | null {
    const usable = eligible(paths);
    if (usable.length === 0) return null;
    let fast: SchedulerPath | null = null;
    for (const p of usable) if (fast === null || p.smoothedRtt < fast.smoothedRtt) fast = p;
    const f = fast!;
    if (canTake(f, ctx.packetSize)) return f.id;
    let slow: SchedulerPath | null = null;
    for (const p of usable) {
      if (p === f || !canTake(p, ctx.packetSize)) continue;
      if (slow === null || p.smoothedRtt < slow.smoothedRtt) slow = p;
    }
    if (slow === null) return null;
    const k = Math.max(ctx.unsentBytes, ctx.packetSize);
    const cwndF = Math.max(bytesPerRound(f), ctx.packetSize);
    const cwndS = Math.max(bytesPerRound(slow), ctx.packetSize);
    const delta = Math.max(f.rttVar, slow.rttVar);
    const kF = Math.max(k, cwndF);
    const kS = Math.max(k, cwndS);
    if ((1 + kF / cwndF) * f.smoothedRtt < (1 + (this.waiting ? ECF_BETA : 0)) * (slow.smoothedRtt + delta)) {
      if ((kS / cwndS) * slow.smoothedRtt >= 2 * f.smoothedRtt + delta) {
        this.waiting = true;
        this.waits++;
        return null;
      }
      return slow.id;
    }
    this.waiting = false;
    return slow.id;
  }
}
