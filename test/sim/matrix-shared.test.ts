/**
 * The shared bottleneck (issues #3 and #12): two mpudp paths and one
 * single-path flow through one 50 Mbit/s bottleneck with a one-BDP queue.
 * Whatever the controller, the connection takes ≤ 60 % (one flow's share
 * with some slack): 'lia' and 'olia' by coupling every path's window,
 * 'cubic', 'newreno' and 'bbr' by shared-bottleneck detection, which finds
 * that the paths share the bottleneck and carries them as one flow there.
 * The competitor runs Reno against the Reno-based controllers and Cubic
 * against cubic and bbr. The paths have 1 ms of jitter, so seeds differ:
 * the share is judged on the mean of three seeds (each printed).
 */
import { describe, expect, it } from 'vitest';
import type { CongestionControlName } from '../../src/core/options.js';
import { defaultCompetitorCc } from '../../lab/sim/matrix.js';
import { DEFAULT_SCHEDULER, describeRun, mbps, run, TIMEOUT } from './matrix-run.js';

const SHARE_SEEDS = [1, 2, 3];
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

function shares(cc: CongestionControlName, options: { sharedBottleneckDetection?: boolean } = {}): number[] {
  const out: number[] = [];
  for (const seed of SHARE_SEEDS) {
    let grouped = 0;
    const { cfg, r } = run('shared', cc, DEFAULT_SCHEDULER, seed, {
      options,
      onEnd: (conn) => {
        grouped = conn.stats().sharedBottleneck.grouped;
      },
    });
    const msg = `${describeRun(cfg, r)}; competitor ${defaultCompetitorCc(cc)} ${mbps(r.competitorBps)}; share ${(r.share * 100).toFixed(1)} %; grouped ${grouped}`;
    console.log(msg);
    // Together the flows fill the bottleneck.
    expect(r.goodputBps + r.competitorBps, msg).toBeGreaterThan(0.9 * 50e6);
    // The uncoupled controllers get there by detection.
    if (cc !== 'lia' && cc !== 'olia' && options.sharedBottleneckDetection !== false) expect(grouped, msg).toBe(1);
    out.push(r.share);
  }
  return out;
}

describe('shared bottleneck with one single-path flow', () => {
  for (const cc of ['bbr', 'cubic', 'newreno', 'lia', 'olia'] as const) {
    it(`${cc} against ${defaultCompetitorCc(cc)}: the connection takes ≤ 60 %`, { timeout: TIMEOUT }, () => {
      const xs = shares(cc);
      const msg = `${cc} shares ${xs.map((x) => (x * 100).toFixed(1)).join(', ')} % (seeds ${SHARE_SEEDS.join(', ')})`;
      console.log(msg);
      expect(mean(xs), msg).toBeLessThanOrEqual(0.6);
      // No single seed far above; fair, but not starved either.
      for (const x of xs) {
        expect(x, msg).toBeLessThanOrEqual(0.65);
        expect(x, msg).toBeGreaterThan(0.33);
      }
    });
  }

  // The namespace lab's shared bottleneck (issue #12: bench section 10 measured 0.769 there):
  // 100 Mbit/s, 20 ms RTT, a one-BDP queue, the server sending against one Cubic flow, the
  // share taken from 5 s on as the lab does. Detection must group the paths well before the
  // end, and the connection then takes no more than one flow's share.
  it('bbr against cubic at the lab\'s shared bottleneck (100 Mbit/s, one-BDP queue, download): ≤ 60 %, grouped', { timeout: 3 * TIMEOUT }, () => {
    const xs: number[] = [];
    const standby: number[] = [];
    for (const seed of SHARE_SEEDS) {
      let sb = { grouped: 0, standbyMs: 0, split: 0 };
      const { cfg, r } = run('shared-lab', 'bbr', DEFAULT_SCHEDULER, seed, {
        onEnd: (conn) => {
          sb = conn.stats().sharedBottleneck;
        },
      });
      const msg = `${describeRun(cfg, r)}; competitor cubic ${mbps(r.competitorBps)}; share ${(r.share * 100).toFixed(1)} %; detection ${JSON.stringify(sb)}`;
      console.log(msg);
      expect(r.goodputBps + r.competitorBps, msg).toBeGreaterThan(0.9 * 100e6);
      expect(sb.grouped, msg).toBe(1);
      expect(sb.split, msg).toBe(0);
      // On standby for most of the 20 s run: at least 8 s in every seed, and
      // over half the run in the median seed (below). When detection groups
      // the paths depends on the whole packet sequence (a change of when the
      // first MTU probe goes moved seed 1's standby from 13.1 s to 9.0 s).
      expect(sb.standbyMs, msg).toBeGreaterThan(8_000);
      standby.push(sb.standbyMs);
      expect(r.share, msg).toBeLessThanOrEqual(0.6);
      xs.push(r.share);
    }
    console.log(`lab shared bottleneck, bbr: shares ${xs.map((x) => (x * 100).toFixed(1)).join(', ')} %; standby ${standby.map((x) => (x / 1000).toFixed(1)).join(', ')} s`);
    expect([...standby].sort((a, b) => a - b)[Math.floor(standby.length / 2)]).toBeGreaterThan(10_000);
  });

  it('without detection, uncoupled cubic takes two flows’ share (what detection prevents)', { timeout: TIMEOUT }, () => {
    const xs = shares('cubic', { sharedBottleneckDetection: false });
    const msg = `cubic without detection: shares ${xs.map((x) => (x * 100).toFixed(1)).join(', ')} %`;
    console.log(msg);
    expect(mean(xs), msg).toBeGreaterThan(0.62);
  });
});
