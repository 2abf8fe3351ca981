/**
 * LIA, the Linked Increases Algorithm of RFC 6356: coupled congestion
 * control for the paths of one connection, so that together they take no
 * more from a shared bottleneck than one TCP flow would, and move traffic
 * away from congested paths.
 *
 * Everything but the congestion-avoidance increase is Reno (coupled-reno.ts).
 * The increase, RFC 6356 §3: "For each ACK received on subflow i, increase
 * cwnd_i by:
 *
 *     min( alpha*bytes_acked*MSS_i/cwnd_total , bytes_acked*MSS_i/cwnd_i )"
 *
 * with (equation 2)
 *
 *     alpha = cwnd_total * max_i(cwnd_i/rtt_i^2) / (sum_i(cwnd_i/rtt_i))^2
 *
 * (Paraphrasing §3: the first term makes the whole connection take no more
 * than one TCP flow would on the best of its paths; the min with the second
 * term keeps every path no more aggressive than a TCP flow in the same
 * circumstances; §2 goals 1 and 2.) rtt_i is the smoothed RTT;
 * alpha is computed at every increase (RFC 6356 §4 allows computing it less
 * often; with at most a few paths the sum is cheap). A lone LIA path has
 * alpha = 1 and behaves exactly as Reno.
 */
import { CoupledGroup } from './coupled-group.js';
import { CoupledReno } from './coupled-reno.js';

export class Lia extends CoupledReno {
  /** Algorithm name. */
  readonly name = 'lia' as const;

  /** `group`: the connection's coupled paths; a private group (plain Reno) if omitted. */
  constructor(maxDatagramSize: number, group: CoupledGroup = new CoupledGroup()) {
    super(maxDatagramSize, group);
  }

  /** The current alpha of the group (for tests and stats). */
  get alpha(): number {
    return this.group.liaAlpha();
  }

  protected increase(bytesAcked: number): number {
    const mss = this.maxDatagramSize;
    const total = this.group.totalWindow();
    const own = (bytesAcked * mss) / this.cwnd;
    if (total <= 0) return own;
    const coupled = (this.group.liaAlpha() * bytesAcked * mss) / total;
    return coupled < own ? coupled : own;
  }
}
