/**
 * OLIA, the Opportunistic Linked-Increases Algorithm (Khalili, Gast,
 * Popovic, Le Boudec, "MPTCP is not Pareto-optimal", CoNEXT 2012;
 * draft-khalili-mptcp-congestion-control-05): like LIA it takes no more than
 * one TCP flow from a shared bottleneck, and it fixes LIA's flaw of keeping
 * traffic on a congested path (LIA is not Pareto-optimal).
 *
 * Everything but the congestion-avoidance increase is Reno (coupled-reno.ts).
 * The increase (draft §3, in packets; here scaled to bytes): for each ACK on
 * path r, increase w_r by
 *
 *     ( (w_r/rtt_r^2) / (sum_p(w_p/rtt_p))^2 + alpha_r/w_r ) * MSS_r * bytes_acked
 *
 * where, over the paths P taking part:
 *  - l_r = max(bytes acknowledged since the last loss on r, bytes between the
 *    last two losses on r) ("l1r" and "l2r" in the draft);
 *  - M = the paths with the largest window;
 *  - B = the "best" paths, those with the largest l_r / rtt_r^2;
 *  - alpha_r = 1 / (|P| * |B\M|) when r is in B\M (not empty),
 *    alpha_r = -1 / (|P| * |M|) when r is in M and B\M is not empty,
 *    alpha_r = 0 otherwise.
 * rtt is the smoothed RTT. As in Linux's mptcp_olia.c, the window never goes
 * below the minimum through a negative increase.
 */
import { CoupledGroup, type CoupledMember } from './coupled-group.js';
import { CoupledReno } from './coupled-reno.js';
import type { RttEstimator } from './rtt.js';

export class Olia extends CoupledReno {
  /** Algorithm name. */
  readonly name = 'olia' as const;
  /** l1r: bytes acknowledged since the last loss. */
  private sinceLoss = 0;
  /** l2r: bytes acknowledged between the last two losses. */
  private betweenLosses = 0;

  /** `group`: the connection's coupled paths; a private group (plain Reno) if omitted. */
  constructor(maxDatagramSize: number, group: CoupledGroup = new CoupledGroup()) {
    super(maxDatagramSize, group);
  }

  /** l_r: the inter-loss distance, bytes. */
  get interLossBytes(): number {
    return this.sinceLoss > this.betweenLosses ? this.sinceLoss : this.betweenLosses;
  }

  /** alpha_r of this path now (see the file comment). */
  get alpha(): number {
    const members = this.group.members;
    let n = 0;
    let maxW = 0;
    let bestQ = 0;
    for (const m of members) {
      if (!m.coupled) continue;
      n++;
      const w = Math.floor(m.cwndBytes);
      if (w > maxW) maxW = w;
      const q = quality(m);
      if (q > bestQ) bestQ = q;
    }
    if (n === 0) return 0;
    let inM = 0;
    let inBnotM = 0;
    for (const m of members) {
      if (!m.coupled) continue;
      if (Math.floor(m.cwndBytes) === maxW) inM++;
      else if (quality(m) === bestQ) inBnotM++;
    }
    if (inBnotM === 0) return 0;
    if (Math.floor(this.cwnd) === maxW) return -1 / (n * inM);
    if (quality(this) === bestQ) return 1 / (n * inBnotM);
    return 0;
  }

  override onAck(bytes: number, timeSent: number, now: number, rtt: RttEstimator, bytesInFlight: number): void {
    this.sinceLoss += bytes;
    super.onAck(bytes, timeSent, now, rtt, bytesInFlight);
  }

  protected override onLossEpoch(): void {
    // Linux shifts only when bytes were acknowledged since the previous loss.
    if (this.sinceLoss > 0) {
      this.betweenLosses = this.sinceLoss;
      this.sinceLoss = 0;
    }
  }

  override reset(): void {
    super.reset();
    this.sinceLoss = 0;
    this.betweenLosses = 0;
  }

  protected increase(bytesAcked: number): number {
    const w = this.cwnd;
    const r = this.srttMs;
    const sum = this.group.rateSum();
    const first = sum > 0 ? w / (r * r) / (sum * sum) : 1 / w;
    return (first + this.alpha / w) * this.maxDatagramSize * bytesAcked;
  }
}

/** l_r / rtt_r^2 of a member (0 for a member that is not OLIA). */
function quality(m: CoupledMember): number {
  const l = m instanceof Olia ? m.interLossBytes : 0;
  return l / (m.srttMs * m.srttMs);
}
